#!/usr/bin/env python3
"""Delivery under faults, end to end: the real trailwatch binary follows an audit log this test writes
while it runs, with CloudTrail Lake and CloudWatch Logs sinks on fakeaws (every signature checked by
botocore), while fakeaws throttles, goes down, or the agent is SIGKILLed. Each scenario checks what
docs/delivery.md promises: every event written is delivered to every sink; an event is sent again only
after a crash or an unknown outcome, and then with the same eventID; the fault and the recovery are
logged. Each prints one line of the loss table (docs/delivery.md, "Loss table"):

    FAULTS scenario=<name> written=N sink=<sink> delivered=N distinct=N resent=N dropped=0 drain_s=S peak_rss_mib=M

Bounded for CI (about a minute per scenario). TRAILWATCH_SOAK=1 runs each for longer at higher rates.

usage: test_faults.py <trailwatch binary> <source dir>
"""
import json
import os
import random
import signal
import tempfile
import threading
import time

import harness
from harness import read

CHANNEL = "arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef"
SOAK = os.environ.get("TRAILWATCH_SOAK") == "1"


def event_lines(serial, ts):
    stamp = "msg=audit(%.3f:%d):" % (ts, serial)
    return [
        "type=SYSCALL %s arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=10 "
        "pid=%d auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=7 comm=\"cat\" "
        "exe=\"/usr/bin/cat\" key=\"exec\"" % (stamp, serial),
        "type=EXECVE %s argc=2 a0=\"cat\" a1=\"/etc/hostname\"" % stamp,
        "type=PROCTITLE %s proctitle=636174002F6574632F686F73746E616D65" % stamp,
        "type=EOE %s" % stamp,
    ]


class Writer(threading.Thread):
    """Appends `rate` events per second to the log until stopped; remembers every serial written."""

    def __init__(self, path, rate):
        super().__init__(daemon=True)
        self.path = path
        self.rate = rate
        self.written = []
        self.stop_flag = threading.Event()
        self.next_serial = 5000

    def run(self):
        with open(self.path, "a") as f:
            while not self.stop_flag.is_set():
                t0 = time.monotonic()
                for _ in range(max(1, self.rate // 10)):
                    f.write("\n".join(event_lines(self.next_serial, time.time())) + "\n")
                    self.written.append(self.next_serial)
                    self.next_serial += 1
                f.flush()
                time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))

    def finish(self):
        self.stop_flag.set()
        self.join(timeout=10)


def rss_mib(pid):
    try:
        for line in read("/proc/%d/status" % pid).splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except (ValueError, IndexError):
        pass
    return 0.0


