"""The real trailwatch binary ships metrics to a local CloudWatch (fakeaws, SigV4 checked by botocore).

Run by CTest: /usr/bin/python3 test_metrics_cloudwatch.py <trailwatch binary> <source dir>
Acceptance of issue 4: 1 s interval, 5 s flush; every accepted datum carries the expected names, units,
dimensions and timestamps; values agree with /proc snapshots taken by the test; no request crosses a limit.
"""

import json
import os
import re
import tempfile
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timezone

import harness

# CloudWatch agent names and units (agent/sources/proc_sampler.cc emits these).
EXPECTED_UNITS = {
    **{f"cpu_usage_{k}": "Percent" for k in
       ("user", "system", "idle", "nice", "iowait", "irq", "softirq", "steal", "guest", "guest_nice", "active")},
    **{f"mem_{k}": "Bytes" for k in ("total", "available", "used", "free", "cached", "buffered", "active", "inactive")},
    "mem_used_percent": "Percent", "mem_available_percent": "Percent",
    "swap_used": "Bytes", "swap_free": "Bytes", "swap_used_percent": "Percent",
    "net_bytes_sent": "Bytes", "net_bytes_recv": "Bytes",
    **{f"net_{k}": "Count" for k in ("packets_sent", "packets_recv", "err_in", "err_out", "drop_in", "drop_out")},
}
CPU_PARTS = ("user", "system", "idle", "nice", "iowait", "irq", "softirq", "steal")


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, rest = line.split(":", 1)
            out[key] = int(rest.split()[0]) * 1024
    return out


