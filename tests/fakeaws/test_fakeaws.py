#!/usr/bin/python3
"""Tests for fakeaws: awscli fidelity, SigV4 rejections, limits, faults and the control API.

Run: /usr/bin/python3 tests/fakeaws/test_fakeaws.py  (Debian's interpreter: python3-botocore, awscli)
awscli is always pointed at the fake with --endpoint-url and an environment that disables every
other credential/config source, so it never reaches the internet.
"""

import base64
import calendar
import datetime
import gzip
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock
from urllib.parse import quote, urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.auth import S3SigV4Auth, SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from client import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, SERVER, FakeAws, FakeAwsError  # noqa: E402

AWS = "/usr/bin/aws"
TOPIC = "arn:aws:sns:us-east-1:123456789012:agent-alarms"
CHANNEL = "arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def send(fake, method, path, headers, body=b"", timeout=10):
    """Raw HTTP/1.1 request with exactly the given headers (Host included)."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if "Content-Length" not in headers:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


class _S3Config:
    s3 = {"payload_signing_enabled": False}


def signed(fake, service, method, path, body=b"", headers=None, query="",
           creds=(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None), when=None, region="us-east-1",
           send_body=None, unsigned_payload=False):
    """Signs with botocore (optionally at a fixed time) and sends; returns (status, headers, body).
    send_body replaces the body after signing (tampering)."""
    if isinstance(body, str):
        body = body.encode()
    url = fake.endpoint + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if unsigned_payload:
        req.context["client_config"] = _S3Config()
    auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(*creds), service, region)
    if when is None:
        auth.add_auth(req)
    else:
        with mock.patch("botocore.auth.datetime") as fake_dt:
            fake_dt.datetime.utcnow.return_value = when
            auth.add_auth(req)
    hdrs = {"Host": "127.0.0.1:%d" % fake.port}
    hdrs.update({k: v for k, v in req.headers.items()})
    return send(fake, method, path + ("?" + query if query else ""), hdrs,
                body if send_body is None else send_body)


def form(params):
    return urlencode(params, quote_via=quote)


def metric_params(n=1, **extra):
    p = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "EC2Agent"}
    for i in range(1, n + 1):
        p["MetricData.member.%d.MetricName" % i] = "m%d" % i
        p["MetricData.member.%d.Value" % i] = str(i)
    p.update(extra)
    return p


def put_metrics(fake, params, **kw):
    return signed(fake, "monitoring", "POST", "/", form(params), {"Content-Type": FORM}, **kw)


def logs_call(fake, op, payload, **kw):
    return signed(fake, "logs", "POST", "/", json.dumps(payload),
                  {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": "Logs_20140328." + op}, **kw)


def audit_event(i, account="123456789012", **over):
    data = {"version": "1.0", "userIdentity": {"type": "LinuxUser", "principalId": "uid=0"},
            "eventSource": "auditd.ec2agent", "eventName": "USER_LOGIN",
            "eventTime": "2026-06-01T12:00:00Z", "UID": "1.0:%d" % i, "recipientAccountId": account}
    data.update(over)
    text = json.dumps(data)
    return {"id": "ev-%d" % i, "eventData": text,
            "eventDataChecksum": base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}


def put_audit(fake, events, **kw):
    return signed(fake, "cloudtrail-data", "POST", "/PutAuditEvents",
                  json.dumps({"auditEvents": events}), {"Content-Type": "application/json"},
                  query="channelArn=" + quote(CHANNEL, safe=""), **kw)


def error_code(body):
    text = body.decode()
    if text.startswith("{"):
        return json.loads(text).get("__type")
    start = text.find("<Code>")
    return text[start + 6:text.find("</Code>")] if start >= 0 else None


class FakeAwsCase(unittest.TestCase):
    """One server subprocess per class (startup costs ~0.5 s); POST /_fake/reset before each test
    returns it to the state of a fresh process."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAws(max_lifetime=300).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.reset()

    def assert_error(self, result, status, code, message_part=None):
        got_status, _, body = result
        self.assertEqual((got_status, error_code(body)), (status, code), body)
        if message_part:
            self.assertIn(message_part, body.decode())


