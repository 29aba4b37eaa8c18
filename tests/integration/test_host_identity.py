"""IMDS throttled (HTTP 429) at start, then recovering: the real binary, fakeaws for IMDS, CloudWatch
and CloudWatch Logs. Run by CTest:

    /usr/bin/python3 tests/integration/test_host_identity.py <trailwatch binary> <source dir>

A normal run names the events by the instance id and stores that identity. A second run, with its
checkpoints gone (so every event is sent again) and every IMDS request answered 429, must send the
same eventIDs (they used to be hashed from the machine id: none matched). Once IMDS answers, the
agent says so once, the CloudWatch Logs stream becomes the instance id and metrics get InstanceId.
"""

import json
import os
import re
import tempfile
import time

import harness

MID = "0123456789abcdef0123456789abcdef"


class HostIdentityTest(harness.FakeAwsTestCase):
    def setUp(self):
        super().setUp()
        self.tmpdir = tempfile.TemporaryDirectory(prefix="trailwatch-hostid-")
        self.addCleanup(self.tmpdir.cleanup)
        self.tmp = self.tmpdir.name
        self.state = os.path.join(self.tmp, "state")
        self.log_path = os.path.join(self.tmp, "audit.log")
        # The sample's events, moved to the last minutes: CloudWatch Logs refuses events older than 14 days.
        with open(os.path.join(harness.SOURCE_DIR, "tests", "data", "audit", "sample-audit.log")) as f:
            sample = f.read()
        shift = int(time.time()) - 300 - 1764000000
        with open(self.log_path, "w") as f:
            f.write(re.sub(r"audit\((\d+)\.", lambda m: "audit(%d." % (int(m.group(1)) + shift), sample))
        with open(os.path.join(self.tmp, "machine-id"), "w") as f:
            f.write(MID + "\n")
        ep = self.fake.endpoint
        cfg = f"""agent:
  state_dir: {self.state}
  shutdown_timeout: 10s
aws:
  region: us-east-1
  imds:
    endpoint: {ep}
    timeout: 1s
  endpoints:
    cloudwatch: {ep}
    cloudwatch_logs: {ep}
metrics:
  output: cloudwatch
  interval: 1s
  flush_interval: 1s
  high_resolution: true
  append_dimensions: [InstanceId]
  cpu:
    per_cpu: false
audit:
  files: ["{self.log_path}"]
  poll_interval: 200ms
  event_timeout: 500ms
trail:
  sinks:
    - type: cloudwatch_logs
      log_group: /trailwatch/hostid
      log_stream: "{{instance_id}}"
"""
        env = harness.agent_env(self.fake)
        env["TRAILWATCH_MACHINE_ID_FILE"] = os.path.join(self.tmp, "machine-id")
        self.agent = harness.Agent(self, harness.write_config(self.tmp, cfg), self.tmp, env=env)

    def log_puts(self):
        return [r for r in self.fake.requests("logs", accepted=True) if r["operation"] == "PutLogEvents"]

    def event_ids(self, puts):
        return [json.loads(e["message"])["eventID"] for r in puts for e in r["data"]["logEvents"]]

    def wait(self, what, cond, timeout=60):
        deadline = time.monotonic() + timeout
        while not cond():
            self.assertLess(time.monotonic(), deadline, "%s:\n%s" % (what, self.agent.log()[-6000:]))
            time.sleep(0.2)

    def datum_instance_ids(self):
        out = []
        for r in self.fake.requests("monitoring", accepted=True):
            for d in r["data"]["datums"] if r.get("data") else []:
                out.append({x["Name"]: x["Value"] for x in d.get("Dimensions", [])}.get("InstanceId"))
        return out

    def test_throttled_imds_at_start_keeps_event_ids_and_recovers_dimensions_and_stream(self):
        instance_id = self.fake.config()["imds_instance_id"]

        # A normal run: 10 events (libauparse's count for the sample), named by the instance.
        self.agent.start()
        self.wait("normal run: 10 events", lambda: len(self.event_ids(self.log_puts())) >= 10)
        self.agent.stop_ok()
        normal = self.event_ids(self.log_puts())
        self.assertEqual(len(set(normal)), 10, self.agent.log())
        with open(os.path.join(self.state, "identity.json")) as f:
            self.assertEqual(json.load(f)["event_host"], instance_id)

        # The same events again (checkpoints gone), IMDS answering 429 to everything.
        os.remove(os.path.join(self.state, "checkpoints.json"))
        self.fake.reset()
        self.fake.throttle("imds", count=None)
        self.agent.start()
        self.wait("throttled run: 10 events", lambda: len(self.event_ids(self.log_puts())) >= 10)
        throttled_puts = self.log_puts()
        self.assertEqual(sorted(set(self.event_ids(throttled_puts))), sorted(set(normal)),
                         "the eventIDs of a re-send must not depend on IMDS")
        self.assertTrue(all(r["data"]["logStreamName"] != instance_id for r in throttled_puts))
        self.wait("a metrics put while IMDS is down", lambda: self.datum_instance_ids())
        self.assertEqual(set(self.datum_instance_ids()), {None})

        # IMDS recovers: discovery is retried, the pipelines pick the instance up.
        seen = len(throttled_puts)
        self.fake.clear_faults()
        self.wait("recovery logged", lambda: "instance metadata answered after" in self.agent.last_log(), 90)
        with open(self.log_path, "a") as f:  # one more event, after the recovery
            f.write("type=USER_LOGIN msg=audit(%d.123:990001): pid=1 uid=0 auid=4294967295 ses=4294967295 "
                    "msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=ssh "
                    "res=failed'\n" % int(time.time()))
        self.wait("the new event in the instance's stream",
                  lambda: any(r["data"]["logStreamName"] == instance_id for r in self.log_puts()[seen:]))
        self.wait("InstanceId on metrics", lambda: instance_id in self.datum_instance_ids())
        self.agent.stop_ok()

        log = self.agent.last_log()
        self.assertEqual(log.count("no instance metadata"), 1, log)
        self.assertEqual(log.count("instance metadata answered after"), 1, log)
        after = self.log_puts()[seen:]
        # What was re-sent around the rebuild keeps its eventID; only the appended event is new.
        self.assertEqual(len(set(self.event_ids(after)) - set(normal)), 1, log)


if __name__ == "__main__":
    harness.main()
