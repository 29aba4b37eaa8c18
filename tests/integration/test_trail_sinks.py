"""The real trailwatch binary forwards audit events to CloudTrail Lake, CloudWatch Logs and S3 at once
(fakeaws, every signature checked by botocore): each event arrives once at each sink with the same eventID.

Run by CTest: /usr/bin/python3 test_trail_sinks.py <trailwatch binary> <source dir>
"""

import base64
import gzip
import json
import os
import re
import tempfile
import time

import harness

CHANNEL = "arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef"


class TrailSinksEndToEnd(harness.FakeAwsTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory(prefix="trailwatch-trail-")
        self.addCleanup(self.tmp.cleanup)

    def count_lake(self):
        return sum(len(r["data"]["auditEvents"]) for r in self.fake.requests("cloudtrail-data", accepted=True))

    def count_logs(self):
        return sum(len(r["data"].get("logEvents", [])) for r in self.fake.requests("logs", accepted=True)
                   if r["operation"] == "PutLogEvents")

    def test_every_event_reaches_each_sink_once_with_the_same_id(self):
        log = os.path.join(self.tmp.name, "audit.log")
        # The sample's events, moved to the last minutes: CloudWatch Logs refuses events older than 14 days.
        with open(os.path.join(harness.SOURCE_DIR, "tests", "data", "audit", "sample-audit.log")) as f:
            sample = f.read()
        shift = int(time.time()) - 300 - 1764000000
        with open(log, "w") as f:
            f.write(re.sub(r"audit\((\d+)\.", lambda m: "audit(%d." % (int(m.group(1)) + shift), sample))
        ep = self.fake.endpoint
        cfg = f"""
agent:
  state_dir: {self.tmp.name}/state
  shutdown_timeout: 10s
aws:
  region: us-east-1
  imds:
    enabled: true
    endpoint: {ep}
  endpoints:
    cloudtrail_data: {ep}
    cloudwatch_logs: {ep}
    s3: {ep}
metrics:
  enabled: false
audit:
  files: ["{log}"]
  poll_interval: 200ms
  event_timeout: 500ms
trail:
  sinks:
    - type: cloudtrail_lake
      channel_arn: {CHANNEL}
    - type: cloudwatch_logs
      log_group: /trailwatch/it
      log_stream: "{{instance_id}}"
    - type: s3
      bucket: trail-bucket
      account_id: "123456789012"
      interval: 1m
"""
        agent = harness.Agent(self, harness.write_config(self.tmp.name, cfg), self.tmp.name,
                              harness.agent_env(self.fake))
        agent.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (self.count_lake() >= 10 and self.count_logs() >= 10):
            time.sleep(0.2)
        self.assertEqual(agent.stop(timeout=60), 0, agent.log())  # the S3 file is closed and put at the stop
        log_text = agent.log()

        # The sample log holds 10 events (libauparse groups it so; see tests/data/audit).
        lake = [e for r in self.fake.requests("cloudtrail-data", accepted=True) for e in r["data"]["auditEvents"]]
        lake_ids = [e["id"] for e in lake]
        self.assertEqual(len(lake_ids), 10, log_text)
        self.assertEqual(len(set(lake_ids)), 10, "no event twice")

        instance_id = self.fake.config()["imds_instance_id"]
        log_puts = [r for r in self.fake.requests("logs", accepted=True) if r["operation"] == "PutLogEvents"]
        logs = [e for r in log_puts for e in r["data"]["logEvents"]]
        self.assertTrue(log_puts)
        self.assertTrue(all(r["data"]["logStreamName"] == instance_id for r in log_puts))
        created = [r["operation"] for r in self.fake.requests("logs", accepted=True)]
        self.assertIn("CreateLogGroup", created, "the missing group is created")
        self.assertIn("CreateLogStream", created)
        log_ids = [json.loads(e["message"])["eventID"] for e in logs]
        self.assertEqual(sorted(log_ids), sorted(lake_ids), log_text)
        self.assertEqual([e["timestamp"] for e in logs], sorted(e["timestamp"] for e in logs), "chronological")

        puts = self.fake.requests("s3", accepted=True)
        self.assertGreaterEqual(len(puts), 1, log_text)
        s3_ids = []
        for p in puts:
            d = p["data"]
            self.assertEqual(d["bucket"], "trail-bucket")
            self.assertRegex(d["key"], r"^AWSLogs/123456789012/CloudTrail/us-east-1/\d{4}/\d{2}/\d{2}/"
                                       r"123456789012_CloudTrail_us-east-1_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json\.gz$")
            body = json.loads(gzip.decompress(base64.b64decode(d["body_b64"])))
            s3_ids.extend(r["eventID"] for r in body["Records"])
        self.assertEqual(sorted(s3_ids), sorted(lake_ids))

        # What the trail says about the failed ssh login in the sample.
        failed = [json.loads(e["message"]) for e in logs if json.loads(e["message"])["eventName"] == "USER_LOGIN"]
        self.assertTrue(any(r.get("sourceIPAddress") == "203.0.113.7" and r.get("errorCode") for r in failed), failed)


if __name__ == "__main__":
    harness.main()