# ---------------------------------------------------------------------------------------------
# (a) fidelity with awscli and with the specs' own signed examples
# ---------------------------------------------------------------------------------------------
class AwsCliFidelity(FakeAwsCase):
    def aws(self, *args, env_extra=None, check=True):
        env = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(),
               "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
               "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
               "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""}
        env.update(env_extra or {})
        proc = subprocess.run([AWS, "--endpoint-url", self.fake.endpoint, "--region", "us-east-1",
                               "--output", "json"] + list(args),
                              env=env, capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc

    def test_cloudwatch_put_metric_data(self):
        now = datetime.datetime.utcnow().replace(microsecond=0)
        data = [{"MetricName": "CPUUtilization", "Unit": "Percent", "Value": 12.5,
                 "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "Dimensions": [{"Name": "InstanceId", "Value": "i-0123456789abcdef0"}]},
                {"MetricName": "Latency", "Unit": "Milliseconds", "Values": [1.0, 2.5],
                 "Counts": [3, 4], "StorageResolution": 1}]
        self.aws("cloudwatch", "put-metric-data", "--namespace", "EC2Agent",
                 "--metric-data", json.dumps(data))
        (rec,) = self.fake.requests("monitoring", accepted=True)
        self.assertEqual(rec["operation"], "PutMetricData")
        self.assertEqual(rec["access_key_id"], DEFAULT_ACCESS_KEY)
        got = rec["data"]
        self.assertEqual(got["Namespace"], "EC2Agent")
        d1, d2 = got["datums"]
        self.assertEqual((d1["MetricName"], d1["Value"], d1["Unit"]), ("CPUUtilization", 12.5, "Percent"))
        self.assertEqual(d1["Dimensions"], [{"Name": "InstanceId", "Value": "i-0123456789abcdef0"}])
        self.assertEqual(d1["TimestampEpoch"], calendar.timegm(now.timetuple()))
        self.assertEqual((d2["Values"], d2["Counts"], d2["StorageResolution"]), ([1.0, 2.5], [3, 4], 1))

    def test_sns_publish(self):
        out = self.aws("sns", "publish", "--topic-arn", TOPIC, "--subject", 'ALARM: "cpu-high"',
                       "--message", '{"AlarmName":"cpu-high"}', "--message-attributes",
                       '{"severity":{"DataType":"String","StringValue":"critical"}}')
        message_id = json.loads(out.stdout)["MessageId"]
        (rec,) = self.fake.requests("sns", accepted=True)
        self.assertEqual(rec["data"]["MessageId"], message_id)
        self.assertEqual(rec["data"]["Message"], '{"AlarmName":"cpu-high"}')
        self.assertEqual(rec["data"]["Subject"], 'ALARM: "cpu-high"')
        self.assertEqual(rec["data"]["MessageAttributes"],
                         {"severity": {"DataType": "String", "StringValue": "critical"}})

    def test_logs_bootstrap_and_put(self):
        # (ResourceNotFoundException before creation is covered in Limits; awscli runs are slow.)
        self.aws("logs", "create-log-group", "--log-group-name", "/ec2/trail")
        self.aws("logs", "create-log-stream", "--log-group-name", "/ec2/trail",
                 "--log-stream-name", "i-1")
        now_ms = int(time.time() * 1000)
        events = [{"timestamp": now_ms - 1000, "message": "first"},
                  {"timestamp": now_ms, "message": "second \u00e9"}]
        out = self.aws("logs", "put-log-events", "--log-group-name", "/ec2/trail",
                       "--log-stream-name", "i-1", "--log-events", json.dumps(events))
        self.assertNotIn("rejectedLogEventsInfo", json.loads(out.stdout))
        recs = self.fake.requests("logs", operation="PutLogEvents", accepted=True)
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["data"]["logEvents"], events)
        self.assertEqual(self.fake.state()["log_groups"]["/ec2/trail"]["i-1"]["events"][1]["message"],
                         "second \u00e9")

    def test_s3api_put_object(self):
        payload = gzip.compress(b'{"Records":[]}')
        with tempfile.NamedTemporaryFile(suffix=".json.gz") as f:
            f.write(payload)
            f.flush()
            out = self.aws("s3api", "put-object", "--bucket", "trail-bucket", "--key",
                           "AWSLogs/123456789012/CloudTrail/us-east-1/2026/06/01/x.json.gz",
                           "--body", f.name, "--content-type", "application/json",
                           "--content-encoding", "gzip", "--server-side-encryption", "aws:kms",
                           "--ssekms-key-id", "alias/trail", "--metadata", "origin=fakeaws-test",
                           "--acl", "bucket-owner-full-control")
        self.assertEqual(json.loads(out.stdout)["ETag"], '"%s"' % hashlib.md5(payload).hexdigest())
        (rec,) = self.fake.requests("s3", accepted=True)
        self.assertEqual(rec["data"]["bucket"], "trail-bucket")
        self.assertEqual(rec["data"]["addressing"], "path")
        self.assertEqual(rec["data"]["metadata"], {"origin": "fakeaws-test"})
        self.assertEqual(rec["data"]["headers"]["x-amz-server-side-encryption"], "aws:kms")
        self.assertEqual(self.fake.s3_object("trail-bucket", rec["data"]["key"]), payload)

    def test_sts_assume_role_then_use_session_credentials(self):
        out = self.aws("sts", "assume-role", "--role-arn", "arn:aws:iam::123456789012:role/ec2-agent",
                       "--role-session-name", "trailwatch-1", "--duration-seconds", "900")
        creds = json.loads(out.stdout)["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        (rec,) = self.fake.requests("sts", accepted=True)
        self.assertEqual(rec["data"]["IssuedAccessKeyId"], creds["AccessKeyId"])
        self.assertEqual(rec["data"]["DurationSeconds"], 900)
        self.aws("cloudwatch", "put-metric-data", "--namespace", "EC2Agent", "--metric-name", "m",
                 "--value", "1", env_extra={"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                                            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                                            "AWS_SESSION_TOKEN": creds["SessionToken"]})
        (put,) = self.fake.requests("monitoring", accepted=True)
        self.assertEqual(put["access_key_id"], creds["AccessKeyId"])
        self.assertTrue(put["session_token"])

    def test_ssm_get_parameter(self):
        yaml_text = "metrics:\n  interval: 10s\n"
        self.fake.config(ssm_parameters={"/trailwatch/fleet": {"value": yaml_text, "type": "SecureString"},
                                         "plain": "v1"})
        out = self.aws("ssm", "get-parameter", "--name", "/trailwatch/fleet", "--with-decryption")
        p = json.loads(out.stdout)["Parameter"]
        self.assertEqual((p["Name"], p["Type"], p["Value"], p["Version"]),
                         ("/trailwatch/fleet", "SecureString", yaml_text, 1))
        self.assertEqual(p["ARN"], "arn:aws:ssm:us-east-1:123456789012:parameter/trailwatch/fleet")
        # Without decryption a SecureString is not its plaintext.
        out = self.aws("ssm", "get-parameter", "--name", "/trailwatch/fleet")
        self.assertNotEqual(json.loads(out.stdout)["Parameter"]["Value"], yaml_text)
        # By ARN, by version, and a second version.
        self.fake.config(ssm_parameters={"plain": "v2"})
        out = self.aws("ssm", "get-parameter", "--name", "arn:aws:ssm:us-east-1:123456789012:parameter/plain")
        self.assertEqual(json.loads(out.stdout)["Parameter"]["Value"], "v2")
        out = self.aws("ssm", "get-parameter", "--name", "plain:1")
        self.assertEqual(json.loads(out.stdout)["Parameter"]["Value"], "v1")
        recs = self.fake.requests("ssm", operation="GetParameter", accepted=True)
        self.assertEqual(len(recs), 4)  # every one signed and checked by botocore
        self.assertTrue(recs[0]["data"]["WithDecryption"])
        # Missing: ParameterNotFound, as awscli reports it.
        bad = self.aws("ssm", "get-parameter", "--name", "/nope", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("ParameterNotFound", bad.stderr)
        bad = self.aws("ssm", "get-parameter", "--name", "plain:9", check=False)
        self.assertIn("ParameterVersionNotFound", bad.stderr)

    def test_ssm_seed_size_limits(self):
        self.fake.config(ssm_parameters={"/std": "x" * 4096})
        with self.assertRaisesRegex(FakeAwsError, "maximum parameter value of 4096"):
            self.fake.config(ssm_parameters={"/std": "x" * 4097})
        self.fake.config(ssm_parameters={"/adv": {"value": "x" * 8192, "tier": "Advanced"}})
        with self.assertRaisesRegex(FakeAwsError, "maximum parameter value of 8192"):
            self.fake.config(ssm_parameters={"/adv": {"value": "x" * 8193, "tier": "Advanced"}})
        with self.assertRaisesRegex(FakeAwsError, "not valid"):
            self.fake.config(ssm_parameters={"/bad name": "x"})
        self.assertEqual(self.fake.state()["ssm_parameters"]["/adv"], {"version": 1, "type": "String",
                                                                      "tier": "Advanced"})


class BotocoreFidelity(FakeAwsCase):
    """cloudtrail-data is absent from awscli 2.9 / botocore 1.29: signed with botocore directly."""

    def test_put_audit_events_partial_success(self):
        good = audit_event(1)
        bad_sum = dict(audit_event(2), eventDataChecksum=base64.b64encode(b"x" * 32).decode())
        missing = audit_event(3)
        missing["eventData"] = json.dumps({"version": "1.0"})
        del missing["eventDataChecksum"]
        status, _, body = put_audit(self.fake, [good, bad_sum, missing])
        self.assertEqual(status, 200, body)
        resp = json.loads(body)
        self.assertEqual([s["id"] for s in resp["successful"]], ["ev-1"])
        self.assertEqual({f["id"]: f["errorCode"] for f in resp["failed"]},
                         {"ev-2": "InvalidChecksum", "ev-3": "FieldNotFound"})
        (rec,) = self.fake.requests("cloudtrail-data")
        self.assertEqual(rec["data"]["channelArn"], CHANNEL)
        self.assertEqual(rec["data"]["auditEvents"][0]["eventData"]["UID"], "1.0:1")
        self.assertEqual(rec["data"]["auditEvents"][0]["eventID"], resp["successful"][0]["eventID"])

    def test_json_protocol_gzip_put_metric_data(self):
        now = time.time()
        doc = {"Namespace": "EC2Agent", "MetricData": [
            {"MetricName": "m", "Value": 2.0, "Timestamp": now, "Unit": "Count"}]}
        status, headers, body = signed(
            self.fake, "monitoring", "POST", "/", gzip.compress(json.dumps(doc).encode()),
            {"Content-Type": "application/x-amz-json-1.0", "Content-Encoding": "gzip",
             "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData",
             "x-amzn-query-mode": "true"})
        self.assertEqual(status, 200, body)
        (rec,) = self.fake.requests("monitoring")
        self.assertEqual(rec["data"]["protocol"], "json")
        self.assertEqual(rec["content_encoding"], "gzip")
        self.assertEqual(rec["data"]["datums"][0]["Value"], 2.0)
        # Errors of the JSON protocol carry __type and the query-compatible header.
        doc["MetricData"][0]["Value"] = "NaN"
        status, headers, body = signed(
            self.fake, "monitoring", "POST", "/", json.dumps(doc),
            {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true",
             "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"})
        self.assertEqual((status, json.loads(body)["__type"]), (400, "InvalidParameterValue"))
        self.assertEqual(headers["x-amzn-query-error"], "InvalidParameterValue;Sender")

    def test_s3_virtual_host_style(self):
        body = b"hello"
        host = "vhost-bucket.s3.us-east-1.amazonaws.com"
        req = AWSRequest(method="PUT", url="http://%s/dir/obj.txt" % host, data=body,
                         headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(),
                                  "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()})
        S3SigV4Auth(Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY), "s3", "us-east-1").add_auth(req)
        hdrs = {"Host": host}
        hdrs.update(req.headers.items())
        status, _, resp = send(self.fake, "PUT", "/dir/obj.txt", hdrs, body)
        self.assertEqual(status, 200, resp)
        self.assertEqual(self.fake.s3_object("vhost-bucket", "dir/obj.txt"), body)
        self.assertEqual(self.fake.requests("s3")[0]["data"]["addressing"], "virtual-host")

    def at_server_time(self, iso):
        target = calendar.timegm(time.strptime(iso, "%Y%m%dT%H%M%SZ"))
        self.fake.skew(target + 30 - time.time())

    def test_spec_vector_put_metric_data(self):
        # aws-wire.md 1.7: exact request and signature from the spec, verified independently.
        self.at_server_time("20150830T123600Z")
        body = ("Action=PutMetricData&Version=2010-08-01&Namespace=EC2Agent&MetricData.member.1."
                "MetricName=CPUUtilization&MetricData.member.1.Dimensions.member.1.Name=InstanceId&"
                "MetricData.member.1.Dimensions.member.1.Value=i-0123456789abcdef0&MetricData.member."
                "1.Timestamp=2015-08-30T12%3A36%3A00Z&MetricData.member.1.Value=12.5&MetricData."
                "member.1.Unit=Percent").encode()
        headers = {"Host": "monitoring.us-east-1.amazonaws.com", "Content-Type": FORM,
                   "X-Amz-Date": "20150830T123600Z",
                   "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                   "monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
                   "509aad174b2e7610ab81d2852e26b0299b5a06793bce1db08c91cee23605ad93"}
        status, _, resp = send(self.fake, "POST", "/", headers, body)
        self.assertEqual(status, 200, resp)
        headers["Authorization"] = headers["Authorization"][:-1] + "4"
        self.assert_error(send(self.fake, "POST", "/", headers, body), 403, "SignatureDoesNotMatch")

    def test_spec_vector_put_audit_events(self):
        # aws-wire.md 4.4.
        self.at_server_time("20150830T123600Z")
        body = ('{"auditEvents":[{"id":"ip-10-0-0-1-4567","eventData":"{\\"version\\":\\"1.0\\",'
                '\\"userIdentity\\":{\\"type\\":\\"LinuxUser\\",\\"principalId\\":\\"uid=0\\"},'
                '\\"eventSource\\":\\"auditd.ec2agent\\",\\"eventName\\":\\"USER_LOGIN\\",'
                '\\"eventTime\\":\\"2015-08-30T12:35:59Z\\",\\"UID\\":\\"1440938159.123:4567\\",'
                '\\"recipientAccountId\\":\\"123456789012\\"}","eventDataChecksum":'
                '"kVWh2XkCKmi3XaOeJcrA2k/iVB7jFQlpT+KAVKVRyGQ="}]}').encode()
        headers = {"Host": "cloudtrail-data.us-east-1.amazonaws.com",
                   "Content-Type": "application/json", "X-Amz-Date": "20150830T123600Z",
                   "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                   "cloudtrail-data/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                   "Signature=7a39be6c086f0b9e31adbe791fafffd720afc3355984a86d900ee0ea37e274e3"}
        status, _, resp = send(self.fake, "POST", "/PutAuditEvents?channelArn=" + quote(CHANNEL, safe=""),
                               headers, body)
        self.assertEqual(status, 200, resp)
        self.assertEqual(json.loads(resp)["failed"], [])

    def test_spec_vector_put_log_events(self):
        # aws-wire-trail-sinks.md 1.8 (AWS documentation example keys).
        self.at_server_time("20260601T120512Z")
        self.fake.config(log_groups={"/ec2/auditd-trail": ["i-0123456789abcdef0"]})
        body = ('{"logGroupName":"/ec2/auditd-trail","logStreamName":"i-0123456789abcdef0","logEvents":'
                '[{"timestamp":1780315200123,"message":"{\\"eventVersion\\":\\"1.11\\",\\"eventTime\\":'
                '\\"2026-06-01T12:00:00Z\\",\\"eventSource\\":\\"auditd.linux\\",\\"eventName\\":'
                '\\"execve\\",\\"eventID\\":\\"77ecc2a1-4d15-59d3-925d-3d8c7256b829\\"}"}]}').encode()
        headers = {"Host": "logs.us-east-1.amazonaws.com",
                   "Content-Type": "application/x-amz-json-1.1", "X-Amz-Date": "20260601T120512Z",
                   "X-Amz-Target": "Logs_20140328.PutLogEvents",
                   "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260601/"
                   "us-east-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                   "x-amz-target, Signature=2a28bc76f0fa28ed3690221529b0a3abb83469359899c6ea6b996cd6a48bce89"}
        status, _, resp = send(self.fake, "POST", "/", headers, body)
        self.assertEqual(status, 200, resp)
        (rec,) = self.fake.requests("logs", accepted=True)
        self.assertEqual(rec["data"]["logEvents"][0]["timestamp"], 1780315200123)


# ---------------------------------------------------------------------------------------------
# (b) authentication failures
# ---------------------------------------------------------------------------------------------
class AuthRejections(FakeAwsCase):
    def test_wrong_secret(self):
        bad = (DEFAULT_ACCESS_KEY, "not-the-secret", None)
        self.assert_error(put_metrics(self.fake, metric_params(), creds=bad), 403, "SignatureDoesNotMatch")
        self.assert_error(logs_call(self.fake, "CreateLogGroup", {"logGroupName": "g"}, creds=bad),
                          400, "InvalidSignatureException")
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", b"x", creds=bad), 403,
                          "SignatureDoesNotMatch")
        self.assert_error(put_audit(self.fake, [audit_event(1)], creds=bad), 403,
                          "InvalidSignatureException")
        self.assertEqual(self.fake.requests(accepted=True), [])

    def test_tampered_body_after_signing(self):
        url = self.fake.endpoint + "/"
        req = AWSRequest(method="POST", url=url, data=form(metric_params()).encode(),
                         headers={"Content-Type": FORM})
        SigV4Auth(Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY), "monitoring", "us-east-1").add_auth(req)
        hdrs = {"Host": "127.0.0.1:%d" % self.fake.port}
        hdrs.update(req.headers.items())
        tampered = form(metric_params(2)).encode()
        self.assert_error(send(self.fake, "POST", "/", hdrs, tampered), 403, "SignatureDoesNotMatch")

    def test_unknown_access_key(self):
        creds = ("AKIDUNKNOWN", DEFAULT_SECRET_KEY, None)
        self.assert_error(put_metrics(self.fake, metric_params(), creds=creds), 403,
                          "InvalidClientTokenId")
        self.assert_error(logs_call(self.fake, "CreateLogGroup", {"logGroupName": "g"}, creds=creds),
                          400, "UnrecognizedClientException")
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", b"x", creds=creds), 403,
                          "InvalidAccessKeyId")

    def test_stale_date(self):
        stale = datetime.datetime.utcnow() - datetime.timedelta(minutes=6)
        self.assert_error(put_metrics(self.fake, metric_params(), when=stale), 400, "RequestExpired",
                          "Signature expired")
        self.assert_error(signed(self.fake, "sns", "POST", "/", form({"Action": "Publish",
                          "TopicArn": TOPIC, "Message": "m"}), {"Content-Type": FORM}, when=stale),
                          400, "RequestExpired")
        status, _, body = logs_call(self.fake, "CreateLogGroup", {"logGroupName": "g"}, when=stale)
        self.assertEqual((status, error_code(body)), (400, "InvalidSignatureException"))
        self.assertIn("Signature expired", json.loads(body)["message"])
        future = datetime.datetime.utcnow() + datetime.timedelta(minutes=6)
        self.assert_error(put_metrics(self.fake, metric_params(), when=future), 400, "RequestExpired",
                          "Signature not yet current")
        # S3 tolerates 15 minutes.
        self.assertEqual(signed(self.fake, "s3", "PUT", "/bkt/k", b"x", when=stale)[0], 200)
        very_stale = datetime.datetime.utcnow() - datetime.timedelta(minutes=16)
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", b"x", when=very_stale), 403,
                          "RequestTimeTooSkewed", "<MaxAllowedSkewMilliseconds>900000")

    def test_session_token_missing_wrong_and_expired(self):
        self.fake.add_credentials("ASIATEMP1", "tempsecret", session_token="tok-1", expires_in=3600)
        self.assert_error(put_metrics(self.fake, metric_params(), creds=("ASIATEMP1", "tempsecret", None)),
                          403, "InvalidClientTokenId")
        self.assert_error(put_metrics(self.fake, metric_params(),
                                      creds=("ASIATEMP1", "tempsecret", "tok-2")), 403, "InvalidClientTokenId")
        self.assertEqual(put_metrics(self.fake, metric_params(),
                                     creds=("ASIATEMP1", "tempsecret", "tok-1"))[0], 200)
        self.assert_error(logs_call(self.fake, "CreateLogGroup", {"logGroupName": "g"},
                                    creds=("ASIATEMP1", "tempsecret", None)), 400,
                          "UnrecognizedClientException")
        self.fake.expire_credentials("ASIATEMP1")
        self.assert_error(put_metrics(self.fake, metric_params(),
                                      creds=("ASIATEMP1", "tempsecret", "tok-1")), 403, "ExpiredToken")
        self.assert_error(logs_call(self.fake, "CreateLogGroup", {"logGroupName": "g"},
                                    creds=("ASIATEMP1", "tempsecret", "tok-1")), 400,
                          "ExpiredTokenException")

    def test_unsigned_request(self):
        status, _, body = send(self.fake, "POST", "/", {"Host": "x", "Content-Type": FORM,
                                                        "Authorization": "AWS4-HMAC-SHA256 nonsense"},
                               form(metric_params()).encode())
        self.assertEqual(status, 400)
        self.assertEqual(error_code(body), "IncompleteSignature")
        status, _, body = send(self.fake, "POST", "/", {
            "Host": "x", "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Logs_20140328.PutLogEvents"}, b"{}")
        self.assertEqual((status, error_code(body)), (400, "MissingAuthenticationTokenException"))

    def test_web_identity_is_unsigned(self):
        self.fake.config(web_identity_token="jwt-good")
        params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                  "RoleArn": "arn:aws:iam::123456789012:role/ec2-agent", "RoleSessionName": "s1",
                  "WebIdentityToken": "jwt-good", "DurationSeconds": "3600"}
        status, _, body = send(self.fake, "POST", "/", {"Host": "sts.us-east-1.amazonaws.com",
                                                        "Content-Type": FORM}, form(params).encode())
        self.assertEqual(status, 200, body)
        self.assertIn(b"<SessionToken>", body)
        params["WebIdentityToken"] = "jwt-bad"
        self.assert_error(send(self.fake, "POST", "/", {"Host": "h", "Content-Type": FORM},
                               form(params).encode()), 400, "InvalidIdentityToken")


# ---------------------------------------------------------------------------------------------
# (c) limits
# ---------------------------------------------------------------------------------------------
class Limits(FakeAwsCase):
    def test_put_metric_data_limits(self):
        self.assertEqual(put_metrics(self.fake, metric_params(1000))[0], 200)
        self.assert_error(put_metrics(self.fake, metric_params(1001)), 400, "InvalidParameterValue",
                          "must not have a size greater than 1000")
        dims = {"MetricData.member.1.Dimensions.member.%d.%s" % (i, k): "d%d" % i
                for i in range(1, 32) for k in ("Name", "Value")}
        self.assert_error(put_metrics(self.fake, metric_params(1, **dims)), 400, "InvalidParameterValue")
        values = {"MetricData.member.1.Values.member.%d" % i: str(i) for i in range(1, 152)}
        p = metric_params(1, **values)
        del p["MetricData.member.1.Value"]
        self.assert_error(put_metrics(self.fake, p), 400, "InvalidParameterValue")
        p = metric_params(1, **{"MetricData.member.1.Values.member.1": "1",
                                "MetricData.member.1.Counts.member.1": "1",
                                "MetricData.member.1.Counts.member.2": "1"})
        del p["MetricData.member.1.Value"]
        self.assert_error(put_metrics(self.fake, p), 400, "InvalidParameterValue", "same size")
        self.assert_error(put_metrics(self.fake, metric_params(1, **{"MetricData.member.1.Value": "NaN"})),
                          400, "InvalidParameterValue")
        self.assert_error(put_metrics(self.fake, metric_params(1, **{"MetricData.member.1.Value": "1e200"})),
                          400, "InvalidParameterValue")
        self.assert_error(put_metrics(self.fake, metric_params(1, **{"MetricData.member.1.Unit": "percent"})),
                          400, "InvalidParameterValue")
        old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 15 * 86400))
        self.assert_error(put_metrics(self.fake, metric_params(1, **{"MetricData.member.1.Timestamp": old})),
                          400, "InvalidParameterValue", "two weeks")
        self.assert_error(put_metrics(self.fake, metric_params(1, Namespace="AWS/EC2")), 400,
                          "InvalidParameterValue")
        p = metric_params(1)
        del p["Namespace"]
        self.assert_error(put_metrics(self.fake, p), 400, "MissingParameter")
        self.assertEqual(len(self.fake.requests("monitoring", accepted=False)), 10)

    def test_put_log_events_rules(self):
        self.fake.config(log_groups={"g": ["s"]})
        now = int(time.time() * 1000)
        base = {"logGroupName": "g", "logStreamName": "s"}
        unordered = dict(base, logEvents=[{"timestamp": now, "message": "b"},
                                          {"timestamp": now - 5, "message": "a"}])
        self.assert_error(logs_call(self.fake, "PutLogEvents", unordered), 400,
                          "InvalidParameterException", "chronological")
        too_many = dict(base, logEvents=[{"timestamp": now, "message": "x"}] * 10001)
        self.assert_error(logs_call(self.fake, "PutLogEvents", too_many), 400, "InvalidParameterException")
        # 1,048,576 bytes incl. 26 per event: exactly at the limit passes, one byte more fails.
        n = 4
        size = (1048576 - 26 * n) // n
        at_limit = [{"timestamp": now, "message": "x" * size} for _ in range(n)]
        at_limit[-1]["message"] += "x" * ((1048576 - 26 * n) - size * n)
        self.assertEqual(logs_call(self.fake, "PutLogEvents", dict(base, logEvents=at_limit))[0], 200)
        at_limit[-1]["message"] += "x"
        self.assert_error(logs_call(self.fake, "PutLogEvents", dict(base, logEvents=at_limit)), 400,
                          "InvalidParameterException", "Upload too large")
        span = dict(base, logEvents=[{"timestamp": now - 25 * 3600 * 1000, "message": "a"},
                                     {"timestamp": now, "message": "b"}])
        self.assert_error(logs_call(self.fake, "PutLogEvents", span), 400, "InvalidParameterException",
                          "24 hours")
        mixed = dict(base, logEvents=[{"timestamp": now - 15 * 86400 * 1000, "message": "old"},
                                      {"timestamp": now, "message": "ok"},
                                      {"timestamp": now + 3 * 3600 * 1000, "message": "new"}])
        status, _, body = logs_call(self.fake, "PutLogEvents", mixed)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["rejectedLogEventsInfo"],
                         {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2})
        rec = self.fake.requests("logs", accepted=True)[-1]
        self.assertEqual([e["message"] for e in rec["data"]["logEvents"]], ["ok"])
        missing = dict(base, logStreamName="nope", logEvents=[{"timestamp": now, "message": "x"}])
        self.assert_error(logs_call(self.fake, "PutLogEvents", missing), 400,
                          "ResourceNotFoundException", "log stream does not exist")

    def test_sns_limits(self):
        def publish(**p):
            params = {"Action": "Publish", "Version": "2010-03-31", "TopicArn": TOPIC}
            params.update(p)
            return signed(self.fake, "sns", "POST", "/", form(params), {"Content-Type": FORM})
        self.assertEqual(publish(Message="x" * 262144)[0], 200)
        self.assert_error(publish(Message="x" * 262145), 400, "InvalidParameter", "Message too long")
        attr = {"MessageAttributes.entry.1.Name": "sev",
                "MessageAttributes.entry.1.Value.DataType": "String",
                "MessageAttributes.entry.1.Value.StringValue": "crit"}
        self.assert_error(publish(Message="x" * (262144 - 10), **attr), 400, "InvalidParameter",
                          "Message too long")
        self.assertEqual(publish(Message="x" * (262144 - 13), **attr)[0], 200)
        self.assert_error(publish(Message="m", Subject="line\nbreak"), 400, "InvalidParameter")
        self.assert_error(publish(Message="m", Subject="s" * 100), 400, "InvalidParameter")
        bad_name = dict(attr, **{"MessageAttributes.entry.1.Name": "AWS.reserved"})
        self.assert_error(publish(Message="m", **bad_name), 400, "ParameterValueInvalid")
        fifo = TOPIC + ".fifo"
        self.assert_error(publish(Message="m", TopicArn=fifo, MessageDeduplicationId="d1"), 400,
                          "InvalidParameter", "MessageGroupId")
        status, _, body = publish(Message="m", TopicArn=fifo, MessageGroupId="g",
                                  MessageDeduplicationId="d1")
        self.assertEqual(status, 200, body)
        self.assertIn(b"<SequenceNumber>", body)
        self.assert_error(publish(Message='{"email":"x"}', MessageStructure="json"), 400,
                          "InvalidParameter", "No default entry")

    def test_put_audit_events_limits(self):
        self.assert_error(put_audit(self.fake, [audit_event(i) for i in range(101)]), 400,
                          "ValidationException")
        self.assert_error(put_audit(self.fake, [audit_event(1), audit_event(1)]), 400,
                          "DuplicatedAuditEventId")
        bad_id = dict(audit_event(1), id="has:colon")
        self.assert_error(put_audit(self.fake, [bad_id]), 400, "ValidationException")
        status, _, body = put_audit(self.fake, [audit_event(1, account="999999999999"),
                                                audit_event(2, eventName="x" * 1025),
                                                audit_event(3, additionalEventData={"a": "x" * 30000})])
        self.assertEqual(status, 200, body)
        self.assertEqual([f["errorCode"] for f in json.loads(body)["failed"]],
                         ["InvalidRecipient", "FieldTooLong", "FieldTooLong"])
        status, _, body = signed(self.fake, "cloudtrail-data", "POST", "/PutAuditEvents",
                                 json.dumps({"auditEvents": [audit_event(1)]}),
                                 {"Content-Type": "application/json"}, query="channelArn=bad%20arn")
        self.assertEqual((status, error_code(body)), (400, "InvalidChannelARN"))

    def test_s3_integrity_headers(self):
        body = b"payload"
        # S3 signs the payload only through x-amz-content-sha256: swap the body after signing.
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", b"0ther!!", send_body=body),
                          400, "XAmzContentSHA256Mismatch")
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", body,
                                 {"Content-MD5": base64.b64encode(hashlib.md5(b"other").digest()).decode()}),
                          400, "BadDigest")
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", body, {"Content-MD5": "zz"}),
                          400, "InvalidDigest")
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", body,
                                 {"x-amz-server-side-encryption": "DES"}), 400, "InvalidArgument")
        self.assertEqual(signed(self.fake, "s3", "PUT", "/bkt/k", body, {"If-None-Match": "*"},
                                unsigned_payload=True)[0], 200)
        self.assertEqual(self.fake.requests("s3", accepted=True)[0]["data"]["size"], len(body))
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", body, {"If-None-Match": "*"}),
                          412, "PreconditionFailed")


