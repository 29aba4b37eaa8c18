"""New-instance detection and `trailwatch prepare-image`, end to end: the real binary, fakeaws for
IMDS and CloudWatch. Run by CTest:

    /usr/bin/python3 tests/integration/test_new_instance.py <trailwatch binary> <source dir>

A run on instance A leaves checkpoints and spools in state_dir; a run on instance B (fakeaws's IMDS
answers another instance id) logs one line naming both ids and starts with none of A's state; a run
on B again resets nothing. prepare-image clears the state, refuses while the daemon runs, is idempotent.
"""

import json
import os
import subprocess
import tempfile
import time

import harness

MID = "0123456789abcdef0123456789abcdef"


def config_yaml(tmp, fake):
    return f"""agent:
  state_dir: {tmp}/state
  proc_root: /proc
  shutdown_timeout: 2s
aws:
  imds:
    endpoint: {fake.endpoint}
    timeout: 1s
  endpoints:
    cloudwatch: {fake.endpoint}
metrics:
  interval: 1s
  flush_interval: 1s
  output: cloudwatch
audit:
  files: ["{tmp}/audit.log"]
  poll_interval: 200ms
  event_timeout: 500ms
trail:
  sinks:
    - type: local
local:
  path: {tmp}/out.jsonl
"""


AUDIT_LINE = ('type=USER_LOGIN msg=audit(1700000000.%03d:%d): pid=1 uid=0 auid=4294967295 ses=4294967295 '
              'msg=\'op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=10.0.0.1 terminal=ssh res=failed\'\n')


class NewInstanceTest(harness.FakeAwsTestCase):
    def setUp(self):
        super().setUp()
        self.tmpdir = tempfile.TemporaryDirectory(prefix="trailwatch-ni-")
        self.addCleanup(self.tmpdir.cleanup)
        self.tmp = self.tmpdir.name
        self.state = os.path.join(self.tmp, "state")
        with open(os.path.join(self.tmp, "audit.log"), "w") as f:
            for i in range(3):
                f.write(AUDIT_LINE % (i, 100 + i))
        with open(os.path.join(self.tmp, "machine-id"), "w") as f:
            f.write(MID + "\n")
        self.config = harness.write_config(self.tmp, config_yaml(self.tmp, self.fake))
        self.env = harness.agent_env(self.fake)
        self.env["TRAILWATCH_MACHINE_ID_FILE"] = os.path.join(self.tmp, "machine-id")
        self.agent = harness.Agent(self, self.config, self.tmp, env=self.env)

    def run_once_on(self, instance_id, plant=True):
        self.fake.config(imds_instance_id=instance_id)
        self.agent.start()
        self.wait_for_file("checkpoints.json")
        self.agent.stop_ok()
        self.assertEqual(self.events(), 3)
        if plant:
            # What a run that could not deliver leaves behind (written here: a test cannot make the
            # agent fail deliveries on cue without slowing it down).
            with open(os.path.join(self.state, "metrics-spool.jsonl"), "w") as f:
                f.write('{"planted":1}\n')
            os.makedirs(os.path.join(self.state, "spool"), exist_ok=True)
            with open(os.path.join(self.state, "spool", "dead-letter.jsonl"), "w") as f:
                f.write('{"planted":1}\n')

    def identity(self):
        with open(os.path.join(self.state, "identity.json")) as f:
            return json.load(f)

    def test_new_instance_id_resets_state_and_same_id_does_not(self):
        self.run_once_on("i-0aaaaaaaaaaaaaaaa")
        self.assertEqual(self.identity()["instance_id"], "i-0aaaaaaaaaaaaaaaa")
        self.assertNotIn("new instance", self.agent.last_log())

        self.fake.config(imds_instance_id="i-0bbbbbbbbbbbbbbbb")
        self.agent.start()
        log = self.agent.last_log()
        self.assertIn("new instance (instance id i-0aaaaaaaaaaaaaaaa -> i-0bbbbbbbbbbbbbbbb", log)
        self.assertEqual(sum("new instance" in l for l in log.splitlines()), 1, log)
        # The running agent may have opened fresh (empty) files by now; A's content is gone.
        self.assertNotIn("planted", harness.read(os.path.join(self.state, "metrics-spool.jsonl")))
        self.assertNotIn("planted", harness.read(os.path.join(self.state, "spool", "dead-letter.jsonl")))
        self.wait_for_file("checkpoints.json")
        self.agent.stop_ok()
        self.assertEqual(self.events(), 6)  # the audit log read again from the start: A's checkpoints were gone
        self.assertEqual(self.identity()["instance_id"], "i-0bbbbbbbbbbbbbbbb")

        self.agent.start()  # B again: nothing reset, nothing read twice
        self.assertNotIn("new instance", self.agent.last_log())
        time.sleep(1.5)  # several poll intervals: a reset would have re-read the log by now
        self.agent.stop_ok()
        self.assertEqual(self.events(), 6)
        self.assertEqual(self.identity()["instance_id"], "i-0bbbbbbbbbbbbbbbb")

    def events(self):
        return sum('"USER_LOGIN"' in line for line in harness.read(os.path.join(self.tmp, "out.jsonl")).splitlines())

    def wait_for_file(self, name):
        deadline = time.monotonic() + 20
        while not os.path.exists(os.path.join(self.state, name)):
            self.assertLess(time.monotonic(), deadline, "no %s written:\n%s" % (name, self.agent.last_log()))
            time.sleep(0.1)

    def test_prepare_image_clears_state_refuses_while_running_and_is_idempotent(self):
        self.run_once_on("i-0aaaaaaaaaaaaaaaa")
        self.agent.start()
        busy = subprocess.run([harness.BINARY, "prepare-image", "--config", self.config, "--yes"], env=self.env,
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(busy.returncode, 1, busy.stderr)
        self.assertIn("trailwatch is running", busy.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.state, "checkpoints.json")))
        self.agent.stop_ok()

        done = subprocess.run([harness.BINARY, "prepare-image", "--config", self.config, "--yes", "--machine-id"],
                              env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        for name in ("checkpoints.json", "metrics-spool.jsonl", "identity.json", "spool/dead-letter.jsonl"):
            path = os.path.join(self.state, name)
            self.assertIn("removed " + path, done.stdout)
            self.assertFalse(os.path.exists(path), path)
        self.assertIn("emptied", done.stdout)
        self.assertEqual(os.path.getsize(os.path.join(self.tmp, "machine-id")), 0)

        again = subprocess.run([harness.BINARY, "prepare-image", "--config", self.config, "--yes", "--machine-id"],
                               env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertNotIn("removed", again.stdout)
        self.assertNotIn("emptied", again.stdout)


if __name__ == "__main__":
    harness.main()
