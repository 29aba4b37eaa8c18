"""An audit alarm in the real binary: three failed logins appended to a watched audit log within one
period put "failed-logins" into ALARM and a CloudWatch-shaped notification reaches SNS (fakeaws).

Run by CTest: /usr/bin/python3 test_audit_alarm.py <trailwatch binary> <source dir>
"""

import json
import os
import tempfile
import time
import unittest

import harness

TOPIC = "arn:aws:sns:us-east-1:123456789012:security"
PERIOD_S = 5


def failed_login(ts, serial, addr):
    return ("type=USER_LOGIN msg=audit(%d.%03d:%d): pid=4242 uid=0 auid=4294967295 ses=4294967295 "
            "subj=unconfined msg='op=login acct=\"deploy\" exe=\"/usr/sbin/sshd\" hostname=? addr=%s "
            "terminal=ssh res=failed'\n" % (int(ts), int(ts * 1000) % 1000, serial, addr))


class AuditAlarm(unittest.TestCase):
    def test_three_failed_logins_in_a_period_raise_the_alarm(self):
        from client import FakeAws  # tests/fakeaws, on sys.path through harness.main()
        with FakeAws(max_lifetime=240) as fake, tempfile.TemporaryDirectory(prefix="trailwatch-aa-") as tmp:
            log = os.path.join(tmp, "audit.log")
            open(log, "w").close()
            cfg = f"""
agent:
  state_dir: {tmp}/state
aws:
  region: us-east-1
  imds:
    enabled: true
    endpoint: {fake.endpoint}
  endpoints:
    sns: {fake.endpoint}
metrics:
  interval: 1s
  flush_interval: 1s
  output: local
audit:
  files: ["{log}"]
  poll_interval: 200ms
  event_timeout: 500ms
trail:
  sinks:
    - type: local
local:
  path: {tmp}/out.jsonl
alarms:
  - name: failed-logins
    description: three failed logins within one period
    audit_filter:
      record_types: [USER_LOGIN]
      results: [failure]
    statistic: Sum
    period: {PERIOD_S}s
    comparison: GreaterThanOrEqualToThreshold
    threshold: 3
    alarm_actions: ["{TOPIC}"]
"""
            agent = harness.Agent(self, harness.write_config(tmp, cfg), tmp, harness.agent_env())
            agent.start()
            try:
                # Let the alarm see a period or two, then append at the start of a period so all three land in it.
                time.sleep(2)
                while time.time() % PERIOD_S > 0.5:
                    time.sleep(0.05)
                now = time.time()
                with open(log, "a") as f:
                    for i, addr in enumerate(("203.0.113.7", "203.0.113.8", "203.0.113.9")):
                        f.write(failed_login(now + i * 0.1, 9001 + i, addr))
                recs = fake.wait_for("sns", count=1, timeout=60, accepted=True, operation="Publish")
            finally:
                code = agent.stop()
            log_text = agent.log()
            self.assertEqual(code, 0, log_text)
            self.assertTrue(recs, log_text)
            data = recs[0]["data"]
            self.assertEqual(data["TopicArn"], TOPIC)
            msg = json.loads(data["Message"])
            self.assertEqual(msg["AlarmName"], "failed-logins")
            self.assertEqual(msg["NewStateValue"], "ALARM", msg)
            self.assertIn("3.0", msg["NewStateReason"])
            self.assertTrue(data["Subject"].startswith('ALARM: "failed-logins"'), data["Subject"])
            # The trail itself still shows the three logins.
            with open(os.path.join(tmp, "out.jsonl")) as f:
                trail = [json.loads(line) for line in f if '"USER_LOGIN"' in line]
            self.assertEqual(len(trail), 3)


if __name__ == "__main__":
    harness.main()