# ---------------------------------------------------------------------------------------------
# (d) faults
# ---------------------------------------------------------------------------------------------
class Faults(FakeAwsCase):
    def test_throttle_next_n_requests(self):
        self.fake.throttle("monitoring", count=2)
        self.assert_error(put_metrics(self.fake, metric_params()), 400, "Throttling")
        self.assert_error(put_metrics(self.fake, metric_params()), 400, "Throttling")
        self.assertEqual(put_metrics(self.fake, metric_params())[0], 200)
        self.fake.throttle("s3")
        self.assert_error(signed(self.fake, "s3", "PUT", "/bkt/k", b"x"), 503, "SlowDown")
        self.fake.throttle("sns")
        self.assert_error(signed(self.fake, "sns", "POST", "/", form({"Action": "Publish",
                          "TopicArn": TOPIC, "Message": "m"}), {"Content-Type": FORM}), 429, "Throttled")
        self.fake.throttle("cloudtrail-data", per_event=True)
        status, _, body = put_audit(self.fake, [audit_event(1)])
        self.assertEqual(json.loads(body)["failed"][0]["errorCode"], "Throttling")
        faults = self.fake.faults()
        self.assertEqual(faults["rules"][0]["triggered"], 2)
        self.assertEqual(faults["rules"][0]["remaining"], 0)
        self.assertEqual(faults["counters"]["monitoring"],
                         {"requests": 3, "accepted": 1, "rejected": 2, "faulted": 2})

    def test_server_errors(self):
        self.fake.fail("logs", status=500)
        self.fake.fail("logs", status=503)
        self.assert_error(logs_call(self.fake, "CreateLogGroup", {"logGroupName": "g"}), 500,
                          "ServiceUnavailableException")
        self.assert_error(logs_call(self.fake, "CreateLogGroup", {"logGroupName": "g"}), 503,
                          "ServiceUnavailableException")
        self.assertEqual(logs_call(self.fake, "CreateLogGroup", {"logGroupName": "g"})[0], 200)
        self.fake.fail("*", status=500)
        self.assert_error(put_metrics(self.fake, metric_params()), 500, "InternalServiceError")

    def test_delay(self):
        self.fake.delay("monitoring", delay_ms=400)
        start = time.monotonic()
        self.assertEqual(put_metrics(self.fake, metric_params())[0], 200)
        self.assertGreaterEqual(time.monotonic() - start, 0.4)

    def test_drop_connection(self):
        self.fake.drop("monitoring")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            put_metrics(self.fake, metric_params())
        self.assertEqual(put_metrics(self.fake, metric_params())[0], 200)
        self.assertEqual(self.fake.requests("monitoring")[0]["error_code"], "fault:drop")

    def test_clock_skew(self):
        self.fake.skew(900)
        status, headers, body = put_metrics(self.fake, metric_params())
        self.assertEqual((status, error_code(body)), (400, "RequestExpired"))
        server_date = email_date(headers["date"])
        self.assertAlmostEqual(server_date - time.time(), 900, delta=5)
        later = datetime.datetime.utcnow() + datetime.timedelta(seconds=900)
        self.assertEqual(put_metrics(self.fake, metric_params(), when=later)[0], 200)
        self.fake.clear_faults()
        self.assertEqual(put_metrics(self.fake, metric_params())[0], 200)

    def test_down_and_up(self):
        self.fake.down("sns")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            signed(self.fake, "sns", "POST", "/", form({"Action": "Publish", "TopicArn": TOPIC,
                                                        "Message": "m"}), {"Content-Type": FORM})
        self.assertEqual(put_metrics(self.fake, metric_params())[0], 200)  # other services work
        self.fake.up("sns")
        self.assertEqual(signed(self.fake, "sns", "POST", "/", form({"Action": "Publish",
                         "TopicArn": TOPIC, "Message": "m"}), {"Content-Type": FORM})[0], 200)

    def test_imds_flow_and_rotation(self):
        def get(path, token=None):
            h = {"Host": "169.254.169.254"}
            if token:
                h["X-aws-ec2-metadata-token"] = token
            return send(self.fake, "GET", path, h)
        self.assertEqual(get("/latest/meta-data/instance-id")[0], 401)
        status, headers, token = send(self.fake, "PUT", "/latest/api/token",
                                      {"Host": "169.254.169.254",
                                       "X-aws-ec2-metadata-token-ttl-seconds": "300"})
        self.assertEqual((status, headers["x-aws-ec2-metadata-token-ttl-seconds"]), (200, "300"))
        token = token.decode()
        self.assertEqual(send(self.fake, "PUT", "/latest/api/token", {
            "Host": "h", "X-aws-ec2-metadata-token-ttl-seconds": "21601"})[0], 400)
        self.assertEqual(get("/latest/meta-data/instance-id", token)[2], b"i-0123456789abcdef0")
        self.assertEqual(get("/latest/meta-data/placement/region", token)[2], b"us-east-1")
        self.assertEqual(get("/latest/meta-data/tags/instance/Name", token)[2], b"trailwatch-test")
        doc = json.loads(get("/latest/dynamic/instance-identity/document", token)[2])
        self.assertEqual(doc["accountId"], "123456789012")
        role = get("/latest/meta-data/iam/security-credentials/", token)[2].decode()
        creds = json.loads(get("/latest/meta-data/iam/security-credentials/" + role, token)[2])
        self.assertEqual(creds["Code"], "Success")
        use = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"])
        self.assertEqual(put_metrics(self.fake, metric_params(), creds=use)[0], 200)
        rotated = self.fake.rotate_imds(expire_old=True)
        self.assertNotEqual(rotated["AccessKeyId"], creds["AccessKeyId"])
        again = json.loads(get("/latest/meta-data/iam/security-credentials/" + role, token)[2])
        self.assertEqual(again["AccessKeyId"], rotated["AccessKeyId"])
        self.assert_error(put_metrics(self.fake, metric_params(), creds=use), 403, "ExpiredToken")
        self.fake.config(imds_v1_enabled=True, imds_token_status=403)
        self.assertEqual(send(self.fake, "PUT", "/latest/api/token", {
            "Host": "h", "X-aws-ec2-metadata-token-ttl-seconds": "60"})[0], 403)
        self.assertEqual(get("/latest/meta-data/instance-id")[0], 200)
        self.assertEqual(get("/latest/meta-data/instance-id", "bogus")[0], 401)

    def test_container_credentials(self):
        self.fake.config(container_auth_token="secret-token")
        self.assertEqual(send(self.fake, "GET", "/_fake/container-creds", {"Host": "h"})[0], 401)
        status, _, body = send(self.fake, "GET", "/_fake/container-creds",
                               {"Host": "h", "Authorization": "secret-token"})
        self.assertEqual(status, 200)
        creds = json.loads(body)
        use = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"])
        self.assertEqual(put_metrics(self.fake, metric_params(), creds=use)[0], 200)


