#!/usr/bin/python3
"""fakeaws: a local AWS-compatible endpoint for trailwatch's integration tests.

One HTTP/1.1 server on 127.0.0.1 serves CloudWatch PutMetricData (query + awsJson1_0), CloudWatch
Logs (awsJson1_1), CloudTrail Data PutAuditEvents (rest-json), S3 PutObject, SNS Publish, STS
AssumeRole / AssumeRoleWithWebIdentity, IMDSv2 and ECS-style container credentials.  Every signed
request is verified with botocore's own SigV4 signer (an implementation independent of the agent's).
Accepted and rejected requests are recorded; faults are injected through the /_fake/ control API.
See README.md next to this file.

Run with Debian's interpreter (python3-botocore): /usr/bin/python3 tests/fakeaws/fakeaws.py
"""

import argparse
import base64
import binascii
import datetime
import email.utils
import hashlib
import hmac
import http.server
import json
import math
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
import zlib
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

# ---------------------------------------------------------------------------------------------
# Limits (AWS documentation pages; prefix https://docs.aws.amazon.com/)
# ---------------------------------------------------------------------------------------------
DOC_PUT_METRIC_DATA = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html"
kMaxDatumsPerRequest = 1000          # DOC_PUT_METRIC_DATA
kMaxDimensionsPerDatum = 30          # DOC_PUT_METRIC_DATA
kMaxValuesPerDatum = 150             # DOC_PUT_METRIC_DATA
kMaxEntityMetricData = 2             # DOC_PUT_METRIC_DATA
kMaxPutMetricDataBytes = 1024 * 1024  # DOC_PUT_METRIC_DATA; pre/post gzip unconfirmed -> uncompressed
kMetricValueMaxMagnitude = 2.0 ** 360  # DOC_PUT_METRIC_DATA "range of -2^360 to 2^360"
kMetricValueMinMagnitude = 2.0 ** -260  # older doc text: 8.515920e-109 (2^-360 base 2 listed); unconfirmed
kMetricMaxPastSeconds = 14 * 24 * 3600  # DOC_PUT_METRIC_DATA "two weeks before"
kMetricMaxFutureSeconds = 2 * 3600      # DOC_PUT_METRIC_DATA "2 hours after"
kMetricUnits = frozenset(
    ["Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "Count/Second", "None"]
    + [p + u + s for u in ("bytes", "bits") for p in ("Kilo", "Mega", "Giga", "Tera")
       for s in ("", "/Second")]
    + ["Bytes", "Bits", "Bytes/Second", "Bits/Second"])  # DOC_PUT_METRIC_DATA (27 values)

DOC_PUT_LOG_EVENTS = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html"
kMaxLogEventsPerBatch = 10000        # DOC_PUT_LOG_EVENTS
kMaxLogBatchBytes = 1048576          # DOC_PUT_LOG_EVENTS (sum of UTF-8 messages + 26 bytes/event)
kLogEventOverheadBytes = 26          # DOC_PUT_LOG_EVENTS
kMaxLogEventBytes = 1048576          # DOC_PUT_LOG_EVENTS (2026 model: 1 MB; older docs 256 KB)
kMaxLogBatchSpanMs = 24 * 3600 * 1000  # DOC_PUT_LOG_EVENTS
kLogMaxPastMs = 14 * 24 * 3600 * 1000  # DOC_PUT_LOG_EVENTS
kLogMaxFutureMs = 2 * 3600 * 1000      # DOC_PUT_LOG_EVENTS
kLogNameRe = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")  # API_CreateLogGroup.html

DOC_PUT_AUDIT_EVENTS = "https://docs.aws.amazon.com/awscloudtraildata/latest/APIReference/API_PutAuditEvents.html"
DOC_AUDIT_SCHEMA = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/query-integration-event-schema.html"
kMaxAuditEventsPerRequest = 100      # DOC_PUT_AUDIT_EVENTS
kMaxAuditRequestBytes = 1024 * 1024  # DOC_PUT_AUDIT_EVENTS "1 MB"
kAuditIdRe = re.compile(r"^[-_A-Za-z0-9]{1,128}$")  # DOC_PUT_AUDIT_EVENTS
kAuditExternalIdRe = re.compile(r"^[\w+=,.@:/-]{2,1224}$")  # DOC_PUT_AUDIT_EVENTS
kMaxAuditJsonFieldBytes = 100 * 1024     # DOC_AUDIT_SCHEMA requestParameters/responseElements 100 kB
kMaxAuditAdditionalBytes = 28 * 1024     # DOC_AUDIT_SCHEMA additionalEventData 28 kB
# Per-event eventData cap beyond field limits: unconfirmed in the spec; AWS documents none, so only
# the 1 MB request limit applies.

DOC_SNS_PUBLISH = "https://docs.aws.amazon.com/sns/latest/api/API_Publish.html"
DOC_SNS_ATTRIBUTES = "https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html"
kMaxSnsMessageBytes = 262144         # DOC_SNS_PUBLISH (includes message attributes)
kMaxSnsSubjectChars = 100            # DOC_SNS_PUBLISH "less than 100 characters"
kMaxSnsAttributeNameChars = 256      # DOC_SNS_ATTRIBUTES
kMaxSnsGroupIdChars = 128            # DOC_SNS_PUBLISH

DOC_S3_PUT = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html"
kMaxS3SinglePutBytes = 5 * 1024 ** 3  # DOC_S3_PUT
# SSM Parameter Store. DOC_SSM_TIERS = https://docs.aws.amazon.com/systems-manager/latest/userguide/
# parameter-store-advanced-parameters.html ; DOC_SSM_GET = .../APIReference/API_GetParameter.html
kSsmStandardValueLimit = 4096        # DOC_SSM_TIERS "4 KB" (standard)
kSsmAdvancedValueLimit = 8192        # DOC_SSM_TIERS "8 KB" (advanced)
kSsmMaxNameLength = 2048             # DOC_SSM_GET Name: 1-2048 (ARN included)
kSsmNameRe = re.compile(r"^[A-Za-z0-9_.\-/]+$")
kSsmTypes = ("String", "StringList", "SecureString")
kS3MaxSkewSeconds = 15 * 60          # S3 RequestTimeTooSkewed MaxAllowedSkewMilliseconds=900000

DOC_SIGV4 = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html"
kMaxSkewSeconds = 5 * 60             # DOC_SIGV4; query services report "(... - 5 min.)"

DOC_STS = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"
kStsMinDuration = 900                # DOC_STS
kStsMaxDuration = 43200              # DOC_STS

DOC_IMDS = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html"
kImdsMaxTokenTtl = 21600             # DOC_IMDS

DEFAULT_ACCESS_KEY = "AKIDEXAMPLE"
DEFAULT_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# The AWS documentation's example keys (used by aws-wire-trail-sinks.md's vectors).
DOC_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
DOC_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

SERVICES = ("monitoring", "logs", "cloudtrail-data", "s3", "sns", "sts", "ssm", "imds", "ecs")

XMLNS = {
    "monitoring": "http://monitoring.amazonaws.com/doc/2010-08-01/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


def log(msg):
    sys.stderr.write("fakeaws: %s\n" % msg)
    sys.stderr.flush()


def iso8601(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def amz_date(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def parse_amz_date(text):
    try:
        dt = datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def parse_iso8601(text):
    try:
        dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def uri_encode(text):
    return quote(text, safe="-_.~")


class AwsError(Exception):
    """An error answered in the protocol's own shape."""

    def __init__(self, status, code, message, xml_extra="", headers=None):
        super().__init__("%s: %s" % (code, message))
        self.status = status
        self.code = code
        self.message = message
        self.xml_extra = xml_extra
        self.headers = headers or {}


class DropConnection(Exception):
    """Close the socket without any response."""


class Response:
    def __init__(self, status=200, body=b"", content_type="text/plain", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.content_type = content_type
        self.headers = headers or {}


# ---------------------------------------------------------------------------------------------
# Shared state
# ---------------------------------------------------------------------------------------------
class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.start = time.time()
        self.reset()

    @staticmethod
    def default_config():
        return {
            "imds_v1_enabled": False,
            # non-null: PUT /latest/api/token answers this status (403/404/405 = IMDSv1-only host)
            "imds_token_status": None,
            "imds_role": "trailwatch-role",
            "imds_region": "us-east-1",
            "imds_availability_zone": "us-east-1a",
            "imds_instance_id": "i-0123456789abcdef0",
            "imds_instance_type": "t3.micro",
            "imds_ami_id": "ami-0123456789abcdef0",
            "imds_hostname": "ip-10-0-0-1.ec2.internal",
            "imds_local_ipv4": "10.0.0.1",
            "imds_account_id": "123456789012",
            "imds_tags": {"Name": "trailwatch-test"},  # null -> tags not enabled (404)
            "imds_credential_ttl_seconds": 6 * 3600,
            "container_auth_token": None,
            "container_credential_ttl_seconds": 6 * 3600,
            "web_identity_token": None,   # when set, AssumeRoleWithWebIdentity must present it
            "sns_topics": None,           # list of topic ARNs that exist; null = all exist
            "sns_content_based_dedup": False,
            "s3_buckets": None,           # list of buckets that exist; null = all exist
            "cloudtrail_channels": None,  # list of channel ARNs/ids; null = all exist
            "log_retention_days": None,   # applies expiredLogEventEndIndex when set
        }

    def reset(self):
        """Back to the state of a freshly started server (same port)."""
        with self.lock:
            self.config = self.default_config()
            # access key id -> {"secret", "token" (None = long-term), "expiration" (epoch or None),
            #                   "source", "expired" (forced)}
            self.credentials = {}
            self.add_credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, source="default")
            self.add_credentials(DOC_ACCESS_KEY, DOC_SECRET_KEY, source="default")
            self.records = []
            self.seq = 0
            self.counters = {}
            self.rules = []
            self.rule_seq = 0
            self.down = set()
            self.clock_offset = 0.0
            self.log_groups = {}   # name -> {"created": ms, "streams": {name: {...}}}
            self.objects = {}      # (bucket, key) -> {"body": bytes, "headers": {...}}
            # SSM name -> {"versions": [{"value","type","tier","key_id","modified"}, ...]} (version = index+1)
            self.ssm_parameters = {}
            self.imds_tokens = {}  # token -> expiry (server clock)
            self.imds_creds = None
            self.container_creds = None

    def now(self):
        return time.time() + self.clock_offset

    def add_credentials(self, akid, secret, token=None, expiration=None, source="control"):
        with self.lock:
            self.credentials[akid] = {"secret": secret, "token": token, "expiration": expiration,
                                      "source": source, "expired": False}

    def issue_session_credentials(self, ttl, source):
        akid = "ASIA" + secrets.token_hex(8).upper()
        secret = base64.b64encode(secrets.token_bytes(30)).decode()
        token = "FQoGZXIvYXdzE" + base64.b64encode(secrets.token_bytes(96)).decode()
        expiration = self.now() + ttl
        self.add_credentials(akid, secret, token, expiration, source)
        return {"AccessKeyId": akid, "SecretAccessKey": secret, "Token": token,
                "Expiration": iso8601(expiration), "ExpirationEpoch": expiration}

    def count(self, service, what):
        with self.lock:
            c = self.counters.setdefault(service, {"requests": 0, "accepted": 0, "rejected": 0,
                                                   "faulted": 0})
            c[what] = c.get(what, 0) + 1

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.records.append(entry)

    def take_faults(self, service):
        """Faults that apply to this request, consuming one count of each."""
        out = []
        with self.lock:
            for rule in self.rules:
                if rule["service"] not in ("*", service):
                    continue
                if rule["remaining"] is not None and rule["remaining"] <= 0:
                    continue
                if rule["remaining"] is not None:
                    rule["remaining"] -= 1
                rule["triggered"] += 1
                out.append(dict(rule))
                if rule["type"] != "delay":
                    break  # one terminal fault per request
        return out


STATE = State()


# ---------------------------------------------------------------------------------------------
# Error rendering per protocol
# ---------------------------------------------------------------------------------------------
def render_error(proto, service, err, request_id, query_mode=False):
    headers = dict(err.headers)
    if proto == "query":
        kind = "Sender" if err.status < 500 else "Receiver"
        body = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message>'
                '</Error><RequestId>%s</RequestId></ErrorResponse>'
                % (XMLNS.get(service, ""), kind, xml_escape(err.code), xml_escape(err.message),
                   request_id))
        return Response(err.status, body, "text/xml", headers)
    if proto in ("json10", "json11"):
        headers["x-amzn-ErrorType"] = err.code
        if query_mode:
            headers["x-amzn-query-error"] = "%s;%s" % (err.code, "Sender" if err.status < 500 else "Receiver")
        ctype = "application/x-amz-json-1.0" if proto == "json10" else "application/x-amz-json-1.1"
        return Response(err.status, json.dumps({"__type": err.code, "message": err.message}), ctype,
                        headers)
    if proto == "restjson":
        headers["x-amzn-ErrorType"] = err.code
        return Response(err.status, json.dumps({"__type": err.code, "message": err.message}),
                        "application/json", headers)
    if proto == "s3":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>%s'
                '<RequestId>%s</RequestId><HostId>%s</HostId></Error>'
                % (xml_escape(err.code), xml_escape(err.message), err.xml_extra, request_id,
                   base64.b64encode(request_id.encode()).decode()))
        return Response(err.status, body, "application/xml", headers)
    if proto == "control":
        return Response(err.status, json.dumps({"error": err.code, "message": err.message}),
                        "application/json", headers)
    return Response(err.status, err.message + "\n", "text/plain", headers)


# Authentication failures per protocol: kind -> (status, code, message).
# query = CloudWatch/SNS/STS; json10 = CloudWatch JSON (awsQueryCompatible, so query codes);
# json11 = CloudWatch Logs (status 400 per aws-wire-trail-sinks.md 1.5; InvalidSignatureException
# status unconfirmed -> 400 like the other Logs auth errors); restjson = CloudTrail Data
# (403, unconfirmed); s3 = S3's documented codes.
_MSG_INVALID_TOKEN = "The security token included in the request is invalid."
_MSG_EXPIRED_TOKEN = "The security token included in the request is expired"
_MSG_BAD_SIG = ("The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.")
AUTH_ERRORS = {
    "query": {
        "unknown_key": (403, "InvalidClientTokenId", _MSG_INVALID_TOKEN),
        "bad_token": (403, "InvalidClientTokenId", _MSG_INVALID_TOKEN),
        "expired_token": (403, "ExpiredToken", _MSG_EXPIRED_TOKEN),
        "bad_signature": (403, "SignatureDoesNotMatch", _MSG_BAD_SIG),
        "skew": (400, "RequestExpired", None),
        "missing": (403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
        "incomplete": (400, "IncompleteSignature", None),
    },
    "json11": {
        "unknown_key": (400, "UnrecognizedClientException", _MSG_INVALID_TOKEN),
        "bad_token": (400, "UnrecognizedClientException", _MSG_INVALID_TOKEN),
        "expired_token": (400, "ExpiredTokenException", _MSG_EXPIRED_TOKEN),
        "bad_signature": (400, "InvalidSignatureException", _MSG_BAD_SIG),
        "skew": (400, "InvalidSignatureException", None),
        "missing": (400, "MissingAuthenticationTokenException", "Missing Authentication Token"),
        "incomplete": (400, "IncompleteSignatureException", None),
    },
    "restjson": {
        "unknown_key": (403, "UnrecognizedClientException", _MSG_INVALID_TOKEN),
        "bad_token": (403, "UnrecognizedClientException", _MSG_INVALID_TOKEN),
        "expired_token": (403, "ExpiredTokenException", _MSG_EXPIRED_TOKEN),
        "bad_signature": (403, "InvalidSignatureException", _MSG_BAD_SIG),
        "skew": (403, "InvalidSignatureException", None),
        "missing": (403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
        "incomplete": (403, "IncompleteSignatureException", None),
    },
    "s3": {
        "unknown_key": (403, "InvalidAccessKeyId",
                        "The AWS Access Key Id you provided does not exist in our records."),
        "missing_token": (403, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records."),
        "bad_token": (400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
        "expired_token": (400, "ExpiredToken", "The provided token has expired."),
        "bad_signature": (403, "SignatureDoesNotMatch", _MSG_BAD_SIG),
        "skew": (403, "RequestTimeTooSkewed",
                 "The difference between the request time and the current time is too large."),
        "missing": (403, "AccessDenied", "Access Denied"),
        "incomplete": (400, "AuthorizationHeaderMalformed", None),
    },
}
AUTH_ERRORS["json10"] = AUTH_ERRORS["query"]


def auth_error(proto, kind, message=None, xml_extra=""):
    table = AUTH_ERRORS.get(proto, AUTH_ERRORS["query"])
    status, code, default_message = table.get(kind) or table["bad_token"]
    return AwsError(status, code, message or default_message or kind, xml_extra)


# ---------------------------------------------------------------------------------------------
# SigV4 verification with botocore's signer
# ---------------------------------------------------------------------------------------------
class _VerifyingSigner:
    """Restricts botocore's header selection to the request's SignedHeaders list."""

    def __init__(self, signed_pairs):
        self._signed_pairs = signed_pairs

    def headers_to_sign(self, request):
        hm = HTTPHeaders()
        for name, value in self._signed_pairs:
            hm[name] = value
        return hm


class _V4(_VerifyingSigner, SigV4Auth):
    def __init__(self, signed_pairs, credentials, service, region):
        _VerifyingSigner.__init__(self, signed_pairs)
        SigV4Auth.__init__(self, credentials, service, region)


class _S3V4(_VerifyingSigner, S3SigV4Auth):
    def __init__(self, signed_pairs, credentials, service, region):
        _VerifyingSigner.__init__(self, signed_pairs)
        S3SigV4Auth.__init__(self, credentials, service, region)


AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)


def parse_authorization(value):
    m = AUTH_RE.match(value or "")
    if not m:
        return None
    fields = {}
    for part in m.group(1).split(","):
        k, _, v = part.strip().partition("=")
        fields[k.strip()] = v.strip()
    if not all(k in fields for k in ("Credential", "SignedHeaders", "Signature")):
        return None
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        return None
    return {"akid": scope[0], "date": scope[1], "region": scope[2], "service": scope[3],
            "signed_headers": [h for h in fields["SignedHeaders"].split(";") if h],
            "signature": fields["Signature"]}


def canonical_query_url_part(raw_query):
    """Re-encode the query as SigV4 canonicalises it (decode, then UriEncode each part)."""
    pairs = []
    for pair in raw_query.split("&") if raw_query else []:
        if not pair:
            continue
        k, _, v = pair.partition("=")
        pairs.append("%s=%s" % (uri_encode(unquote(k)), uri_encode(unquote(v))))
    return "&".join(pairs)


def verify_sigv4(ctx):
    """Checks ctx's Authorization; sets ctx.akid/region. Raises AwsError."""
    proto = ctx.proto
    auth = parse_authorization(ctx.headers.get("Authorization"))
    if ctx.headers.get("Authorization") is None:
        raise auth_error(proto, "missing")
    if auth is None:
        raise auth_error(proto, "incomplete",
                         "Authorization header requires 'Credential', 'Signature' and "
                         "'SignedHeaders' parameters, and a 5-part credential scope.")
    ctx.akid = auth["akid"]
    ctx.region = auth["region"]
    xamz = ctx.headers.get("X-Amz-Date")
    if xamz is None and ctx.headers.get("Date"):
        try:
            xamz = amz_date(email.utils.parsedate_to_datetime(ctx.headers["Date"]).timestamp())
        except (TypeError, ValueError):
            xamz = None
    req_epoch = parse_amz_date(xamz) if xamz else None
    if req_epoch is None:
        raise auth_error(proto, "incomplete",
                         "Authorization header requires existence of either a 'X-Amz-Date' or a "
                         "'Date' header.")
    if auth["date"] != xamz[:8]:
        raise auth_error(proto, "bad_signature" if proto != "s3" else "incomplete",
                         "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                         "of date from HTTP: '%s' != '%s'" % (auth["date"], xamz[:8]))
    if "host" not in auth["signed_headers"]:
        raise auth_error(proto, "bad_signature",
                         "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")

    with STATE.lock:
        cred = STATE.credentials.get(auth["akid"])
        cred = dict(cred) if cred else None
    if cred is None:
        raise auth_error(proto, "unknown_key")
    sent_token = ctx.headers.get("X-Amz-Security-Token")
    ctx.session_token_used = sent_token is not None
    now = STATE.now()
    if cred["token"] is None:
        if sent_token is not None:
            raise auth_error(proto, "bad_token")
    else:
        if sent_token is None:
            raise auth_error(proto, "missing_token" if proto == "s3" else "bad_token")
        if not hmac.compare_digest(sent_token.encode(), cred["token"].encode()):
            raise auth_error(proto, "bad_token")
        if cred["expired"] or (cred["expiration"] is not None and now >= cred["expiration"]):
            raise auth_error(proto, "expired_token")

    # Clock skew (after identifying the key, before the signature like S3 does).
    max_skew = kS3MaxSkewSeconds if proto == "s3" else kMaxSkewSeconds
    if abs(req_epoch - now) > max_skew:
        if proto == "s3":
            extra = ("<RequestTime>%s</RequestTime><ServerTime>%s</ServerTime>"
                     "<MaxAllowedSkewMilliseconds>%d</MaxAllowedSkewMilliseconds>"
                     % (xamz, iso8601(now), max_skew * 1000))
            raise auth_error(proto, "skew", xml_extra=extra)
        if req_epoch < now:
            msg = "Signature expired: %s is now earlier than %s (%s - 5 min.)" % (
                xamz, amz_date(now - max_skew), amz_date(now))
        else:
            # AWS answers future dates with "Signature not yet current"; same code (unconfirmed).
            msg = "Signature not yet current: %s is still later than %s (%s + 5 min.)" % (
                xamz, amz_date(now + max_skew), amz_date(now))
        raise auth_error(proto, "skew", msg)

    # Rebuild the request for botocore: only the signed headers, raw path, canonicalised query.
    signed_pairs = []
    for name in auth["signed_headers"]:
        values = ctx.headers.get_all(name)
        if values is None:
            raise auth_error(proto, "bad_signature",
                             "Signed header '%s' is missing from the request." % name)
        for v in values:
            signed_pairs.append((name, v))
    host = ctx.headers.get("Host", "localhost")
    query = canonical_query_url_part(ctx.raw_query)
    url = "http://%s%s%s" % (host, ctx.raw_path, ("?" + query) if query else "")
    req = AWSRequest(method=ctx.method, url=url, data=ctx.body)
    for name, value in signed_pairs:
        req.headers[name] = value
    if proto == "s3":
        # S3 always uses x-amz-content-sha256's value as the payload hash.
        if "x-amz-content-sha256" not in req.headers:
            req.headers["X-Amz-Content-SHA256"] = ctx.headers.get("x-amz-content-sha256", "")
    req.context["timestamp"] = xamz
    creds = Credentials(auth["akid"], cred["secret"], cred["token"])
    signer_cls = _S3V4 if proto == "s3" else _V4
    signer = signer_cls(signed_pairs, creds, auth["service"], auth["region"])
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    expected = signer.signature(sts, req)
    if not hmac.compare_digest(expected, auth["signature"]):
        message = _MSG_BAD_SIG
        if proto == "s3":
            raise AwsError(403, "SignatureDoesNotMatch", message,
                           "<AWSAccessKeyId>%s</AWSAccessKeyId><StringToSign>%s</StringToSign>"
                           "<CanonicalRequest>%s</CanonicalRequest>"
                           % (xml_escape(auth["akid"]), xml_escape(sts), xml_escape(canonical)))
        log("signature mismatch for %s; canonical request was:\n%s" % (auth["akid"], canonical))
        raise auth_error(proto, "bad_signature", message)
    ctx.verified = True


# ---------------------------------------------------------------------------------------------
# Query-protocol helpers
# ---------------------------------------------------------------------------------------------
def unflatten(pairs):
    """Turns Foo.member.1.Bar=x pairs into nested dicts/lists (member/entry -> list)."""
    root = {}
    for key, value in pairs:
        node = root
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        node[parts[-1]] = value

    def convert(node):
        if not isinstance(node, dict):
            return node
        if len(node) == 1 and next(iter(node)) in ("member", "entry"):
            items = next(iter(node.values()))
            if not isinstance(items, dict):
                return [items]

            def index(k):
                try:
                    return (0, int(k))
                except ValueError:
                    return (1, k)
            return [convert(items[k]) for k in sorted(items, key=index)]
        return {k: convert(v) for k, v in node.items()}
    return convert(root)


def form_params(ctx):
    ctype = (ctx.headers.get("Content-Type") or "").lower()
    body = ctx.decoded_body()
    if ctx.method == "POST" and "x-www-form-urlencoded" in ctype:
        try:
            return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise AwsError(400, "MalformedQueryString", "The request body is not valid UTF-8.")
    return parse_qsl(ctx.raw_query, keep_blank_values=True)


def query_response(service, action, result_xml, request_id):
    xml = ('<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>'
           '</%sResponse>' % (action, XMLNS[service], result_xml, request_id, action))
    return Response(200, xml, "text/xml")


def invalid(message, code="InvalidParameterValue", status=400):
    return AwsError(status, code, message)


# ---------------------------------------------------------------------------------------------
# CloudWatch PutMetricData
# ---------------------------------------------------------------------------------------------
def _printable_ascii(text):
    return all(32 <= ord(c) < 127 for c in text)


def _to_float(value, where):
    if isinstance(value, bool):
        raise invalid("The value %r for parameter %s is invalid." % (value, where))
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise invalid("The value %s for parameter %s is invalid." % (value, where))
    if math.isnan(f) or math.isinf(f):
        raise invalid("The value %s for parameter %s is invalid." % (value, where))
    if f != 0 and not (kMetricValueMinMagnitude <= abs(f) <= kMetricValueMaxMagnitude):
        raise invalid("The value %s for parameter %s is invalid." % (value, where))
    return f


def normalize_datum(d, i, now, json_mode):
    where = "MetricData.member.%d" % i
    if not isinstance(d, dict):
        raise invalid("The parameter %s is malformed." % where)
    name = d.get("MetricName")
    if not isinstance(name, str) or not name:
        raise AwsError(400, "MissingParameter", "The parameter %s.MetricName is required." % where)
    if len(name) > 255:
        raise invalid("The parameter %s.MetricName must be shorter than 256 characters." % where)
    out = {"MetricName": name, "Dimensions": []}
    dims = d.get("Dimensions") or []
    if not isinstance(dims, list):
        raise invalid("The parameter %s.Dimensions is malformed." % where)
    if len(dims) > kMaxDimensionsPerDatum:
        raise invalid("The collection %s.Dimensions must not have a size greater than %d."
                      % (where, kMaxDimensionsPerDatum))
    for j, dim in enumerate(dims, 1):
        dw = "%s.Dimensions.member.%d" % (where, j)
        if not isinstance(dim, dict):
            raise invalid("The parameter %s is malformed." % dw)
        dn, dv = dim.get("Name"), dim.get("Value")
        if not isinstance(dn, str) or not dn:
            raise AwsError(400, "MissingParameter", "The parameter %s.Name is required." % dw)
        if not isinstance(dv, str) or not dv:
            raise AwsError(400, "MissingParameter", "The parameter %s.Value is required." % dw)
        if (len(dn) > 255 or len(dv) > 1024 or not _printable_ascii(dn) or not _printable_ascii(dv)
                or not dn.strip() or not dv.strip() or dn.startswith(":")):
            raise invalid("The value for parameter %s is invalid." % dw)
        out["Dimensions"].append({"Name": dn, "Value": dv})
    ts = d.get("Timestamp")
    if ts is not None:
        if json_mode and isinstance(ts, (int, float)) and not isinstance(ts, bool):
            epoch = float(ts)
        else:
            epoch = parse_iso8601(str(ts))
        if epoch is None:
            raise invalid("The value %s for parameter %s.Timestamp is invalid." % (ts, where))
        if epoch < now - kMetricMaxPastSeconds:
            raise invalid("The parameter %s.Timestamp must specify a time no more than two weeks "
                          "in the past." % where)
        if epoch > now + kMetricMaxFutureSeconds:
            raise invalid("The parameter %s.Timestamp must specify a time no more than two hours "
                          "in the future." % where)
        out["Timestamp"] = iso8601(epoch)
        out["TimestampEpoch"] = epoch
    kinds = [k for k in ("Value", "Values", "StatisticValues") if d.get(k) not in (None, [], {})]
    if len(kinds) > 1:
        raise AwsError(400, "InvalidParameterCombination",
                       "The parameters %s.%s and %s.%s are mutually exclusive."
                       % (where, kinds[0], where, kinds[1]))
    if not kinds:
        # One of Value, Values, StatisticValues per datum (aws-wire.md 2.2); code unconfirmed.
        raise AwsError(400, "MissingParameter",
                       "The parameter %s must contain one of Value, Values or StatisticValues."
                       % where)
    if d.get("Value") is not None:
        out["Value"] = _to_float(d["Value"], where + ".Value")
    if d.get("Values"):
        values = d["Values"]
        if not isinstance(values, list):
            raise invalid("The parameter %s.Values is malformed." % where)
        if len(values) > kMaxValuesPerDatum:
            raise invalid("The collection %s.Values must not have a size greater than %d."
                          % (where, kMaxValuesPerDatum))
        out["Values"] = [_to_float(v, "%s.Values.member.%d" % (where, k))
                         for k, v in enumerate(values, 1)]
        counts = d.get("Counts")
        if counts:
            if not isinstance(counts, list) or len(counts) != len(values):
                raise invalid("The parameters %s.Values and %s.Counts must be of the same size."
                              % (where, where))
            out["Counts"] = [_to_float(c, "%s.Counts.member.%d" % (where, k))
                             for k, c in enumerate(counts, 1)]
            if any(c < 0 for c in out["Counts"]):
                raise invalid("The parameter %s.Counts must not contain negative values." % where)
    elif d.get("Counts"):
        raise AwsError(400, "InvalidParameterCombination",
                       "The parameter %s.Counts requires %s.Values." % (where, where))
    if d.get("StatisticValues"):
        sv = d["StatisticValues"]
        stats = {}
        for key in ("SampleCount", "Sum", "Minimum", "Maximum"):
            if not isinstance(sv, dict) or sv.get(key) is None:
                raise AwsError(400, "MissingParameter", "The parameter %s.StatisticValues.%s is "
                               "required." % (where, key))
            stats[key] = _to_float(sv[key], "%s.StatisticValues.%s" % (where, key))
        if stats["SampleCount"] <= 0 or stats["Minimum"] > stats["Maximum"]:
            raise invalid("The parameter %s.StatisticValues is invalid." % where)
        out["StatisticValues"] = stats
    unit = d.get("Unit")
    if unit is not None:
        if unit not in kMetricUnits:
            raise invalid("The value %s for parameter %s.Unit is invalid." % (unit, where))
        out["Unit"] = unit
    res = d.get("StorageResolution")
    if res is not None:
        try:
            res_i = int(res)
        except (TypeError, ValueError):
            res_i = -1
        if res_i not in (1, 60):
            raise invalid("The value %s for parameter %s.StorageResolution is invalid."
                          % (res, where))
        out["StorageResolution"] = res_i
    return out


def validate_put_metric_data(params, now, json_mode):
    ns = params.get("Namespace")
    if not isinstance(ns, str) or ns == "":
        raise AwsError(400, "MissingParameter", "The parameter Namespace is required.")
    if len(ns) > 255 or not _printable_ascii(ns) or ns.startswith(":"):
        raise invalid("The value %s for parameter Namespace is invalid." % ns)
    if ns.startswith("AWS/"):
        raise invalid("The value AWS/ for parameter Namespace is invalid.")
    datums = params.get("MetricData") or []
    entity = params.get("EntityMetricData") or []
    if not isinstance(datums, list) or not isinstance(entity, list):
        raise invalid("The parameter MetricData is malformed.")
    if len(entity) > kMaxEntityMetricData:
        raise invalid("The collection EntityMetricData must not have a size greater than %d."
                      % kMaxEntityMetricData)
    entity_datums = []
    for e in entity:
        if isinstance(e, dict):
            entity_datums.extend(e.get("MetricData") or [])
    if not datums and not entity_datums:
        raise AwsError(400, "MissingParameter", "The parameter MetricData is required.")
    if len(datums) + len(entity_datums) > kMaxDatumsPerRequest:
        raise invalid("The collection MetricData must not have a size greater than %d."
                      % kMaxDatumsPerRequest)
    out = [normalize_datum(d, i, now, json_mode) for i, d in enumerate(datums, 1)]
    out_entity = [normalize_datum(d, i, now, json_mode) for i, d in enumerate(entity_datums, 1)]
    return {"Namespace": ns, "datums": out, "entity_datums": out_entity,
            "StrictEntityValidation": params.get("StrictEntityValidation")}


def json_object_body(body):
    """The JSON-protocol request body as a dict, or the SerializationException AWS answers with."""
    try:
        params = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        raise AwsError(400, "SerializationException", "Body is not valid JSON.")
    if not isinstance(params, dict):
        raise AwsError(400, "SerializationException", "Body must be a JSON object.")
    return params


def handle_monitoring(ctx):
    body = ctx.decoded_body()
    if len(body) > kMaxPutMetricDataBytes:
        # AWS answers oversize POSTs with 413 (code name unconfirmed).
        raise AwsError(413, "RequestEntityTooLarge",
                       "Request size %d exceeded %d bytes" % (len(body), kMaxPutMetricDataBytes))
    if ctx.proto == "json10":
        target = ctx.headers.get("X-Amz-Target", "")
        ctx.operation = target.rsplit(".", 1)[-1]
        if ctx.operation != "PutMetricData":
            raise AwsError(400, "UnknownOperationException", "Unknown operation %s" % target)
        params = json_object_body(body)
        data = validate_put_metric_data(params, STATE.now(), json_mode=True)
        data["protocol"] = "json"
        ctx.data = data
        return Response(200, "{}", "application/x-amz-json-1.0")
    pairs = form_params(ctx)
    params = unflatten(pairs)
    action = params.get("Action")
    ctx.operation = action
    if action != "PutMetricData":
        raise AwsError(400, "InvalidAction", "The action %s is not valid for this web service." % action)
    data = validate_put_metric_data(params, STATE.now(), json_mode=False)
    data["protocol"] = "query"
    ctx.data = data
    return query_response("monitoring", "PutMetricData", "", ctx.request_id)


# ---------------------------------------------------------------------------------------------
# CloudWatch Logs
# ---------------------------------------------------------------------------------------------
def _logs_invalid(message):
    return AwsError(400, "InvalidParameterException", message)


def _require_name(params, key, pattern_check):
    v = params.get(key)
    if v is None:
        raise _logs_invalid("1 validation error detected: Value null at '%s' failed to satisfy "
                            "constraint: Member must not be null" % key)
    if not isinstance(v, str) or not pattern_check(v):
        raise _logs_invalid("1 validation error detected: Value '%s' at '%s' failed to satisfy "
                            "constraint: Member must satisfy regular expression pattern" % (v, key))
    return v


def _group_name_ok(v):
    return bool(kLogNameRe.match(v))


def _stream_name_ok(v):
    return 1 <= len(v) <= 512 and ":" not in v and "*" not in v


def handle_logs(ctx):
    target = ctx.headers.get("X-Amz-Target", "")
    prefix, _, op = target.partition(".")
    ctx.operation = op
    if prefix != "Logs_20140328" or op not in ("PutLogEvents", "CreateLogGroup", "CreateLogStream",
                                              "DescribeLogStreams"):
        raise AwsError(400, "UnknownOperationException", "Unknown operation %s" % target)
    params = json_object_body(ctx.decoded_body())
    now_ms = int(STATE.now() * 1000)
    ok = lambda body: Response(200, json.dumps(body), "application/x-amz-json-1.1")  # noqa: E731

    if op == "CreateLogGroup":
        group = _require_name(params, "logGroupName", _group_name_ok)
        if group.startswith("aws/"):
            raise _logs_invalid("Log group names starting with 'aws/' are reserved.")
        ctx.data = {"logGroupName": group}
        with STATE.lock:
            if group in STATE.log_groups:
                raise AwsError(400, "ResourceAlreadyExistsException",
                               "The specified log group already exists")
            STATE.log_groups[group] = {"created": now_ms, "streams": {}}
        return ok({})
    if op == "CreateLogStream":
        group = _require_name(params, "logGroupName", _group_name_ok)
        stream = _require_name(params, "logStreamName", _stream_name_ok)
        ctx.data = {"logGroupName": group, "logStreamName": stream}
        with STATE.lock:
            g = STATE.log_groups.get(group)
            if g is None:
                raise AwsError(400, "ResourceNotFoundException",
                               "The specified log group does not exist.")
            if stream in g["streams"]:
                raise AwsError(400, "ResourceAlreadyExistsException",
                               "The specified log stream already exists")
            g["streams"][stream] = {"created": now_ms, "events": [], "first": None, "last": None}
        return ok({})
    if op == "DescribeLogStreams":
        group = params.get("logGroupName") or params.get("logGroupIdentifier")
        if not isinstance(group, str):
            raise _logs_invalid("Either logGroupName or logGroupIdentifier must be specified.")
        prefix_filter = params.get("logStreamNamePrefix") or ""
        with STATE.lock:
            g = STATE.log_groups.get(group)
            if g is None:
                raise AwsError(400, "ResourceNotFoundException",
                               "The specified log group does not exist.")
            streams = []
            for name in sorted(g["streams"]):
                if not name.startswith(prefix_filter):
                    continue
                s = g["streams"][name]
                entry = {"logStreamName": name, "creationTime": s["created"],
                         "arn": "arn:aws:logs:%s:123456789012:log-group:%s:log-stream:%s"
                                % (ctx.region or "us-east-1", group, name),
                         "storedBytes": 0}
                if s["first"] is not None:
                    entry.update({"firstEventTimestamp": s["first"], "lastEventTimestamp": s["last"],
                                  "lastIngestionTime": s["ingested"]})
                streams.append(entry)
        ctx.data = {"logGroupName": group, "count": len(streams)}
        return ok({"logStreams": streams})

    # PutLogEvents
    group = _require_name(params, "logGroupName", _group_name_ok)
    stream = _require_name(params, "logStreamName", _stream_name_ok)
    events = params.get("logEvents")
    ctx.data = {"logGroupName": group, "logStreamName": stream}
    if not isinstance(events, list):
        raise _logs_invalid("1 validation error detected: Value null at 'logEvents' failed to "
                            "satisfy constraint: Member must not be null")
    ctx.data["eventCount"] = len(events)
    if not 1 <= len(events) <= kMaxLogEventsPerBatch:
        raise _logs_invalid("1 validation error detected: Value at 'logEvents' failed to satisfy "
                            "constraint: Member must have length less than or equal to %d and "
                            "greater than or equal to 1" % kMaxLogEventsPerBatch)
    total = 0
    for i, ev in enumerate(events):
        if (not isinstance(ev, dict) or not isinstance(ev.get("timestamp"), int)
                or isinstance(ev.get("timestamp"), bool) or not isinstance(ev.get("message"), str)
                or len(ev["message"]) < 1):
            raise _logs_invalid("1 validation error detected: Value at 'logEvents.%d.member' failed "
                                "to satisfy constraint: timestamp and a non-empty message are "
                                "required" % (i + 1))
        size = len(ev["message"].encode("utf-8"))
        if size > kMaxLogEventBytes:
            raise _logs_invalid("Log event too large: %d bytes exceeds limit of %d"
                                % (size, kMaxLogEventBytes))
        total += size + kLogEventOverheadBytes
    if total > kMaxLogBatchBytes:
        raise _logs_invalid("Upload too large: %d bytes exceeds limit of %d"
                            % (total, kMaxLogBatchBytes))
    with STATE.lock:
        g = STATE.log_groups.get(group)
        if g is None:
            raise AwsError(400, "ResourceNotFoundException", "The specified log group does not exist.")
        if stream not in g["streams"]:
            raise AwsError(400, "ResourceNotFoundException", "The specified log stream does not exist.")
    for i in range(1, len(events)):
        if events[i]["timestamp"] < events[i - 1]["timestamp"]:
            raise _logs_invalid("Log events in a single PutLogEvents request must be in "
                                "chronological order.")
    too_new_start = None
    too_old_end = None
    expired_end = None
    retention = STATE.config.get("log_retention_days")
    for i, ev in enumerate(events):
        ts = ev["timestamp"]
        if ts > now_ms + kLogMaxFutureMs:
            too_new_start = i if too_new_start is None else too_new_start
        elif ts < now_ms - kLogMaxPastMs:
            too_old_end = i + 1
        elif retention and ts < now_ms - int(retention) * 86400000:
            expired_end = i + 1  # exclusive like tooOldLogEventEndIndex (spec: unconfirmed)
    rejected = {}
    if too_new_start is not None:
        rejected["tooNewLogEventStartIndex"] = too_new_start
    if too_old_end is not None:
        rejected["tooOldLogEventEndIndex"] = too_old_end
    if expired_end is not None:
        rejected["expiredLogEventEndIndex"] = expired_end
    start = max(too_old_end or 0, expired_end or 0)
    end = too_new_start if too_new_start is not None else len(events)
    accepted = events[start:end]
    if accepted and accepted[-1]["timestamp"] - accepted[0]["timestamp"] > kMaxLogBatchSpanMs:
        raise _logs_invalid("The batch of log events in a single PutLogEvents request cannot span "
                            "more than 24 hours.")
    with STATE.lock:
        s = STATE.log_groups[group]["streams"][stream]
        for ev in accepted:
            s["events"].append({"timestamp": ev["timestamp"], "message": ev["message"],
                                "ingestionTime": now_ms})
        if accepted:
            s["first"] = accepted[0]["timestamp"] if s["first"] is None else min(
                s["first"], accepted[0]["timestamp"])
            s["last"] = accepted[-1]["timestamp"] if s["last"] is None else max(
                s["last"], accepted[-1]["timestamp"])
            s["ingested"] = now_ms
    ctx.data.update({"logEvents": [{"timestamp": e["timestamp"], "message": e["message"]}
                                   for e in accepted],
                     "rejectedLogEventsInfo": rejected or None})
    resp = {"nextSequenceToken": "%056d" % (int(time.time() * 1e6))}
    if rejected:
        resp["rejectedLogEventsInfo"] = rejected
    return ok(resp)


# ---------------------------------------------------------------------------------------------
# CloudTrail Data PutAuditEvents
# ---------------------------------------------------------------------------------------------
CHANNEL_ARN_RE = re.compile(r"^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:(\d{12}):channel/([A-Za-z0-9._/-]+)$")
CHANNEL_ID_RE = re.compile(r"^[A-Za-z0-9._/-]{3,256}$")
EVENT_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?$")
AUDIT_REQUIRED_STR = {"version": 256, "eventSource": 1024, "eventName": 1024, "eventTime": None,
                      "UID": 1024, "recipientAccountId": None}
AUDIT_OPTIONAL_STR = {"userAgent": 1024, "errorCode": 256, "errorMessage": 256,
                      "sourceIPAddress": 256}


def check_audit_event_data(data_str, channel_account):
    """Returns None if valid, else (errorCode, errorMessage). Rules: DOC_AUDIT_SCHEMA."""
    try:
        ev = json.loads(data_str)
    except ValueError:
        return ("InvalidData", "eventData is not valid JSON")
    if not isinstance(ev, dict):
        return ("InvalidData", "eventData must be a JSON object")
    for field, cap in AUDIT_REQUIRED_STR.items():
        v = ev.get(field)
        if v is None:
            return ("FieldNotFound", "Required field %s is missing" % field)
        if not isinstance(v, str):
            return ("InvalidData", "Field %s must be a string" % field)
        if cap is not None and len(v) > cap:
            return ("FieldTooLong", "Field %s exceeds %d characters" % (field, cap))
    ui = ev.get("userIdentity")
    if not isinstance(ui, dict):
        return ("FieldNotFound", "Required field userIdentity is missing")
    for field, cap in (("type", 128), ("principalId", 1024)):
        v = ui.get(field)
        if not isinstance(v, str):
            return ("FieldNotFound", "Required field userIdentity.%s is missing" % field)
        if len(v) > cap:
            return ("FieldTooLong", "Field userIdentity.%s exceeds %d characters" % (field, cap))
    if "details" in ui and ui["details"] is not None and not isinstance(ui["details"], dict):
        return ("InvalidData", "userIdentity.details must be a JSON object")
    for field, cap in AUDIT_OPTIONAL_STR.items():
        v = ev.get(field)
        if v is not None:
            if not isinstance(v, str):
                return ("InvalidData", "Field %s must be a string" % field)
            if len(v) > cap:
                return ("FieldTooLong", "Field %s exceeds %d characters" % (field, cap))
    for field, cap in (("requestParameters", kMaxAuditJsonFieldBytes),
                       ("responseElements", kMaxAuditJsonFieldBytes),
                       ("additionalEventData", kMaxAuditAdditionalBytes)):
        v = ev.get(field)
        if v is not None:
            if not isinstance(v, dict):
                return ("InvalidData", "Field %s must be a JSON object" % field)
            if len(json.dumps(v, separators=(",", ":")).encode("utf-8")) > cap:
                return ("FieldTooLong", "Field %s exceeds %d bytes" % (field, cap))
    # eventTime: yyyy-MM-ddTHH:mm:ss; a trailing Z is AWS's own example (spec: unconfirmed).
    if not EVENT_TIME_RE.match(ev["eventTime"]):
        return ("InvalidData", "eventTime must be formatted yyyy-MM-ddTHH:mm:ss")
    if not re.match(r"^\d{12}$", ev["recipientAccountId"]):
        return ("InvalidRecipient", "recipientAccountId must be a 12-digit account id")
    if channel_account and ev["recipientAccountId"] != channel_account:
        return ("InvalidRecipient", "recipientAccountId does not own the channel")
    return None


def handle_cloudtrail_data(ctx):
    ctx.operation = "PutAuditEvents"
    if ctx.method != "POST" or ctx.raw_path != "/PutAuditEvents":
        raise AwsError(404, "UnknownOperationException", "No operation at %s %s"
                       % (ctx.method, ctx.raw_path))
    query = dict(parse_qsl(ctx.raw_query, keep_blank_values=True))
    channel = query.get("channelArn")
    external_id = query.get("externalId")
    ctx.data = {"channelArn": channel, "externalId": external_id}
    if not channel:
        raise AwsError(400, "ValidationException", "channelArn is required")
    m = CHANNEL_ARN_RE.match(channel)
    if not m and not CHANNEL_ID_RE.match(channel):
        raise AwsError(400, "InvalidChannelARN", "The specified channel ARN is not valid.")
    channel_account = m.group(1) if m else None
    if external_id is not None and not kAuditExternalIdRe.match(external_id):
        raise AwsError(400, "ValidationException", "externalId is not valid")
    channels = STATE.config.get("cloudtrail_channels")
    if channels is not None and channel not in channels:
        raise AwsError(404, "ChannelNotFound", "The channel %s was not found." % channel)
    body = ctx.decoded_body()
    if len(body) > kMaxAuditRequestBytes:
        # 1 MB per request (DOC_PUT_AUDIT_EVENTS); error code unconfirmed.
        raise AwsError(400, "ValidationException", "Request size %d exceeds %d bytes"
                       % (len(body), kMaxAuditRequestBytes))
    try:
        params = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise AwsError(400, "SerializationException", "Body is not valid JSON.")
    events = params.get("auditEvents") if isinstance(params, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= kMaxAuditEventsPerRequest:
        raise AwsError(400, "ValidationException", "auditEvents must hold 1 to %d entries"
                       % kMaxAuditEventsPerRequest)
    seen = set()
    for ev in events:
        if not isinstance(ev, dict) or not isinstance(ev.get("id"), str) or \
                not kAuditIdRe.match(ev["id"]):
            raise AwsError(400, "ValidationException",
                           "Each audit event needs an id matching [-_A-Za-z0-9]{1,128}")
        if not isinstance(ev.get("eventData"), str):
            raise AwsError(400, "ValidationException", "eventData is required and must be a string")
        if ev["id"] in seen:
            raise AwsError(400, "DuplicatedAuditEventId",
                           "Audit event id %s is duplicated in the request." % ev["id"])
        seen.add(ev["id"])
    throttled = ctx.per_event_throttle
    successful, failed, recorded = [], [], []
    for ev in events:
        problem = None
        if throttled:
            problem = ("Throttling", "Rate exceeded")
        elif ev.get("eventDataChecksum") is not None:
            want = base64.b64encode(hashlib.sha256(ev["eventData"].encode("utf-8")).digest()).decode()
            if ev["eventDataChecksum"] != want:
                problem = ("InvalidChecksum", "The eventDataChecksum does not match eventData.")
        if problem is None:
            problem = check_audit_event_data(ev["eventData"], channel_account)
        if problem:
            failed.append({"id": ev["id"], "errorCode": problem[0], "errorMessage": problem[1]})
        else:
            event_id = str(uuid.uuid4())
            successful.append({"id": ev["id"], "eventID": event_id})
            recorded.append({"id": ev["id"], "eventID": event_id,
                             "eventData": json.loads(ev["eventData"]),
                             "eventDataRaw": ev["eventData"],
                             "eventDataChecksum": ev.get("eventDataChecksum")})
    ctx.data.update({"auditEvents": recorded, "successful": successful, "failed": failed})
    return Response(200, json.dumps({"successful": successful, "failed": failed}), "application/json")


# ---------------------------------------------------------------------------------------------
# S3 PutObject
# ---------------------------------------------------------------------------------------------
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
S3_ACLS = {"private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
           "bucket-owner-read", "bucket-owner-full-control"}
S3_SSE = {"AES256", "aws:kms", "aws:kms:dsse"}
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


def s3_bucket_and_key(ctx):
    host = (ctx.headers.get("Host") or "").rsplit(":", 1)[0] if not (ctx.headers.get("Host") or "").startswith("[") else ""
    is_ip = bool(re.match(r"^\d+\.\d+\.\d+\.\d+$", host))
    path = ctx.raw_path
    if host and not is_ip and "." in host and not host.startswith("s3.") and not host.startswith("s3-"):
        return host.split(".", 1)[0], unquote(path[1:]), "virtual-host"
    bucket, _, key = path[1:].partition("/")
    return unquote(bucket), unquote(key), "path"


def _s3_check_digest(name, header, digest_b64_expected, size):
    try:
        raw = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is None or len(raw) != size:
        raise AwsError(400, "InvalidDigest" if name == "Content-MD5" else "InvalidRequest",
                       "The %s you specified was invalid." % name)
    if header != digest_b64_expected:
        raise AwsError(400, "BadDigest", "The %s you specified did not match what we received." % name)


def handle_s3(ctx):
    bucket, key, addressing = s3_bucket_and_key(ctx)
    ctx.data = {"bucket": bucket, "key": key, "addressing": addressing}
    if ctx.method != "PUT" or not key:
        ctx.operation = ctx.method
        raise AwsError(501, "NotImplemented", "fakeaws implements S3 PutObject only.")
    ctx.operation = "PutObject"
    if not BUCKET_RE.match(bucket) or ".." in bucket:
        raise AwsError(400, "InvalidBucketName", "The specified bucket is not valid.")
    buckets = STATE.config.get("s3_buckets")
    if buckets is not None and bucket not in buckets:
        raise AwsError(404, "NoSuchBucket", "The specified bucket does not exist.",
                       "<BucketName>%s</BucketName>" % xml_escape(bucket))
    if ctx.headers.get("Content-Length") is None and not ctx.chunked:
        raise AwsError(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
    body = ctx.body
    if len(body) > kMaxS3SinglePutBytes:
        raise AwsError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    sha = ctx.headers.get("x-amz-content-sha256")
    if sha is None:
        raise AwsError(400, "InvalidRequest",
                       "Missing required header for this request: x-amz-content-sha256")
    if sha.startswith("STREAMING-"):
        raise AwsError(501, "NotImplemented", "fakeaws does not implement aws-chunked uploads (%s)." % sha)
    if sha != "UNSIGNED-PAYLOAD":
        if not HEX64_RE.match(sha):
            raise AwsError(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                           "STREAMING-..., or a valid sha256 value.")
        actual = hashlib.sha256(body).hexdigest()
        if sha != actual:
            raise AwsError(400, "XAmzContentSHA256Mismatch",
                           "The provided 'x-amz-content-sha256' header does not match what was "
                           "computed.", "<ClientComputedContentSHA256>%s</ClientComputedContentSHA256>"
                           "<S3ComputedContentSHA256>%s</S3ComputedContentSHA256>" % (sha, actual))
    md5 = hashlib.md5(body).digest()
    if ctx.headers.get("Content-MD5") is not None:
        _s3_check_digest("Content-MD5", ctx.headers["Content-MD5"], base64.b64encode(md5).decode(), 16)
    checks = {"x-amz-checksum-sha256": (lambda b: hashlib.sha256(b).digest(), 32),
              "x-amz-checksum-sha1": (lambda b: hashlib.sha1(b).digest(), 20),
              "x-amz-checksum-crc32": (lambda b: zlib.crc32(b).to_bytes(4, "big"), 4)}
    for header, (fn, size) in checks.items():
        if ctx.headers.get(header) is not None:
            _s3_check_digest(header, ctx.headers[header], base64.b64encode(fn(body)).decode(), size)
    # x-amz-checksum-crc32c / crc64nvme are accepted unchecked (no stdlib implementation).
    sse = ctx.headers.get("x-amz-server-side-encryption")
    kms_key = ctx.headers.get("x-amz-server-side-encryption-aws-kms-key-id")
    if sse is not None and sse not in S3_SSE:
        raise AwsError(400, "InvalidArgument", "The encryption method specified is not supported",
                       "<ArgumentName>x-amz-server-side-encryption</ArgumentName>"
                       "<ArgumentValue>%s</ArgumentValue>" % xml_escape(sse))
    if kms_key is not None and sse not in ("aws:kms", "aws:kms:dsse"):
        raise AwsError(400, "InvalidArgument", "Server Side Encryption with AWS KMS managed key "
                       "requires HTTP header x-amz-server-side-encryption : aws:kms")
    acl = ctx.headers.get("x-amz-acl")
    if acl is not None and acl not in S3_ACLS:
        raise AwsError(400, "InvalidArgument", "Invalid canned ACL %s" % acl)
    with STATE.lock:
        exists = (bucket, key) in STATE.objects
        if ctx.headers.get("If-None-Match") == "*" and exists:
            raise AwsError(412, "PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold", "<Condition>If-None-Match</Condition>")
        meta = {k.lower()[len("x-amz-meta-"):]: v for k, v in ctx.headers.items()
                if k.lower().startswith("x-amz-meta-")}
        kept = {}
        for h in ("Content-Type", "Content-Encoding", "Content-MD5", "Content-Disposition",
                  "Cache-Control", "x-amz-acl", "x-amz-server-side-encryption",
                  "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-checksum-sha256",
                  "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1",
                  "x-amz-storage-class", "If-None-Match", "x-amz-expected-bucket-owner"):
            if ctx.headers.get(h) is not None:
                kept[h.lower()] = ctx.headers[h]
        version = secrets.token_hex(16)
        STATE.objects[(bucket, key)] = {"body": body, "headers": kept, "metadata": meta,
                                        "version": version}
    etag = '"%s"' % md5.hex()
    ctx.data.update({"size": len(body), "etag": etag, "metadata": meta, "headers": kept,
                     "body_b64": base64.b64encode(body).decode(), "overwrote": exists})
    headers = {"ETag": etag, "x-amz-server-side-encryption": sse or "AES256",
               "x-amz-version-id": version}
    if kms_key:
        headers["x-amz-server-side-encryption-aws-kms-key-id"] = kms_key
    for h in ("x-amz-checksum-sha256", "x-amz-checksum-crc32", "x-amz-checksum-sha1"):
        if ctx.headers.get(h):
            headers[h] = ctx.headers[h]
    return Response(200, b"", "application/xml", headers)


# ---------------------------------------------------------------------------------------------
# SNS Publish
# ---------------------------------------------------------------------------------------------
TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
SNS_ATTR_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
SNS_GROUP_RE = re.compile(r"^[\x21-\x7e]{1,128}$")  # a-zA-Z0-9 and punctuation


def _sns_invalid(what):
    return AwsError(400, "InvalidParameter", "Invalid parameter: %s" % what)


def handle_sns(ctx):
    params = unflatten(form_params(ctx))
    action = params.get("Action")
    ctx.operation = action
    if action != "Publish":
        raise AwsError(400, "InvalidAction", "The action %s is not valid for this endpoint." % action)
    topic = params.get("TopicArn") or params.get("TargetArn")
    phone = params.get("PhoneNumber")
    message = params.get("Message")
    subject = params.get("Subject")
    structure = params.get("MessageStructure")
    group_id = params.get("MessageGroupId")
    dedup_id = params.get("MessageDeduplicationId")
    ctx.data = {"TopicArn": topic, "PhoneNumber": phone, "Message": message, "Subject": subject}
    if not topic and not phone:
        raise _sns_invalid("TopicArn or TargetArn Reason: no value for required parameter")
    if topic and not TOPIC_ARN_RE.match(topic):
        raise _sns_invalid("TopicArn")
    if message is None:
        raise AwsError(400, "ValidationError", "1 validation error detected: Value null at "
                       "'message' failed to satisfy constraint: Member must not be null")
    if message == "":
        raise _sns_invalid("Empty message")
    if subject is not None:
        if (subject == "" or len(subject) >= kMaxSnsSubjectChars
                or any(ord(c) < 32 or ord(c) == 127 for c in subject)):
            raise _sns_invalid("Subject")
    attrs = params.get("MessageAttributes") or []
    if not isinstance(attrs, list):
        raise _sns_invalid("MessageAttributes")
    size = len(message.encode("utf-8"))
    decoded_attrs = {}
    for entry in attrs:
        name = entry.get("Name") if isinstance(entry, dict) else None
        value = entry.get("Value") if isinstance(entry, dict) else None
        if (not name or len(name) > kMaxSnsAttributeNameChars or not SNS_ATTR_NAME_RE.match(name)
                or name.startswith(".") or name.endswith(".") or ".." in name
                or name.lower().startswith("aws.") or name.lower().startswith("amazon.")):
            raise AwsError(400, "ParameterValueInvalid",
                           "The message attribute name '%s' is invalid." % name)
        if name in decoded_attrs:
            raise AwsError(400, "ParameterValueInvalid",
                           "Message attribute name '%s' is duplicated." % name)
        if not isinstance(value, dict) or not value.get("DataType"):
            raise AwsError(400, "ParameterValueInvalid",
                           "The message attribute '%s' must contain a non-empty message attribute "
                           "type." % name)
        dtype = value["DataType"]
        base = dtype.split(".", 1)[0]
        if base not in ("String", "Number", "Binary") or (
                dtype.startswith("String.Array") and dtype != "String.Array"):
            raise AwsError(400, "ParameterValueInvalid",
                           "The message attribute '%s' has an invalid message attribute type, the "
                           "set of supported type prefixes is Binary, Number, and String." % name)
        if base == "Binary":
            raw = value.get("BinaryValue")
            try:
                blob = base64.b64decode(raw or "", validate=True)
            except (binascii.Error, ValueError):
                blob = None
            if not raw or blob is None:
                raise AwsError(400, "ParameterValueInvalid", "The message attribute '%s' with type "
                               "'Binary' must use field 'Binary'." % name)
            vsize = len(blob)
            decoded_attrs[name] = {"DataType": dtype, "BinaryValue": raw}
        else:
            sval = value.get("StringValue")
            if sval is None or sval == "":
                raise AwsError(400, "ParameterValueInvalid", "The message attribute '%s' must "
                               "contain non-empty message attribute value." % name)
            if base == "Number":
                try:
                    float(sval)
                except ValueError:
                    raise AwsError(400, "ParameterValueInvalid", "Could not cast message attribute "
                                   "'%s' value to number." % name)
            if dtype == "String.Array":
                try:
                    if not isinstance(json.loads(sval), list):
                        raise ValueError
                except ValueError:
                    raise AwsError(400, "ParameterValueInvalid", "The message attribute '%s' with "
                                   "type 'String.Array' must be a JSON array." % name)
            vsize = len(sval.encode("utf-8"))
            decoded_attrs[name] = {"DataType": dtype, "StringValue": sval}
        size += len(name.encode("utf-8")) + len(dtype.encode("utf-8")) + vsize
    if size > kMaxSnsMessageBytes:
        raise _sns_invalid("Message too long")
    if structure is not None:
        if structure != "json":
            raise _sns_invalid("MessageStructure")
        try:
            doc = json.loads(message)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise _sns_invalid("Message Structure - JSON message body failed to parse")
        if not isinstance(doc.get("default"), str):
            raise _sns_invalid("Message Structure - No default entry in JSON message body")
    fifo = bool(topic and topic.endswith(".fifo"))
    if group_id is not None and not SNS_GROUP_RE.match(group_id):
        raise _sns_invalid("MessageGroupId")
    if dedup_id is not None and not SNS_GROUP_RE.match(dedup_id):
        raise _sns_invalid("MessageDeduplicationId")
    if fifo:
        if not group_id:
            raise _sns_invalid("The MessageGroupId parameter is required for FIFO topics")
        if not dedup_id and not STATE.config.get("sns_content_based_dedup"):
            raise _sns_invalid("The topic should either have ContentBasedDeduplication enabled or "
                               "MessageDeduplicationId provided explicitly")
    elif dedup_id is not None:
        raise _sns_invalid("MessageDeduplicationId Reason: The request includes "
                           "MessageDeduplicationId parameter that is not valid for this topic type")
    topics = STATE.config.get("sns_topics")
    if topic and topics is not None and topic not in topics:
        raise AwsError(404, "NotFound", "Topic does not exist")
    message_id = str(uuid.uuid4())
    ctx.data.update({"MessageStructure": structure, "MessageAttributes": decoded_attrs,
                     "MessageGroupId": group_id, "MessageDeduplicationId": dedup_id,
                     "MessageId": message_id})
    result = "<MessageId>%s</MessageId>" % message_id
    if fifo:
        seq = "%020d" % (int(time.time() * 1000) * 1000 + STATE.seq % 1000)
        result += "<SequenceNumber>%s</SequenceNumber>" % seq
        ctx.data["SequenceNumber"] = seq
    return query_response("sns", "Publish", "<PublishResult>%s</PublishResult>" % result,
                          ctx.request_id)


# ---------------------------------------------------------------------------------------------
# STS
# ---------------------------------------------------------------------------------------------
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/([\w+=,.@/-]+)$")


def _sts_validation(value, field, constraint):
    return AwsError(400, "ValidationError", "1 validation error detected: Value '%s' at '%s' failed "
                    "to satisfy constraint: %s" % (value, field, constraint))


def handle_sts(ctx):
    params = dict(form_params(ctx))
    action = params.get("Action")
    ctx.operation = action
    if action not in ("AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"):
        raise AwsError(400, "InvalidAction", "Could not find operation %s for version 2011-06-15"
                       % action)
    if action != "AssumeRoleWithWebIdentity" and not ctx.verified:
        raise auth_error("query", "missing")
    if action == "GetCallerIdentity":
        ctx.data = {"AccessKeyId": ctx.akid}
        result = ("<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/fakeaws</Arn>"
                  "<UserId>AIDAFAKEAWS</UserId><Account>123456789012</Account>"
                  "</GetCallerIdentityResult>")
        return query_response("sts", action, result, ctx.request_id)
    role_arn = params.get("RoleArn")
    session = params.get("RoleSessionName")
    ctx.data = {"RoleArn": role_arn, "RoleSessionName": session}
    if role_arn is None:
        raise AwsError(400, "MissingParameter", "The request must contain the parameter RoleArn")
    if session is None:
        raise AwsError(400, "MissingParameter",
                       "The request must contain the parameter RoleSessionName")
    if not 20 <= len(role_arn) <= 2048:
        raise _sts_validation(role_arn, "roleArn", "Member must have length between 20 and 2048")
    m = ROLE_ARN_RE.match(role_arn)
    if not m:
        raise _sts_validation(role_arn, "roleArn", "Member must be a role ARN")
    if not SESSION_NAME_RE.match(session):
        raise _sts_validation(session, "roleSessionName", "Member must satisfy regular expression "
                              "pattern: [\\w+=,.@-]* and have length between 2 and 64")
    duration = params.get("DurationSeconds", "3600")
    try:
        duration_i = int(duration)
    except ValueError:
        duration_i = -1
    if not kStsMinDuration <= duration_i <= kStsMaxDuration:
        raise _sts_validation(duration, "durationSeconds", "Member must have value between 900 "
                              "and 43200")
    if action == "AssumeRole":
        ext = params.get("ExternalId")
        if ext is not None and not re.match(r"^[\w+=,.@:/-]{2,1224}$", ext):
            raise _sts_validation(ext, "externalId", "Member must have length between 2 and 1224")
        ctx.data["ExternalId"] = ext
    else:
        token = params.get("WebIdentityToken")
        if token is None or not 4 <= len(token) <= 20000:
            raise _sts_validation(token, "webIdentityToken", "Member must have length between 4 "
                                  "and 20000")
        want = STATE.config.get("web_identity_token")
        if want is not None and token != want:
            raise AwsError(400, "InvalidIdentityToken", "The web identity token that was passed "
                           "could not be validated by AWS.")
        ctx.data["WebIdentityToken"] = token
    creds = STATE.issue_session_credentials(duration_i, "sts:" + action)
    ctx.data.update({"DurationSeconds": duration_i, "IssuedAccessKeyId": creds["AccessKeyId"]})
    role_name = m.group(2).rsplit("/", 1)[-1]
    assumed = "arn:aws:sts::%s:assumed-role/%s/%s" % (m.group(1), role_name, session)
    result = ("<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
              "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
              "<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROAFAKEAWS0000000000:%s</AssumedRoleId>"
              "</AssumedRoleUser>" % (creds["AccessKeyId"], xml_escape(creds["SecretAccessKey"]),
                                      xml_escape(creds["Token"]), creds["Expiration"], assumed,
                                      session))
    if action == "AssumeRoleWithWebIdentity":
        result += ("<SubjectFromWebIdentityToken>fakeaws-subject</SubjectFromWebIdentityToken>"
                   "<Audience>sts.amazonaws.com</Audience><Provider>fakeaws</Provider>")
    else:
        result += "<PackedPolicySize>0</PackedPolicySize>"
    return query_response("sts", action, "<%sResult>%s</%sResult>" % (action, result, action),
                          ctx.request_id)


# ---------------------------------------------------------------------------------------------
# IMDSv2 and container credentials
# ---------------------------------------------------------------------------------------------
def _current_role_credentials(kind):
    """IMDS/container credentials; rotated 5 min before expiry like EC2 (or on request)."""
    with STATE.lock:
        attr = "imds_creds" if kind == "imds" else "container_creds"
        creds = getattr(STATE, attr)
        ttl_key = "imds_credential_ttl_seconds" if kind == "imds" else \
            "container_credential_ttl_seconds"
        if creds is None or creds["ExpirationEpoch"] - STATE.now() < 300:
            creds = STATE.issue_session_credentials(int(STATE.config[ttl_key]), kind)
            creds["LastUpdated"] = iso8601(STATE.now())
            setattr(STATE, attr, creds)
        return dict(creds)


def rotate_role_credentials(kind, expire_old):
    with STATE.lock:
        attr = "imds_creds" if kind == "imds" else "container_creds"
        old = getattr(STATE, attr)
        if old is not None and expire_old and old["AccessKeyId"] in STATE.credentials:
            STATE.credentials[old["AccessKeyId"]]["expired"] = True
        setattr(STATE, attr, None)
        return _current_role_credentials(kind)


def _imds_not_found():
    return AwsError(404, "NotFound", "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
                    "<html><head><title>404 - Not Found</title></head><body><h1>404 - Not Found"
                    "</h1></body></html>")


def handle_imds(ctx):
    path = ctx.raw_path
    cfg = STATE.config
    ctx.operation = path
    ctx.data = {"path": path}
    if path == "/latest/api/token":
        if ctx.method != "PUT":
            raise AwsError(405, "MethodNotAllowed", "Method not allowed")
        forced = cfg.get("imds_token_status")
        if forced:
            raise AwsError(int(forced), "Forced", "Forced status %s" % forced)
        if ctx.headers.get("X-Forwarded-For") is not None:
            raise AwsError(403, "Forbidden", "Forbidden")
        ttl = ctx.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        try:
            ttl_i = int(ttl)
        except (TypeError, ValueError):
            ttl_i = 0
        if not 1 <= ttl_i <= kImdsMaxTokenTtl:
            raise AwsError(400, "BadRequest", "Bad Request")
        token = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
        with STATE.lock:
            STATE.imds_tokens[token] = STATE.now() + ttl_i
        ctx.data["ttl"] = ttl_i
        return Response(200, token, "text/plain", {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl_i)})
    if ctx.method not in ("GET", "HEAD"):
        raise AwsError(405, "MethodNotAllowed", "Method not allowed")
    token = ctx.headers.get("X-aws-ec2-metadata-token")
    ctx.data["token_used"] = token is not None
    if token is not None:
        with STATE.lock:
            expiry = STATE.imds_tokens.get(token)
        if expiry is None or expiry <= STATE.now():
            raise AwsError(401, "Unauthorized", "Unauthorized")
    elif not cfg.get("imds_v1_enabled"):
        raise AwsError(401, "Unauthorized", "Unauthorized")
    md = "/latest/meta-data/"
    role = cfg.get("imds_role")
    simple = {
        md + "instance-id": cfg["imds_instance_id"],
        md + "instance-type": cfg["imds_instance_type"],
        md + "ami-id": cfg["imds_ami_id"],
        md + "hostname": cfg["imds_hostname"],
        md + "local-hostname": cfg["imds_hostname"],
        md + "local-ipv4": cfg["imds_local_ipv4"],
        md + "placement/region": cfg["imds_region"],
        md + "placement/availability-zone": cfg["imds_availability_zone"],
        md: "ami-id\nhostname\niam/\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\n"
            "placement/\ntags/",
    }
    if path in simple:
        return Response(200, simple[path], "text/plain")
    if path == md + "iam/security-credentials/" or path == md + "iam/security-credentials":
        if not role:
            raise _imds_not_found()
        return Response(200, role, "text/plain")
    if path.startswith(md + "iam/security-credentials/"):
        asked = path[len(md + "iam/security-credentials/"):]
        if not role or asked != role:
            raise _imds_not_found()
        creds = _current_role_credentials("imds")
        ctx.data["IssuedAccessKeyId"] = creds["AccessKeyId"]
        doc = {"Code": "Success", "LastUpdated": creds["LastUpdated"], "Type": "AWS-HMAC",
               "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
               "Token": creds["Token"], "Expiration": creds["Expiration"]}
        return Response(200, json.dumps(doc, indent=2), "text/plain")
    if path == "/latest/dynamic/instance-identity/document":
        doc = {"accountId": cfg["imds_account_id"], "architecture": "x86_64",
               "availabilityZone": cfg["imds_availability_zone"], "billingProducts": None,
               "devpayProductCodes": None, "marketplaceProductCodes": None,
               "imageId": cfg["imds_ami_id"], "instanceId": cfg["imds_instance_id"],
               "instanceType": cfg["imds_instance_type"], "kernelId": None,
               "pendingTime": iso8601(STATE.start), "privateIp": cfg["imds_local_ipv4"],
               "ramdiskId": None, "region": cfg["imds_region"], "version": "2017-09-30"}
        return Response(200, json.dumps(doc, indent=2), "text/plain")
    if path.startswith(md + "tags/instance"):
        tags = cfg.get("imds_tags")
        if tags is None:
            raise _imds_not_found()
        rest = path[len(md + "tags/instance"):].lstrip("/")
        if rest == "":
            return Response(200, "\n".join(sorted(tags)), "text/plain")
        if rest in tags:
            return Response(200, str(tags[rest]), "text/plain")
        raise _imds_not_found()
    raise _imds_not_found()


def handle_container_creds(ctx):
    ctx.operation = "GetCredentials"
    want = STATE.config.get("container_auth_token")
    got = ctx.headers.get("Authorization")
    ctx.data = {"authorization_sent": got is not None}
    if want is not None and got != want:
        raise AwsError(401, "Unauthorized", json.dumps({"code": "Unauthorized",
                                                        "message": "authorization token mismatch"}))
    creds = _current_role_credentials("ecs")
    ctx.data["IssuedAccessKeyId"] = creds["AccessKeyId"]
    doc = {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
           "Token": creds["Token"], "Expiration": creds["Expiration"],
           "RoleArn": "arn:aws:iam::123456789012:role/trailwatch-task"}
    return Response(200, json.dumps(doc), "application/json")


# ---------------------------------------------------------------------------------------------
# Throttle / 5xx errors per service
# ---------------------------------------------------------------------------------------------
def throttle_error(service, proto):
    if service == "monitoring":
        return AwsError(400, "Throttling", "Rate exceeded")
    if service == "logs":
        return AwsError(400, "ThrottlingException", "Rate exceeded")
    if service == "sns":
        return AwsError(429, "Throttled", "Rate exceeded")
    if service == "sts":
        return AwsError(400, "Throttling", "Rate exceeded")
    if service == "s3":
        return AwsError(503, "SlowDown", "Please reduce your request rate.")
    if service == "cloudtrail-data":
        return AwsError(429, "ThrottlingException", "Rate exceeded")
    return AwsError(429, "TooManyRequests", "Too Many Requests")


def server_error(service, status):
    if status == 503:
        code = {"logs": "ServiceUnavailableException", "s3": "ServiceUnavailable",
                "imds": "ServiceUnavailable"}.get(service, "ServiceUnavailable")
        return AwsError(503, code, "Service Unavailable")
    code = {"monitoring": "InternalServiceError", "logs": "ServiceUnavailableException",
            "sns": "InternalError", "s3": "InternalError", "sts": "InternalFailure",
            "cloudtrail-data": "InternalFailure"}.get(service, "InternalFailure")
    return AwsError(status, code, "We encountered an internal error. Please try again.")


# ---------------------------------------------------------------------------------------------
# Control API (/_fake/...)
# ---------------------------------------------------------------------------------------------
FAULT_TYPES = ("throttle", "error", "delay", "drop", "skew", "down", "up")


def control_faults(method, params):
    if method == "DELETE":
        with STATE.lock:
            STATE.rules = []
            STATE.down = set()
            STATE.clock_offset = 0.0
        return {"ok": True}
    if method == "GET":
        return faults_snapshot()
    specs = params if isinstance(params, list) else [params]
    added = []
    for spec in specs:
        if not isinstance(spec, dict):
            raise AwsError(400, "BadFault", "fault must be a JSON object")
        if spec.get("clear"):
            control_faults("DELETE", None)
            continue
        ftype = spec.get("type")
        service = spec.get("service", "*")
        if ftype not in FAULT_TYPES:
            raise AwsError(400, "BadFault", "type must be one of %s" % ", ".join(FAULT_TYPES))
        if service != "*" and service not in SERVICES:
            raise AwsError(400, "BadFault", "service must be * or one of %s" % ", ".join(SERVICES))
        with STATE.lock:
            if ftype == "skew":
                STATE.clock_offset = float(spec.get("skew_seconds", 0))
                added.append({"type": "skew", "skew_seconds": STATE.clock_offset})
                continue
            if ftype == "down":
                STATE.down.add(service)
                added.append({"type": "down", "service": service})
                continue
            if ftype == "up":
                if service == "*":
                    STATE.down = set()
                else:
                    STATE.down.discard(service)
                added.append({"type": "up", "service": service})
                continue
            count = spec.get("count", 1)
            if count is not None and (not isinstance(count, int) or count < 0):
                raise AwsError(400, "BadFault", "count must be a non-negative integer or null")
            status = int(spec.get("status", 503 if ftype == "error" else 0))
            if ftype == "error" and status not in (500, 502, 503, 504):
                raise AwsError(400, "BadFault", "status must be 500, 502, 503 or 504")
            STATE.rule_seq += 1
            rule = {"id": STATE.rule_seq, "type": ftype, "service": service, "remaining": count,
                    "count": count, "triggered": 0, "status": status,
                    "delay_ms": int(spec.get("delay_ms", 0)),
                    "per_event": bool(spec.get("per_event", False))}
            STATE.rules.append(rule)
            added.append(dict(rule))
    return {"added": added, "faults": faults_snapshot()}


def faults_snapshot():
    with STATE.lock:
        return {"rules": [dict(r) for r in STATE.rules], "down": sorted(STATE.down),
                "clock_offset_seconds": STATE.clock_offset,
                "counters": json.loads(json.dumps(STATE.counters))}


def _parse_expiration(value):
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    epoch = parse_iso8601(str(value))
    if epoch is None:
        raise AwsError(400, "BadCredentials", "expiration must be epoch seconds or ISO-8601")
    return epoch


def control_credentials(method, params):
    if method == "POST":
        params = params or {}
        for c in params.get("add", []):
            if not c.get("access_key_id") or not c.get("secret_access_key"):
                raise AwsError(400, "BadCredentials", "add needs access_key_id and secret_access_key")
            exp = _parse_expiration(c.get("expiration"))
            if c.get("expires_in") is not None:
                exp = STATE.now() + float(c["expires_in"])
            STATE.add_credentials(c["access_key_id"], c["secret_access_key"],
                                  c.get("session_token"), exp, "control")
        with STATE.lock:
            for akid in params.get("expire", []):
                if akid in STATE.credentials:
                    STATE.credentials[akid]["expired"] = True
            for akid in params.get("remove", []):
                STATE.credentials.pop(akid, None)
        rotated = {}
        for kind, key in (("imds", "rotate_imds"), ("ecs", "rotate_container")):
            if params.get(key):
                rotated[kind] = rotate_role_credentials(kind, bool(params.get("expire_old")))
        out = credentials_snapshot()
        out["rotated"] = rotated
        return out
    return credentials_snapshot()


def credentials_snapshot():
    with STATE.lock:
        now = STATE.now()
        out = []
        for akid, c in STATE.credentials.items():
            out.append({"access_key_id": akid, "secret_access_key": c["secret"],
                        "session_token": c["token"], "source": c["source"],
                        "expiration": iso8601(c["expiration"]) if c["expiration"] else None,
                        "expired": bool(c["expired"] or (c["expiration"] is not None
                                                         and now >= c["expiration"]))})
        return {"credentials": out,
                "imds": STATE.imds_creds and {k: v for k, v in STATE.imds_creds.items()},
                "container": STATE.container_creds and dict(STATE.container_creds)}


def control_requests(query):
    q = dict(parse_qsl(query, keep_blank_values=True))
    with STATE.lock:
        recs = list(STATE.records)
    if q.get("service"):
        recs = [r for r in recs if r["service"] == q["service"]]
    if q.get("operation"):
        recs = [r for r in recs if r["operation"] == q["operation"]]
    if q.get("accepted") in ("true", "false"):
        want = q["accepted"] == "true"
        recs = [r for r in recs if r["accepted"] == want]
    if q.get("since"):
        recs = [r for r in recs if r["seq"] > int(q["since"])]
    return {"requests": recs}


def seed_ssm_parameters(params):
    """{"name": "value"} or {"name": {"value", "type", "tier", "key_id"}}: each puts a new version,
    checked as PutParameter checks it (name shape, type, tier value-size limit)."""
    if not isinstance(params, dict):
        raise AwsError(400, "BadConfig", "ssm_parameters must be a JSON object of name -> value/spec")
    now = STATE.now()
    staged = []
    for name, spec in params.items():
        if not isinstance(spec, dict):
            spec = {"value": spec}
        value = spec.get("value")
        ptype = spec.get("type", "String")
        tier = spec.get("tier", "Standard")
        if not isinstance(value, str) or value == "":
            raise AwsError(400, "ValidationException", "%s: value must be a non-empty string" % name)
        if len(name) > kSsmMaxNameLength or not kSsmNameRe.match(name) or "//" in name:
            raise AwsError(400, "ValidationException", "Parameter name %s is not valid" % name)
        if ptype not in kSsmTypes:
            raise AwsError(400, "ValidationException", "type must be one of %s" % ", ".join(kSsmTypes))
        if tier not in ("Standard", "Advanced"):
            raise AwsError(400, "ValidationException", "tier must be Standard or Advanced")
        limit = kSsmAdvancedValueLimit if tier == "Advanced" else kSsmStandardValueLimit
        if len(value.encode("utf-8")) > limit:
            raise AwsError(400, "ValidationException",
                           "%s tier parameters support a maximum parameter value of %d characters"
                           % (tier, limit))
        staged.append((name, {"value": value, "type": ptype, "tier": tier,
                              "key_id": spec.get("key_id", "alias/aws/ssm") if ptype == "SecureString" else None,
                              "modified": now}))
    with STATE.lock:
        for name, version in staged:
            STATE.ssm_parameters.setdefault(name, {"versions": []})["versions"].append(version)


def _ssm_lookup(ctx, name):
    """(stored name, version number, version dict, selector) for a GetParameter Name."""
    selector = None
    key = name
    if name.startswith("arn:"):
        parts = name.split(":", 5)
        if len(parts) != 6 or parts[2] != "ssm" or not parts[5].startswith("parameter"):
            raise AwsError(400, "ValidationException", "Invalid parameter ARN %s" % name)
        if parts[3] != ctx.region:
            raise AwsError(400, "ValidationException",
                           "The ARN's region %s is not the request's region %s" % (parts[3], ctx.region))
        key = parts[5][len("parameter"):]
    if ":" in key:
        key, selector = key.split(":", 1)
    with STATE.lock:
        entry = STATE.ssm_parameters.get(key)
        if entry is None and key.startswith("/") and name.startswith("arn:"):
            key = key[1:]
            entry = STATE.ssm_parameters.get(key)
        if entry is None:
            raise AwsError(400, "ParameterNotFound", "Parameter %s not found." % name)
        versions = list(entry["versions"])
    if selector is None:
        return key, len(versions), versions[-1], None
    if not selector.isdigit() or not 1 <= int(selector) <= len(versions):
        raise AwsError(400, "ParameterVersionNotFound",
                       "Systems Manager could not find version %s of %s." % (selector, key))
    return key, int(selector), versions[int(selector) - 1], ":" + selector


def handle_ssm(ctx):
    target = ctx.headers.get("X-Amz-Target", "")
    prefix, _, op = target.partition(".")
    ctx.operation = op
    if prefix != "AmazonSSM" or op != "GetParameter":
        raise AwsError(400, "UnknownOperationException", "fakeaws SSM has only GetParameter, not %s" % target)
    ctype = (ctx.headers.get("Content-Type") or "").split(";")[0].strip()
    if ctype != "application/x-amz-json-1.1":
        raise AwsError(400, "SerializationException", "Content-Type must be application/x-amz-json-1.1")
    params = json_object_body(ctx.decoded_body())
    unknown = sorted(set(params) - {"Name", "WithDecryption"})
    if unknown:
        raise AwsError(400, "SerializationException", "Unknown members %s" % unknown)
    name = params.get("Name")
    decrypt = params.get("WithDecryption", False)
    if not isinstance(name, str) or not 1 <= len(name) <= kSsmMaxNameLength:
        raise AwsError(400, "ValidationException",
                       "1 validation error detected: Value at 'name' failed to satisfy constraint: "
                       "Member must have length between 1 and 2048")
    if not isinstance(decrypt, bool):
        raise AwsError(400, "SerializationException", "WithDecryption must be a boolean")
    key, number, version, selector = _ssm_lookup(ctx, name)
    value = version["value"]
    if version["type"] == "SecureString" and not decrypt:
        # Real SSM returns the KMS ciphertext, base64; a stand-in that is clearly not the plaintext.
        value = base64.b64encode(b"fakeaws-kms:" + hashlib.sha256(value.encode()).digest()).decode()
    account = STATE.config["imds_account_id"]
    arn = "arn:aws:ssm:%s:%s:parameter%s%s" % (ctx.region, account, "" if key.startswith("/") else "/", key)
    out = {"Name": key, "Type": version["type"], "Value": value, "Version": number,
           "LastModifiedDate": round(version["modified"], 3), "ARN": arn, "DataType": "text"}
    if selector:
        out["Selector"] = selector
    ctx.data = {"Name": name, "WithDecryption": decrypt, "Version": number, "Type": version["type"]}
    return Response(200, json.dumps({"Parameter": out}), "application/x-amz-json-1.1")


def control_state():
    with STATE.lock:
        groups = {g: {s: {"events": list(v["events"])} for s, v in d["streams"].items()}
                  for g, d in STATE.log_groups.items()}
        objects = [{"bucket": b, "key": k, "size": len(o["body"]), "headers": o["headers"],
                    "metadata": o["metadata"]} for (b, k), o in STATE.objects.items()]
        ssm = {n: {"version": len(e["versions"]), "type": e["versions"][-1]["type"],
                   "tier": e["versions"][-1]["tier"]} for n, e in STATE.ssm_parameters.items()}
        return {"log_groups": groups, "objects": objects, "ssm_parameters": ssm, "clock_offset_seconds": STATE.clock_offset,
                "server_time": iso8601(STATE.now())}


def control_config(method, params):
    if method == "POST":
        if not isinstance(params, dict):
            raise AwsError(400, "BadConfig", "config must be a JSON object")
        unknown = sorted(set(params) - set(STATE.config) - {"log_groups", "ssm_parameters"})
        if unknown:
            raise AwsError(400, "BadConfig", "unknown keys %s; allowed: %s"
                           % (unknown, sorted(STATE.config) + ["log_groups", "ssm_parameters"]))
        if "ssm_parameters" in params:
            seed_ssm_parameters(params["ssm_parameters"])
        with STATE.lock:
            for k, v in params.items():
                if k == "ssm_parameters":
                    continue
                if k == "log_groups":
                    now_ms = int(STATE.now() * 1000)
                    for g, streams in v.items():
                        grp = STATE.log_groups.setdefault(g, {"created": now_ms, "streams": {}})
                        for s in streams:
                            grp["streams"].setdefault(s, {"created": now_ms, "events": [],
                                                          "first": None, "last": None})
                else:
                    STATE.config[k] = v
    with STATE.lock:
        return dict(STATE.config)


# ---------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------
class RequestContext:
    def __init__(self, method, raw_path, raw_query, headers, body, chunked):
        self.method = method
        self.raw_path = raw_path
        self.raw_query = raw_query
        self.headers = headers
        self.body = body
        self.chunked = chunked
        self.service = None
        self.proto = None
        self.operation = None
        self.request_id = str(uuid.uuid4())
        self.akid = None
        self.region = None
        self.verified = False
        self.session_token_used = False
        self.data = None
        self.per_event_throttle = False
        self._decoded = None

    def decoded_body(self):
        if self._decoded is None:
            enc = (self.headers.get("Content-Encoding") or "").lower()
            if enc == "gzip" and self.service != "s3":
                try:
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    out = d.decompress(self.body, kMaxPutMetricDataBytes * 4)
                except zlib.error:
                    raise AwsError(400, "InvalidParameterValue" if self.proto == "query"
                                   else "SerializationException", "Request body is not valid gzip.")
                self._decoded = out
            else:
                self._decoded = self.body
        return self._decoded


def classify(method, path, headers):
    """(service, protocol) from the SigV4 scope, path and headers."""
    if path.startswith("/latest/"):
        return "imds", "imds"
    if path == "/_fake/container-creds":
        return "ecs", "plain"
    auth = parse_authorization(headers.get("Authorization"))
    target = headers.get("X-Amz-Target") or ""
    service = auth["service"] if auth else None
    if service is None:
        if target.startswith("Logs_"):
            service = "logs"
        elif target.startswith("AmazonSSM."):
            service = "ssm"
        elif target.startswith("GraniteServiceVersion20100801"):
            service = "monitoring"
        elif path.startswith("/PutAuditEvents"):
            service = "cloudtrail-data"
        elif method == "POST" and path == "/":
            service = "sts"  # the only unsigned operation: AssumeRoleWithWebIdentity
        elif headers.get("x-amz-content-sha256") or method in ("PUT", "GET", "HEAD"):
            service = "s3"
        else:
            service = "sts"
    if service == "monitoring":
        return service, "json10" if target.startswith("GraniteServiceVersion20100801") else "query"
    if service == "logs":
        return service, "json11"
    if service == "cloudtrail-data":
        return service, "restjson"
    if service == "s3":
        return service, "s3"
    if service in ("sns", "sts"):
        return service, "query"
    return service, "json11" if target else "query"


HANDLERS = {
    "monitoring": handle_monitoring, "logs": handle_logs, "cloudtrail-data": handle_cloudtrail_data,
    "s3": handle_s3, "sns": handle_sns, "sts": handle_sts, "ssm": handle_ssm, "imds": handle_imds,
    "ecs": handle_container_creds,
}
UNSIGNED_SERVICES = ("imds", "ecs")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeaws"
    sys_version = ""

    def version_string(self):
        return "fakeaws"

    def date_time_string(self, timestamp=None):
        # send_response() adds the Date header from here: the server clock, skew included.
        return email.utils.formatdate(STATE.now() if timestamp is None else timestamp, usegmt=True)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            log("%s %s" % (self.address_string(), fmt % args))

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    # -- body ---------------------------------------------------------------------------------
    def _read_body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks), True
        length = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(length) if length > 0 else b""), False

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, resp, request_id=None):
        self.send_response(resp.status)
        if request_id:
            self.send_header("x-amzn-RequestId", request_id)
            self.send_header("x-amz-request-id", request_id)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)
        self.wfile.flush()

    # -- dispatch -----------------------------------------------------------------------------
    def _handle(self):
        arrival = time.time()
        split = urlsplit(self.path)
        raw_path, raw_query = split.path or "/", split.query
        if raw_path.startswith("/_fake/") and raw_path != "/_fake/container-creds":
            self._control(raw_path, raw_query)
            return
        service, proto = classify(self.command, raw_path, self.headers)
        STATE.count(service, "requests")
        with STATE.lock:
            down = "*" in STATE.down or service in STATE.down
        if down:
            STATE.count(service, "faulted")
            self._record_fault(arrival, service, raw_path, "down")
            self._drop()
            return
        body, chunked = self._read_body()
        ctx = RequestContext(self.command, raw_path, raw_query, self.headers, body, chunked)
        ctx.service, ctx.proto = service, proto
        query_mode = bool(self.headers.get("x-amzn-query-mode"))
        try:
            for fault in STATE.take_faults(service):
                ftype = fault["type"]
                if ftype == "delay":
                    time.sleep(fault["delay_ms"] / 1000.0)
                    continue
                STATE.count(service, "faulted")
                if ftype == "drop":
                    self._record_fault(arrival, service, raw_path, "drop")
                    self._drop()
                    return
                if ftype == "throttle":
                    if service == "cloudtrail-data" and fault.get("per_event"):
                        ctx.per_event_throttle = True
                        continue
                    raise throttle_error(service, proto)
                if ftype == "error":
                    raise server_error(service, fault["status"])
            if service not in UNSIGNED_SERVICES:
                if self.headers.get("Authorization") is not None:
                    verify_sigv4(ctx)
                elif not (service == "sts"):
                    raise auth_error(proto, "missing")
            handler = HANDLERS.get(service)
            if handler is None:
                raise AwsError(400, "UnknownService", "fakeaws does not implement service %s"
                               % service)
            resp = handler(ctx)
            accepted = True
            err = None
        except AwsError as e:
            err = e
            resp = render_error(proto, service, e, ctx.request_id, query_mode)
            accepted = False
        except Exception as e:  # noqa: BLE001 - a bug in the fake must not kill the server
            log("internal error: %r" % e)
            import traceback
            traceback.print_exc()
            err = server_error(service, 500)
            resp = render_error(proto, service, err, ctx.request_id, query_mode)
            accepted = False
        STATE.count(service, "accepted" if accepted else "rejected")
        STATE.record({
            "time": arrival, "server_time": iso8601(arrival + STATE.clock_offset),
            "service": service, "protocol": proto, "operation": ctx.operation,
            "method": self.command, "path": raw_path, "query": raw_query,
            "status": resp.status, "accepted": accepted,
            "error_code": err.code if err else None, "error_message": err.message if err else None,
            "access_key_id": ctx.akid, "region": ctx.region,
            "session_token": ctx.session_token_used,
            "content_encoding": self.headers.get("Content-Encoding"),
            "user_agent": self.headers.get("User-Agent"),
            "request_id": ctx.request_id, "data": ctx.data,
        })
        self._send(resp, ctx.request_id)

    def _record_fault(self, arrival, service, path, kind):
        STATE.record({"time": arrival, "server_time": iso8601(arrival + STATE.clock_offset),
                      "service": service, "protocol": None, "operation": None,
                      "method": self.command, "path": path, "query": "", "status": None,
                      "accepted": False, "error_code": "fault:" + kind, "error_message": None,
                      "access_key_id": None, "region": None, "session_token": False,
                      "content_encoding": None, "user_agent": self.headers.get("User-Agent"),
                      "request_id": None, "data": None})

    def _control(self, path, query):
        body, _ = self._read_body()
        try:
            params = json.loads(body.decode("utf-8")) if body.strip() else None
        except ValueError:
            params = "invalid"
        try:
            if params == "invalid":
                raise AwsError(400, "BadJson", "request body is not JSON")
            method = self.command
            if path == "/_fake/health":
                out = {"ok": True, "port": self.server.server_address[1],
                       "server_time": iso8601(STATE.now())}
            elif path == "/_fake/requests":
                out = control_requests(query)
            elif path == "/_fake/reset" and method == "POST":
                STATE.reset()
                out = {"ok": True}
            elif path == "/_fake/faults":
                out = control_faults(method, params)
            elif path == "/_fake/credentials":
                out = control_credentials(method, params)
            elif path == "/_fake/config":
                out = control_config(method, params)
            elif path == "/_fake/state":
                out = control_state()
            elif path.startswith("/_fake/s3/"):
                bucket, _, key = path[len("/_fake/s3/"):].partition("/")
                with STATE.lock:
                    obj = STATE.objects.get((unquote(bucket), unquote(key)))
                if obj is None:
                    raise AwsError(404, "NoSuchKey", "no such object")
                self._send(Response(200, obj["body"], "application/octet-stream"))
                return
            elif path == "/_fake/shutdown" and method == "POST":
                self.close_connection = True
                self._send(Response(200, json.dumps({"ok": True}), "application/json"))
                self.server.stop_event.set()
                return
            else:
                raise AwsError(404, "NoSuchControl", "unknown control endpoint %s %s"
                               % (self.command, path))
            self._send(Response(200, json.dumps(out, default=str), "application/json"))
        except AwsError as e:
            self._send(render_error("control", None, e, None))
        except (TypeError, ValueError, AttributeError, KeyError) as e:
            self._send(render_error("control", None, AwsError(400, "BadRequest", repr(e)), None))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local AWS-compatible endpoint for trailwatch tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-lifetime", type=float, default=600.0,
                    help="exit after this many seconds (default 600)")
    ap.add_argument("--state-file", help="write {port,pid} at start and all records at exit")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)

    server = Server(("127.0.0.1", args.port), Handler)
    server.verbose = args.verbose
    server.stop_event = threading.Event()
    port = server.server_address[1]

    def write_state(extra=None):
        if not args.state_file:
            return
        doc = {"port": port, "pid": os.getpid()}
        if extra:
            doc.update(extra)
        tmp = args.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, default=str)
        os.replace(tmp, args.state_file)

    signal.signal(signal.SIGTERM, lambda *_: server.stop_event.set())
    signal.signal(signal.SIGINT, lambda *_: server.stop_event.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    write_state()
    sys.stdout.write("FAKEAWS_PORT=%d\n" % port)
    sys.stdout.flush()
    log("listening on 127.0.0.1:%d (max lifetime %.0fs)" % (port, args.max_lifetime))
    if not server.stop_event.wait(args.max_lifetime):
        log("max lifetime reached")
    server.shutdown()
    server.server_close()
    with STATE.lock:
        write_state({"requests": STATE.records, "counters": STATE.counters})
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