def parse_time(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def spooled_datums(path):
    """The datums of the live records in a metrics spool (DurableQueue JSON lines: records minus "done")."""
    records = {}
    with open(path) as f:
        for line in f:
            j = json.loads(line)
            if "done" in j:
                records.pop(j["done"], None)
            else:
                records[j["id"]] = json.loads(j["data"])
    out = []
    for rec in records.values():
        form = dict(urllib.parse.parse_qsl(rec["body"], keep_blank_values=True))
        assert form["Action"] == "PutMetricData", form
        members = {}
        for k, v in form.items():
            m = re.match(r"MetricData\.member\.(\d+)\.(.+)$", k)
            if m:
                members.setdefault(int(m.group(1)), {})[m.group(2)] = v
        assert len(members) == rec["datums"], rec
        for d in members.values():
            dims = tuple(sorted((d[f"Dimensions.member.{i}.Name"], d[f"Dimensions.member.{i}.Value"])
                                for i in range(1, 31) if f"Dimensions.member.{i}.Name" in d))
            out.append((d["MetricName"], dims, parse_time(d["Timestamp"])))
    return out


def datum_key(d):
    """(name, sorted dimensions, epoch seconds) of a datum as fakeaws records it."""
    dims = tuple(sorted((x["Name"], x["Value"]) for x in d.get("Dimensions", [])))
    return (d["MetricName"], dims, parse_time(d["Timestamp"]))


class MetricsToCloudWatch(harness.FakeAwsTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory(prefix="trailwatch-it-")
        self.addCleanup(self.tmp.cleanup)
        self.agent = None

    def start_agent(self, extra_metrics=""):
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
    cloudwatch: {ep}
metrics:
  output: cloudwatch
  interval: 1s
  flush_interval: 5s
  high_resolution: true
  namespace: TrailwatchIT
  append_dimensions: [InstanceId]
  cpu:
    per_cpu: true
{extra_metrics}
audit:
  enabled: false
"""
        config = harness.write_config(self.tmp.name, cfg)
        if self.agent is None:
            self.agent = harness.Agent(self, config, self.tmp.name, harness.agent_env(self.fake))
        self.agent.start()
        return self.agent

    def stop_agent(self, timeout=30):
        self.assertEqual(self.agent.stop(timeout=timeout), 0, self.log())

    def log(self):
        """The latest run's stderr."""
        return self.agent.last_log()

    def datums(self, accepted=True):
        out = []
        for r in self.fake.requests("monitoring", accepted=accepted):
            out.extend(r["data"]["datums"] if r.get("data") else [])
        return out

    def test_datums_names_units_dimensions_timestamps_and_values(self):
        mem_before = meminfo()
        t_start = time.time()
        self.start_agent()
        self.fake.wait_for("monitoring", count=2, timeout=60, accepted=True)
        mem_after = meminfo()
        self.stop_agent()
        t_end = time.time()

        self.assertEqual(self.fake.requests("monitoring", accepted=False), [], "no request may be rejected")
        reqs = self.fake.requests("monitoring", accepted=True)
        self.assertGreaterEqual(len(reqs), 2)
        instance_id = self.fake.config()["imds_instance_id"]
        by_time = {}
        names = set()
        for r in reqs:
            self.assertEqual(r["data"]["Namespace"], "TrailwatchIT")
            self.assertLessEqual(len(r["data"]["datums"]), 1000)
            for d in r["data"]["datums"]:
                name = d["MetricName"]
                names.add(name)
                self.assertIn(name, EXPECTED_UNITS)
                self.assertEqual(d["Unit"], EXPECTED_UNITS[name], name)
                self.assertEqual(int(d["StorageResolution"]), 1)
                dims = {x["Name"]: x["Value"] for x in d.get("Dimensions", [])}
                self.assertEqual(dims.get("InstanceId"), instance_id, d)
                if name.startswith("cpu_"):
                    self.assertRegex(dims.get("cpu", ""), r"^(cpu-total|cpu\d+)$")
                if name.startswith("net_"):
                    self.assertIn("interface", dims)
                    self.assertNotEqual(dims["interface"], "lo")  # excluded by default
                ts = parse_time(d["Timestamp"])
                self.assertGreaterEqual(ts, int(t_start) - 1)
                self.assertLessEqual(ts, t_end + 1)
                self.assertIn("Value", d, "1 s buckets at 1 s sampling: one sample per datum")
                by_time.setdefault((ts, dims.get("cpu")), {})[name] = d["Value"]
                if name == "mem_total":
                    self.assertEqual(d["Value"], mem_before["MemTotal"])
                if name == "mem_used_percent":
                    lo = 100.0 * (1 - max(mem_before["MemAvailable"], mem_after["MemAvailable"]) / mem_before["MemTotal"])
                    hi = 100.0 * (1 - min(mem_before["MemAvailable"], mem_after["MemAvailable"]) / mem_before["MemTotal"])
                    self.assertGreaterEqual(d["Value"], lo - 2.0)
                    self.assertLessEqual(d["Value"], hi + 2.0)
                if name.startswith("net_"):
                    self.assertGreaterEqual(d["Value"], 0)
                    self.assertEqual(d["Value"], int(d["Value"]))
        for group in ("cpu_usage_user", "cpu_usage_idle", "mem_used_percent", "mem_total"):
            self.assertIn(group, names)
        # CPU shares of one sample add up to 100 %.
        checked = 0
        for (_, cpu), values in by_time.items():
            if cpu is None or not all(f"cpu_usage_{p}" in values for p in CPU_PARTS):
                continue
            self.assertAlmostEqual(sum(values[f"cpu_usage_{p}"] for p in CPU_PARTS), 100.0, delta=0.01)
            checked += 1
        self.assertGreater(checked, 0)
        # Datapoints keep sampling time: several distinct timestamps, one second apart.
        stamps = sorted({ts for ts, _ in by_time})
        self.assertGreaterEqual(len(stamps), 4)
        self.assertTrue(all(b - a >= 1 for a, b in zip(stamps, stamps[1:])))

    def test_throttled_and_failed_flushes_are_retried_and_nothing_is_lost(self):
        # The first 3 PutMetricData attempts are throttled, the next 2 fail with 503: the AwsClient retries,
        # and what still fails waits for the next flush. Every sample round ends up accepted exactly once.
        self.fake.throttle("monitoring", count=3)
        self.fake.fail("monitoring", count=2, status=503)
        self.start_agent()
        self.fake.wait_for("monitoring", count=3, timeout=90, accepted=True)
        self.stop_agent(timeout=60)
        rejected = self.fake.requests("monitoring", accepted=False)
        self.assertGreaterEqual(len(rejected), 5, "the injected faults were seen")
        seen = {}
        for d in self.datums():
            if d["MetricName"] == "mem_total":
                seen[d["Timestamp"]] = seen.get(d["Timestamp"], 0) + 1
        self.assertTrue(seen)
        self.assertEqual(max(seen.values()), 1, "no datapoint delivered twice")
        # Everything the agent packed was accepted: the count it reports at stop equals what fakeaws kept.
        m = re.search(r"trailwatch stopped: .* (\d+) datums in (\d+) requests", self.log())
        self.assertIsNotNone(m, self.log())
        self.assertEqual(int(m.group(1)), len(self.datums()), self.log())

    def test_outage_then_restart_delivers_every_spooled_datum_once(self):
        # CloudWatch answers 503 to every PutMetricData: what fails is spooled, and SIGTERM spools the rest.
        # The next start (CloudWatch back) sends all of it first, each datapoint once.
        self.fake.fail("monitoring", status=503, count=None)
        spool = os.path.join(self.tmp.name, "state", "metrics-spool.jsonl")
        self.start_agent()
        self.fake.wait_for("monitoring", count=6, timeout=60, accepted=False)  # two failed calls or more
        self.stop_agent()
        log1 = self.log()
        self.assertEqual(self.fake.requests("monitoring", accepted=True), [])
        self.assertTrue(os.path.exists(spool), log1)
        spooled = spooled_datums(spool)
        self.assertTrue(spooled, log1)
        self.assertEqual(max(Counter(spooled).values()), 1, "a datapoint spooled twice")
        m = re.search(r"metrics: (\d+) datum\(s\) in (\d+) request\(s\) not delivered before stopping; spooled in "
                      + re.escape(spool), log1)
        self.assertIsNotNone(m, log1)
        self.assertEqual(int(m.group(1)), len(spooled), log1)
        self.assertNotIn("are lost", log1)
        # Everything the first run packed is in the spool (its stop line counts what it packed).
        packed = re.search(r"trailwatch stopped: .* (\d+) datums in (\d+) requests", log1)
        self.assertIsNotNone(packed, log1)
        self.assertEqual(int(packed.group(1)), len(spooled), log1)

        self.fake.clear_faults()
        time.sleep(1.1 - time.time() % 1)  # the next run samples from a later second than the last spooled one
        self.start_agent()
        # Until the spooled datums and some of this run's own are in.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            keys = {datum_key(d) for d in self.datums()}
            if set(spooled) <= keys and keys - set(spooled):
                break
            time.sleep(0.2)
        self.stop_agent()
        log2 = self.log()
        self.assertIn(f"metrics: {len(spooled)} datum(s) in {m.group(2)} request(s) restored from {spool}", log2)
        accepted = Counter(datum_key(d) for d in self.datums())
        for key in spooled:
            self.assertEqual(accepted[key], 1, f"{key} delivered {accepted[key]} times")
        self.assertEqual(max(accepted.values()), 1, "no datapoint delivered twice")
        # The spooled requests went first, before any of the second run's data.
        kinds = [all(datum_key(d) in set(spooled) for d in r["data"]["datums"])
                 for r in self.fake.requests("monitoring", accepted=True)]
        self.assertIn(False, kinds, "the second run's own data arrived too")
        self.assertEqual(kinds, sorted(kinds, reverse=True), "spooled requests first, then new ones")
        self.assertEqual(spooled_datums(spool), [], "the spool is empty once everything was delivered")
        self.assertNotIn("not delivered before stopping", log2)


if __name__ == "__main__":
    harness.main()