def email_date(text):
    import email.utils
    return email.utils.parsedate_to_datetime(text).timestamp()


# ---------------------------------------------------------------------------------------------
# control API and process lifecycle
# ---------------------------------------------------------------------------------------------
class ControlAndLifecycle(FakeAwsCase):
    def test_keep_alive_and_reset(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=5)
        for _ in range(3):
            conn.request("GET", "/_fake/health")
            resp = conn.getresponse()
            self.assertEqual(json.loads(resp.read())["port"], self.fake.port)
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=5)
        conn.request("POST", "/", body=b"Action=Publish", headers={"Content-Type": FORM})
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(len(resp.headers.get_all("Date")), 1)
        self.assertIsNotNone(resp.headers["x-amzn-RequestId"])
        conn.request("GET", "/_fake/health")  # same connection still usable after an error
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        put_metrics(self.fake, metric_params())
        self.assertEqual([r["service"] for r in self.fake.requests()], ["sts", "monitoring"])
        self.fake.reset()
        self.assertEqual(self.fake.requests(), [])

    def test_requests_filters(self):
        put_metrics(self.fake, metric_params())
        put_metrics(self.fake, metric_params(1001))
        first = self.fake.requests()[0]["seq"]
        self.assertEqual(len(self.fake.requests("monitoring", accepted=True)), 1)
        self.assertEqual(len(self.fake.requests("monitoring", accepted=False)), 1)
        self.assertEqual(len(self.fake.requests(since=first)), 1)
        self.assertEqual(self.fake.requests("sns"), [])
        self.assertEqual(len(self.fake.wait_for("monitoring", count=2, timeout=2)), 2)
        self.assertEqual(self.fake.wait_for("sns", count=1, timeout=0.2), [])
        env = self.fake.env()
        self.assertEqual(env["AWS_EC2_METADATA_SERVICE_ENDPOINT"], self.fake.endpoint)
        self.assertEqual(env["AWS_EC2_METADATA_DISABLED"], "true")

    def test_bad_fault_spec_rejected(self):
        with self.assertRaises(FakeAwsError):
            self.fake.add_fault("explode", "monitoring")
        with self.assertRaises(FakeAwsError):
            self.fake.add_fault("throttle", "ec2")
        with self.assertRaises(FakeAwsError):
            self.fake.skew("ten")
        with self.assertRaises(FakeAwsError):
            self.fake.config(no_such_setting=1)
        self.assertEqual(self.fake.faults()["rules"], [])

    def test_shutdown_endpoint_and_state_file(self):
        with tempfile.TemporaryDirectory() as d:
            state = os.path.join(d, "state.json")
            fake = FakeAws(state_file=state).start()
            try:
                put_metrics(fake, metric_params())
                fake.shutdown()
                self.assertEqual(fake.proc.wait(10), 0)
                with open(state) as f:
                    doc = json.load(f)
                self.assertEqual(doc["port"], fake.port)
                self.assertEqual(doc["requests"][0]["operation"], "PutMetricData")
            finally:
                fake.stop()

    def test_max_lifetime_and_sigterm(self):
        proc = subprocess.Popen(["/usr/bin/python3", SERVER, "--max-lifetime", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        self.assertRegex(line, r"^FAKEAWS_PORT=\d+$")
        self.assertEqual(proc.wait(10), 0)
        proc.stdout.close()
        proc = subprocess.Popen(["/usr/bin/python3", SERVER], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)
        proc.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
