"""End-to-end alarms: the real trailwatch binary, a /proc tree this test rewrites, fakeaws for IMDS
and SNS. Run by CTest:

    /usr/bin/python3 tests/integration/test_alarms.py <trailwatch binary> <source dir>

A CPU alarm (cpu_usage_user >= 50, period 2 s, 1 of 1, metrics every 1 s) must go ALARM while the
fake CPU is 95 % busy and OK when it is 5 % busy, with CloudWatch-shaped SNS notifications that
arrive in order, none lost while SNS is down and none repeated across a restart.
"""

import calendar
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time

import harness

TOPIC = "arn:aws:sns:us-east-1:123456789012:tw-alarms"
ALARM = "cpu-busy"
PERIOD_S = 2
CPUS = 2
USER_HZ = 100


class FakeProc:
    """A /proc tree whose /proc/stat counters grow as if the CPUs were `busy` (0..1) busy."""

    def __init__(self, root, busy):
        self.root = root
        self.busy = busy
        self.user = 100000.0
        self.idle = 900000.0
        self.stop_event = threading.Event()
        src = os.path.join(harness.SOURCE_DIR, "tests", "data", "proc", "two_cpu", "t0")
        os.makedirs(os.path.join(root, "net"), exist_ok=True)
        shutil.copy(os.path.join(src, "meminfo"), os.path.join(root, "meminfo"))
        shutil.copy(os.path.join(src, "net", "dev"), os.path.join(root, "net", "dev"))
        self.write()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def write(self):
        # In place and always the same length (zero-padded counters), like the kernel's file: the
        # agent keeps /proc/stat open and re-reads it, so a rename would not be seen.
        u, i = int(self.user), int(self.idle)
        lines = ["cpu  %012d 0 0 %012d 0 0 0 0 0 0" % (u, i)]
        for n in range(CPUS):
            lines.append("cpu%d %012d 0 0 %012d 0 0 0 0 0 0" % (n, u // CPUS, i // CPUS))
        lines += ["intr 0", "ctxt 0", "btime 1700000000", "processes 1", "procs_running 1", "procs_blocked 0"]
        data = ("\n".join(lines) + "\n").encode()
        path = os.path.join(self.root, "stat")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, data, 0)
        finally:
            os.close(fd)

    def run(self):
        last = time.monotonic()
        while not self.stop_event.wait(0.05):
            now = time.monotonic()
            jiffies = (now - last) * USER_HZ * CPUS
            last = now
            self.user += jiffies * self.busy
            self.idle += jiffies * (1 - self.busy)
            self.write()

    def stop(self):
        self.stop_event.set()
        self.thread.join()


def config_yaml(tmp, fake):
    return """agent:
  state_dir: {tmp}/state
  proc_root: {tmp}/proc
  shutdown_timeout: 2s
aws:
  imds:
    endpoint: {ep}
    timeout: 1s
  endpoints:
    sns: {ep}
    cloudwatch: {ep}
metrics:
  interval: 1s
  flush_interval: 1s
  output: local
  memory:
    enabled: false
  network:
    enabled: false
audit:
  enabled: false
delivery:
  retry_base: 100ms
  retry_max_backoff: 1s
local:
  path: {tmp}/out.jsonl
alarms:
  - name: {alarm}
    metric: cpu_usage_user
    statistic: Average
    period: {period}s
    evaluation_periods: 1
    datapoints_to_alarm: 1
    comparison: GreaterThanOrEqualToThreshold
    threshold: 50
    alarm_actions: ["{topic}"]
    ok_actions: ["{topic}"]
""".format(tmp=tmp, ep=fake.endpoint, alarm=ALARM, period=PERIOD_S, topic=TOPIC)


def period_end(message):
    """End of the period the transition was decided on: the newest datapoint in NewStateReason
    ("[95.0 (24/11/26 05:50:02)]", the period start, UTC) plus the period."""
    m = re.search(r"\((\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\)", message["NewStateReason"])
    if not m:
        return None
    d, mo, y, h, mi, s = (int(x) for x in m.groups())
    return calendar.timegm((2000 + y, mo, d, h, mi, s)) + PERIOD_S


class AlarmsTest(harness.FakeAwsTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tw-alarms-")
        os.makedirs(os.path.join(self.tmp, "proc"))
        self.proc = FakeProc(os.path.join(self.tmp, "proc"), busy=0.95)
        self.config = harness.write_config(self.tmp, config_yaml(self.tmp, self.fake))
        self.agent = harness.Agent(self, self.config, self.tmp)

    def tearDown(self):
        self.proc.stop()
        if self._outcome_ok():
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept", self.tmp, file=sys.stderr)

    def _outcome_ok(self):
        result = getattr(self, "_outcome", None)
        errors = getattr(result, "errors", None) or getattr(getattr(result, "result", None), "errors", [])
        return not any(e[1] for e in errors if e and e[0] is self)

    # -- helpers ------------------------------------------------------------------------------------
    def start_agent(self):
        return self.agent.start()

    def stop_agent(self, _):
        self.agent.stop_ok(timeout=15)

    def agent_log(self):
        return self.agent.log()

    def saved_state(self):
        try:
            with open(os.path.join(self.tmp, "state", "alarms.json")) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return None
        for alarm in doc.get("alarms", []):
            if alarm.get("name") == ALARM:
                return alarm.get("state")
        return None

    def wait_state(self, state, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.saved_state() == state:
                return
            time.sleep(0.1)
        self.fail("alarm never reached %s (saved: %s)\n%s" % (state, self.saved_state(), self.agent_log()))

    def published(self, count, timeout=20):
        recs = self.fake.wait_for("sns", count=count, timeout=timeout, accepted=True, operation="Publish")
        self.assertGreaterEqual(len(recs), count, self.agent_log())
        return recs

    def messages(self, recs):
        return [json.loads(r["data"]["Message"]) for r in recs]

    def assert_cloudwatch_shape(self, rec, old, new):
        data = rec["data"]
        self.assertEqual(data["TopicArn"], TOPIC)
        self.assertEqual(data["Subject"], '%s: "%s" in US East (N. Virginia)' % (new, ALARM))
        msg = json.loads(data["Message"])
        self.assertEqual(msg["AlarmName"], ALARM)
        self.assertEqual(msg["OldStateValue"], old)
        self.assertEqual(msg["NewStateValue"], new)
        self.assertEqual(msg["AWSAccountId"], "123456789012")  # from IMDS
        self.assertEqual(msg["Region"], "US East (N. Virginia)")
        self.assertEqual(msg["AlarmArn"], "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + ALARM)
        self.assertEqual(msg["AlarmActions"], [TOPIC])
        self.assertEqual(msg["OKActions"], [TOPIC])
        trigger = msg["Trigger"]
        self.assertEqual(trigger["MetricName"], "cpu_usage_user")
        self.assertEqual(trigger["Period"], PERIOD_S)
        self.assertEqual(trigger["EvaluationPeriods"], 1)
        self.assertEqual(trigger["Threshold"], 50.0)
        self.assertEqual(trigger["ComparisonOperator"], "GreaterThanOrEqualToThreshold")
        self.assertRegex(msg["StateChangeTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
        attrs = data["MessageAttributes"]
        self.assertEqual(attrs["AlarmName"]["StringValue"], ALARM)
        self.assertEqual(attrs["NewStateValue"]["StringValue"], new)
        return msg

    # -- tests --------------------------------------------------------------------------------------
    def test_alarm_then_ok_in_order_with_latency(self):
        p = self.start_agent()
        first = self.published(1)[0]
        msg = self.assert_cloudwatch_shape(first, "INSUFFICIENT_DATA", "ALARM")
        self.assertIn("Threshold Crossed", msg["NewStateReason"])
        self.proc.busy = 0.05
        recs = self.published(2)
        self.assertEqual(len(recs), 2, [m["NewStateValue"] for m in self.messages(recs)])
        self.assert_cloudwatch_shape(recs[1], "ALARM", "OK")
        self.assertLess(recs[0]["seq"], recs[1]["seq"])
        latencies = []
        for rec in recs:
            end = period_end(json.loads(rec["data"]["Message"]))
            self.assertIsNotNone(end)
            latencies.append(rec["time"] - end)
        print("\nalarm notification latency (end of the deciding period -> fakeaws received): "
              "ALARM %.3f s, OK %.3f s" % tuple(latencies), file=sys.stderr)
        for lat in latencies:
            self.assertGreaterEqual(lat, 0)
            self.assertLess(lat, 5.0)
        self.stop_agent(p)
        self.assertNotIn("trailwatch.delayed", first["data"]["MessageAttributes"])

    def test_sns_down_during_alarm_phase_then_both_arrive_in_order(self):
        self.fake.down("sns")
        p = self.start_agent()
        self.wait_state("ALARM")
        time.sleep(1.5)  # a few delivery attempts against the closed port
        self.proc.busy = 0.05
        self.wait_state("OK")
        self.assertEqual(self.fake.requests("sns", accepted=True), [])
        refused = [r for r in self.fake.requests("sns") if r.get("error_code") == "fault:down"]
        self.assertGreater(len(refused), 0)
        self.fake.up("sns")
        recs = self.published(2, timeout=30)
        time.sleep(1.0)
        recs = self.fake.requests("sns", accepted=True)
        self.assertEqual([(m["OldStateValue"], m["NewStateValue"]) for m in self.messages(recs)],
                         [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK")])
        self.assert_cloudwatch_shape(recs[0], "INSUFFICIENT_DATA", "ALARM")
        self.assert_cloudwatch_shape(recs[1], "ALARM", "OK")
        self.stop_agent(p)
        # Nothing left queued: every line is a "done" mark (a rewrite keeps one, for the highest id used).
        with open(os.path.join(self.tmp, "state", "notifications.jsonl")) as f:
            lines = [json.loads(line) for line in f]
        self.assertLessEqual(len(lines), 1, lines)
        self.assertTrue(all("done" in j for j in lines), lines)

    def test_restart_between_alarm_and_ok_sends_no_duplicate(self):
        p = self.start_agent()
        self.published(1)
        self.stop_agent(p)
        self.assertEqual(self.saved_state(), "ALARM")
        p = self.start_agent()
        time.sleep(4)  # still busy: evaluations keep ALARM, nothing is (re)sent
        self.assertEqual(len(self.fake.requests("sns", accepted=True)), 1, self.agent_log())
        self.proc.busy = 0.05
        recs = self.published(2)
        time.sleep(1.0)
        recs = self.fake.requests("sns", accepted=True)
        self.assertEqual([(m["OldStateValue"], m["NewStateValue"]) for m in self.messages(recs)],
                         [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK")], self.agent_log())
        self.assertIn("restored in ALARM", self.agent_log())
        self.stop_agent(p)


if __name__ == "__main__":
    harness.main()