class Faults(harness.FakeAwsTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory(prefix="trailwatch-faults-")
        self.addCleanup(self.tmp.cleanup)
        self.log_path = os.path.join(self.tmp.name, "audit.log")
        open(self.log_path, "w").close()
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
metrics:
  enabled: false
audit:
  files: ["{self.log_path}"]
  poll_interval: 200ms
  event_timeout: 500ms
delivery:
  retry_base: 200ms
  retry_max_backoff: 2s
trail:
  sinks:
    - type: cloudtrail_lake
      channel_arn: {CHANNEL}
    - type: cloudwatch_logs
      log_group: /trailwatch/faults
      log_stream: faults
"""
        env = harness.agent_env(self.fake)
        # Under AddressSanitizer freed memory sits in a quarantine (256 MiB by default), which would
        # hide what the agent itself holds; a small one keeps RSS growth meaningful.
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "quarantine_size_mb=4"]))
        self.agent = harness.Agent(self, harness.write_config(self.tmp.name, cfg), self.tmp.name, env)
        self.peak_rss = 0.0
        self.base_rss = None

    # What each sink stored: serial -> [eventID, ...] (one entry per copy).
    def lake(self):
        out = {}
        for r in self.fake.requests("cloudtrail-data", accepted=True):
            for e in r["data"]["auditEvents"]:
                data = e["eventData"] if isinstance(e["eventData"], dict) else json.loads(e["eventDataRaw"])
                out.setdefault(int(data["UID"].rsplit(":", 1)[1]), []).append(e["id"])
        return out

    def logs(self):
        out = {}
        for r in self.fake.requests("logs", accepted=True):
            if r["operation"] != "PutLogEvents":
                continue
            for e in r["data"].get("logEvents", []):
                m = json.loads(e["message"])
                out.setdefault(int(m["requestID"].rsplit(":", 1)[1]), []).append(m["eventID"])
        return out

    def sample_rss(self):
        if self.agent.proc is not None:
            r = rss_mib(self.agent.proc.pid)
            if self.base_rss is None:
                self.base_rss = r
            self.peak_rss = max(self.peak_rss, r)

    def wait_for(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sample_rss()
            if cond():
                return time.monotonic()
            time.sleep(0.2)
        self.fail("timed out waiting for %s\n%s" % (what, self.agent.log()[-6000:]))

    def check_sink(self, scenario, name, got, written, t_recovered, max_resent):
        """Every serial delivered; copies only with one eventID; prints the loss-table row."""
        missing = sorted(set(written) - set(got))
        self.assertFalse(missing, "%s: %d of %d events never reached %s (first %s)\n%s" % (
            scenario, len(missing), len(written), name, missing[:5], self.agent.log()[-4000:]))
        for serial, ids in got.items():
            self.assertEqual(len(set(ids)), 1, "%s: serial %d reached %s under different eventIDs" % (
                scenario, serial, name))
        resent = sum(len(ids) - 1 for ids in got.values())
        print("FAULTS scenario=%s written=%d sink=%s delivered=%d distinct=%d resent=%d dropped=0 drain_s=%.1f "
              "peak_rss_mib=%.1f rss_growth_mib=%.1f" % (
                  scenario, len(written), name, sum(len(v) for v in got.values()), len(got), resent,
                  time.monotonic() - t_recovered, self.peak_rss, self.peak_rss - (self.base_rss or 0.0)),
              flush=True)
        self.assertLessEqual(resent, max_resent, "%s: %s got %d re-sent copies" % (scenario, name, resent))
        return resent

    def test_sigkills_while_lake_is_throttled_do_not_make_logs_resend(self):
        """10 SIGKILLs with Lake throttled used to make the Logs sink re-send everything past Lake's
        checkpoint at each restart (55,630 copies of 35,946 events). With per-sink checkpoints it re-sends
        at most what was in flight at each kill."""
        rate = 400 if SOAK else 100
        kills = 20 if SOAK else 5
        self.fake.throttle("cloudtrail-data", count=None)
        self.agent.start()
        writer = Writer(self.log_path, rate)
        writer.start()
        rnd = random.Random(11)
        for _ in range(kills):
            t_end = time.monotonic() + rnd.uniform(3.0, 5.0)
            while time.monotonic() < t_end:
                self.sample_rss()
                time.sleep(0.2)
            if os.environ.get("FAULTS_DEBUG"):
                got = self.logs()
                print("DEBUG before kill: logs distinct=%d copies=%d max_serial=%d ckpt=%s" % (
                    len(got), sum(len(v) for v in got.values()), max(got) if got else 0,
                    read(os.path.join(self.tmp.name, "state", "checkpoints.json")).replace("\n", " ")), flush=True)
            self.agent.kill()
            self.agent.start()
        writer.finish()
        written = writer.written
        # Logs keeps up while Lake is throttled.
        self.wait_for(lambda: set(written) <= set(self.logs()), 60, "the Logs sink to have every event")
        self.assertIn("ThrottlingException", self.agent.log())
        self.fake.clear_faults()
        t_recovered = time.monotonic()
        self.wait_for(lambda: set(written) <= set(self.lake()), 120, "the Lake sink to drain after the throttling")
        self.agent.stop_ok(timeout=60)
        # Each kill can lose the answer of the batch in flight and the acknowledgements since the last
        # commit (checkpoints are committed at most once a second, a batch lingers up to a second): up to
        # about three seconds of events per kill, whatever the backlog. Before per-sink checkpoints every
        # restart re-sent the whole backlog since Lake's checkpoint: here everything written so far, about
        # kills * (kills + 1) / 2 * 4 s * rate copies in all (6,000 at the CI rate), more than was written.
        logs_resent = self.check_sink("sigkill-lake-throttled", "cloudwatch_logs", self.logs(), written, t_recovered,
                                      max_resent=kills * 3 * rate)
        self.assertLess(logs_resent, len(written), "not the backlog again at each restart")
        self.check_sink("sigkill-lake-throttled", "cloudtrail_lake", self.lake(), written, t_recovered,
                        max_resent=kills * 3 * rate)

    def test_throttling_and_5xx_bursts_deliver_everything_once(self):
        """About every other call throttled (Lake) or answered 503 (Logs) for a while, under steady
        appends: everything arrives, nothing twice (a refused call stored nothing)."""
        rate = 500 if SOAK else 200
        seconds = 60 if SOAK else 8
        self.agent.start()
        writer = Writer(self.log_path, rate)
        writer.start()
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            self.fake.throttle("cloudtrail-data", count=1)
            self.fake.fail("logs", status=503, count=1)
            self.sample_rss()
            time.sleep(0.5)
        t_recovered = time.monotonic()
        writer.finish()
        written = writer.written
        self.wait_for(lambda: set(written) <= set(self.logs()) and set(written) <= set(self.lake()), 120,
                      "both sinks to drain after the bursts")
        self.agent.stop_ok(timeout=60)
        faulted = self.fake.faults()["counters"]
        self.assertGreater(faulted.get("cloudtrail-data", {}).get("faulted", 0), 0, faulted)
        self.assertGreater(faulted.get("logs", {}).get("faulted", 0), 0, faulted)
        self.check_sink("throttle-5xx-bursts", "cloudwatch_logs", self.logs(), written, t_recovered, max_resent=0)
        self.check_sink("throttle-5xx-bursts", "cloudtrail_lake", self.lake(), written, t_recovered, max_resent=0)

    def test_endpoint_down_then_back_delivers_everything(self):
        rate = 500 if SOAK else 200
        outage = 120 if SOAK else 8
        self.agent.start()
        writer = Writer(self.log_path, rate)
        writer.start()
        time.sleep(1)
        self.fake.down("logs")
        self.fake.down("cloudtrail-data")
        t_end = time.monotonic() + outage
        while time.monotonic() < t_end:
            self.sample_rss()
            time.sleep(0.2)
        self.fake.up("logs")
        self.fake.up("cloudtrail-data")
        t_recovered = time.monotonic()
        time.sleep(1)
        writer.finish()
        written = writer.written
        self.wait_for(lambda: set(written) <= set(self.logs()) and set(written) <= set(self.lake()), 120,
                      "both sinks to drain after the outage")
        self.agent.stop_ok(timeout=60)
        log = self.agent.log()
        self.assertIn("kept for a later attempt", log, "the outage is logged")
        self.assertIn("delivering again after", log, "the recovery is logged")
        self.check_sink("endpoint-down", "cloudwatch_logs", self.logs(), written, t_recovered, max_resent=0)
        self.check_sink("endpoint-down", "cloudtrail_lake", self.lake(), written, t_recovered, max_resent=0)
        self.assertLess(self.peak_rss - (self.base_rss or 0.0), 64.0, "memory stays bounded during the outage")


if __name__ == "__main__":
    harness.main()
