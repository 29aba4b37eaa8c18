"""`--config ssm:NAME` end to end: the real binary fetches its YAML from fakeaws's SSM Parameter Store
(GetParameter signed with our SigV4, checked by botocore), caches the last good copy, starts from the
cache when SSM is down, refuses an invalid fetched config (cache kept), re-fetches on SIGHUP, and
`trailwatch validate --config ssm:NAME` exits 0 / 78 / 69. Run by CTest:

    /usr/bin/python3 tests/integration/test_ssm_config.py <trailwatch binary> <source dir>
"""

import json
import os
import signal
import stat
import subprocess
import tempfile
import time

import harness

NAME = "/trailwatch/fleet"


def fleet_yaml(tmp, out="out.jsonl", namespace="Fleet/A"):
    # Metrics to the local sink only: what the test checks is which config the agent runs.
    return f"""agent:
  state_dir: {tmp}/state
  shutdown_timeout: 2s
aws:
  imds:
    enabled: false
metrics:
  interval: 1s
  flush_interval: 1s
  namespace: {namespace}
  high_resolution: true
audit:
  enabled: false
local:
  path: {tmp}/{out}
"""


INVALID_YAML = """agent:
  shutdown_timeout: 2s
metrics:
  interval: sixty
"""


class SsmConfigTest(harness.FakeAwsTestCase):
    def setUp(self):
        super().setUp()
        self.tmpdir = tempfile.TemporaryDirectory(prefix="trailwatch-ssm-")
        self.addCleanup(self.tmpdir.cleanup)
        self.tmp = self.tmpdir.name
        self.boot = os.path.join(self.tmp, "boot")  # --state-dir: where the ssm cache lives
        self.env = harness.agent_env(self.fake)
        self.env["AWS_EC2_METADATA_DISABLED"] = "true"
        self.env["AWS_ENDPOINT_URL_SSM"] = self.fake.endpoint
        self.cache_dir = os.path.join(self.boot, "ssm-config-cache")

    # -- helpers ---------------------------------------------------------------------------------
    def seed(self, value, type="String", tier="Standard"):  # noqa: A002 - mirrors the SSM field
        self.fake.config(ssm_parameters={NAME: {"value": value, "type": type, "tier": tier}})

    def agent(self):
        return harness.Agent(self, "ssm:" + NAME, self.tmp, env=self.env, extra_args=["--state-dir", self.boot])

    def trailwatch(self, *args, timeout=60):
        return subprocess.run([harness.BINARY, *args, "--state-dir", self.boot], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def cache_files(self):
        try:
            return sorted(os.listdir(self.cache_dir))
        except FileNotFoundError:
            return []

    def cache_text(self):
        files = self.cache_files()
        self.assertEqual(len(files), 1, files)
        with open(os.path.join(self.cache_dir, files[0])) as f:
            return f.read()

    def wait_for(self, what, predicate, agent, timeout=30):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail("timed out waiting for %s:\n%s" % (what, agent.log()[-4000:]))
            self.assertIsNone(agent.proc.poll(), "agent exited:\n" + agent.log()[-4000:])
            time.sleep(0.05)

    def namespaces(self, out):
        """The CloudWatch namespaces of the metric records in the local output file `out`."""
        seen = set()
        for line in harness.read(os.path.join(self.tmp, out)).splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line being written
            if isinstance(rec.get("payload"), dict) and "Namespace" in rec["payload"]:
                seen.add(rec["payload"]["Namespace"])
        return seen

    def ssm_calls(self):
        return self.fake.requests(service="ssm", operation="GetParameter")

    # -- tests -----------------------------------------------------------------------------------
    def test_fetch_run_sighup_refetch_and_refusal(self):
        self.seed(fleet_yaml(self.tmp), type="SecureString")
        agent = self.agent()
        agent.start()
        calls = self.ssm_calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertTrue(calls[0]["accepted"], calls[0])  # botocore checked the signature
        self.assertEqual(calls[0]["data"]["WithDecryption"], True)
        self.assertIn("configuration fetched from ssm:" + NAME, agent.log())
        # The cache: one file, 0600, the decrypted YAML.
        files = self.cache_files()
        self.assertEqual(len(files), 1, files)
        self.assertTrue(files[0].startswith("trailwatch_fleet-") and files[0].endswith(".yaml"), files)
        mode = stat.S_IMODE(os.stat(os.path.join(self.cache_dir, files[0])).st_mode)
        self.assertEqual(mode, 0o600, oct(mode))
        self.assertEqual(self.cache_text(), fleet_yaml(self.tmp))
        self.wait_for("metrics from the fetched config", lambda: "Fleet/A" in self.namespaces("out.jsonl"), agent)

        # A new version of the parameter, applied on SIGHUP.
        self.seed(fleet_yaml(self.tmp, out="out2.jsonl", namespace="Fleet/B"), type="SecureString")
        agent.proc.send_signal(signal.SIGHUP)
        self.wait_for("reload applied", lambda: "reload applied" in agent.log(), agent)
        self.assertIn("fetched ssm:%s version 2" % NAME, agent.log())
        self.wait_for("metrics from version 2", lambda: "Fleet/B" in self.namespaces("out2.jsonl"), agent)
        self.assertEqual(self.cache_text(), fleet_yaml(self.tmp, out="out2.jsonl", namespace="Fleet/B"))

        # An invalid version 3: refused with its line and key, the cache and the running config kept.
        self.seed(INVALID_YAML, type="SecureString")
        mark = len(agent.log())
        agent.proc.send_signal(signal.SIGHUP)
        self.wait_for("the refusal", lambda: "refused" in agent.log()[mark:], agent)
        log = agent.log()[mark:]
        self.assertIn("ssm:%s:4:13: metrics.interval" % NAME, log)
        self.assertIn("version 3", log)
        self.assertIn("cache %s kept" % os.path.join(self.cache_dir, self.cache_files()[0]), log)
        self.assertIn("keeping the running configuration", log)
        self.assertEqual(self.cache_text(), fleet_yaml(self.tmp, out="out2.jsonl", namespace="Fleet/B"))

        # SSM down: a failed re-fetch keeps the running config too.
        self.fake.down("ssm")
        mark = len(agent.log())
        agent.proc.send_signal(signal.SIGHUP)
        self.wait_for("the failed re-fetch", lambda: "reload rejected" in agent.log()[mark:], agent, timeout=60)
        self.assertIn("keeping the running configuration", agent.log()[mark:])
        before = len(harness.read(os.path.join(self.tmp, "out2.jsonl")))
        self.wait_for("metrics still flowing",
                      lambda: len(harness.read(os.path.join(self.tmp, "out2.jsonl"))) > before, agent)
        agent.stop_ok()

    def test_cache_used_when_ssm_is_down(self):
        # No cache yet and SSM down: run cannot start, and says why (69, not the config error 78).
        self.fake.down("ssm")
        r = self.trailwatch("run", "--config", "ssm:" + NAME)
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn("no cached copy", r.stderr)
        self.fake.up("ssm")

        # `once` fetches and caches, like run.
        self.seed(fleet_yaml(self.tmp))
        r = self.trailwatch("once", "--config", "ssm:" + NAME)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"Namespace":"Fleet/A"', r.stdout.replace(" ", ""))
        self.assertEqual(self.cache_text(), fleet_yaml(self.tmp))

        # Boot without SSM: the agent starts from the cache, with a warning naming it and its age.
        self.fake.down("ssm")
        agent = self.agent()
        agent.start()
        log = agent.log()
        self.assertIn("using the cached copy %s" % os.path.join(self.cache_dir, self.cache_files()[0]), log)
        self.assertRegex(log, r"last fetched \d+ s ago")
        self.wait_for("metrics from the cached config", lambda: "Fleet/A" in self.namespaces("out.jsonl"), agent)
        agent.stop_ok()

    def test_invalid_fetched_config_refused_at_start(self):
        # Without a cache: exit 78 with the errors named ssm:NAME:line:col: key.
        self.seed(INVALID_YAML)
        r = self.trailwatch("run", "--config", "ssm:" + NAME)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("ssm:%s:4:13: metrics.interval" % NAME, r.stderr)
        self.assertEqual(self.cache_files(), [])

        # With a cache: the invalid version is refused, the agent starts from the cached copy, kept as is.
        self.seed(fleet_yaml(self.tmp))
        self.assertEqual(self.trailwatch("once", "--config", "ssm:" + NAME).returncode, 0)
        self.seed(INVALID_YAML)
        agent = self.agent()
        agent.start()
        log = agent.log()
        self.assertIn("(version 3) refused: 1 error(s); cache", log)
        self.assertIn("kept; using the cached copy", log)
        self.assertEqual(self.cache_text(), fleet_yaml(self.tmp))
        agent.stop_ok()

    def test_parameter_not_found(self):
        r = self.trailwatch("validate", "--config", "ssm:/trailwatch/missing")
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn("ssm:/trailwatch/missing", r.stderr)
        self.assertIn("parameter not found (ParameterNotFound", r.stderr)
        r = self.trailwatch("run", "--config", "ssm:/trailwatch/missing")
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn("ParameterNotFound", r.stderr)

    def test_validate_exit_codes(self):
        self.seed(fleet_yaml(self.tmp), type="SecureString")
        r = self.trailwatch("validate", "--config", "ssm:" + NAME)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ssm:%s: valid" % NAME, r.stderr)
        self.assertEqual(self.cache_files(), [])  # validate never writes the cache
        # By ARN (the region comes from the ARN).
        arn = "arn:aws:ssm:us-east-1:123456789012:parameter" + NAME
        r = self.trailwatch("validate", "--config", "ssm:" + arn)
        self.assertEqual(r.returncode, 0, r.stderr)

        self.seed(INVALID_YAML)
        r = self.trailwatch("validate", "--config", "ssm:" + NAME)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("ssm:%s:4:13: metrics.interval: expected a duration" % NAME, r.stderr)

        # Network failure: non-zero, distinct from 78, says so; --allow-cache validates the cache instead.
        self.seed(fleet_yaml(self.tmp))
        self.assertEqual(self.trailwatch("once", "--config", "ssm:" + NAME).returncode, 0)
        self.fake.down("ssm")
        r = self.trailwatch("validate", "--config", "ssm:" + NAME)
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn("could not be fetched", r.stderr)
        r = self.trailwatch("validate", "--config", "ssm:" + NAME, "--allow-cache")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("validating the cached copy", r.stderr)
        self.fake.up("ssm")

        # No credentials at all (IMDS off too): 69 as well, and the message says which.
        self.env.pop("AWS_ACCESS_KEY_ID")
        self.env.pop("AWS_SECRET_ACCESS_KEY")
        r = self.trailwatch("validate", "--config", "ssm:" + NAME)
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn("CredentialsUnavailable", r.stderr)
        self.assertIn("no AWS credentials found", r.stderr)

    def test_prepare_image_fetches_and_keeps_the_cache(self):
        # An image build: prepare-image finds agent.state_dir in the parameter, clears the instance state
        # there, and leaves the cached copy for a first boot without network.
        self.seed(fleet_yaml(self.tmp))
        os.makedirs(os.path.join(self.tmp, "state"))
        planted = os.path.join(self.tmp, "state", "checkpoints.json")
        with open(planted, "w") as f:
            f.write("{}")
        r = self.trailwatch("prepare-image", "--config", "ssm:" + NAME, "--yes")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("removed " + planted, r.stdout)
        self.assertFalse(os.path.exists(planted))
        self.assertEqual(self.cache_text(), fleet_yaml(self.tmp))
        # Again with SSM down: the cached copy names the same state_dir.
        self.fake.down("ssm")
        with open(planted, "w") as f:
            f.write("{}")
        r = self.trailwatch("prepare-image", "--config", "ssm:" + NAME, "--yes")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("using the cached copy", r.stderr)
        self.assertFalse(os.path.exists(planted))

    def test_size_limits_and_bad_name(self):
        # fakeaws refuses values over the tier limit, as PutParameter does (4 KB standard, 8 KB advanced).
        from client import FakeAwsError  # tests/fakeaws, on sys.path once harness.main() ran
        big = "# " + "x" * 5000 + "\n" + fleet_yaml(self.tmp)
        with self.assertRaisesRegex(FakeAwsError, "maximum parameter value"):
            self.seed(big)
        self.seed(big, tier="Advanced")
        r = self.trailwatch("validate", "--config", "ssm:" + NAME)
        self.assertEqual(r.returncode, 0, r.stderr)
        with self.assertRaisesRegex(FakeAwsError, "maximum parameter value"):
            self.seed("# " + "x" * 9000 + "\n", tier="Advanced")
        # A malformed name never leaves the host.
        calls = len(self.ssm_calls())
        r = self.trailwatch("validate", "--config", "ssm:/bad name")
        self.assertNotIn(r.returncode, (0, 78), r.stderr)
        self.assertIn("letters, digits", r.stderr)
        self.assertEqual(len(self.ssm_calls()), calls)


if __name__ == "__main__":
    harness.main()
