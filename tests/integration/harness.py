"""What the Python integration tests share: their command line, fakeaws, and the real trailwatch
binary run as a daemon with its stderr kept in a file.

Every test file is run by CTest as

    /usr/bin/python3 tests/integration/test_<name>.py <trailwatch binary> <source dir> [unittest args]

and ends with `harness.main()`, which sets BINARY and SOURCE_DIR below before the tests run.
"""

import os
import signal
import subprocess
import sys
import time
import unittest

BINARY = None      # absolute path of the trailwatch binary under test
SOURCE_DIR = None  # the repository root

# Static credentials: fakeaws accepts them, botocore signs with them, and they can reach nothing else.
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def main():
    global BINARY, SOURCE_DIR
    if len(sys.argv) < 3:
        sys.exit("usage: %s <trailwatch binary> <source dir> [unittest args]" % sys.argv[0])
    BINARY = os.path.abspath(sys.argv[1])
    SOURCE_DIR = os.path.abspath(sys.argv[2])
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fakeaws"))
    unittest.main(module="__main__", argv=[sys.argv[0], "-v"] + sys.argv[3:])


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def write_config(directory, text, name="agent.yaml"):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def agent_env(fake=None):
    """The agent's environment: none of the caller's AWS_* settings (so no test can reach a real
    account), static test credentials, no shared config files; with `fake`, also its region and IMDS
    address (each test's config names the service endpoints itself)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    if fake is not None:
        env.update(fake.env(access_key=ACCESS_KEY, secret_key=SECRET_KEY))
        env.pop("AWS_EC2_METADATA_DISABLED", None)
        env.pop("AWS_ENDPOINT_URL", None)
    return env


class FakeAwsTestCase(unittest.TestCase):
    """One fakeaws (127.0.0.1, botocore checks every signature) per test class, reset before each test."""

    fake = None

    @classmethod
    def setUpClass(cls):
        from client import FakeAws  # tests/fakeaws, put on sys.path by main()
        cls.fake = FakeAws(max_lifetime=300).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.reset()


class Agent:
    """`trailwatch run --config <config>`, started and stopped as often as a test needs; the stderr of
    run N goes to <directory>/agent-N.log. Registered with the test's cleanup: a run still alive at the
    end of the test is killed."""

    def __init__(self, test, config, directory, env=None, extra_args=()):
        self.test = test
        self.config = config
        self.extra_args = list(extra_args)  # after `run --config <config>`, e.g. ["--state-dir", d]
        self.directory = directory
        self.env = env if env is not None else agent_env()
        self.logs = []
        self.proc = None
        test.addCleanup(self._cleanup)

    def start(self, wait_running=True, timeout=30):
        path = os.path.join(self.directory, "agent-%d.log" % len(self.logs))
        self.logs.append(path)
        with open(path, "w") as err:
            self.proc = subprocess.Popen([BINARY, "run", "--config", self.config] + self.extra_args, env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=err)
        if wait_running:
            deadline = time.monotonic() + timeout
            while "running (config" not in read(path):  # the startup line
                self.test.assertIsNone(self.proc.poll(), "agent exited at start:\n" + read(path))
                if time.monotonic() > deadline:
                    self.test.fail("agent did not start within %d s:\n%s" % (timeout, read(path)))
                time.sleep(0.05)
        return self.proc

    def stop(self, timeout=30):
        """SIGTERM (flush and exit); returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self.proc = None
        return code

    def stop_ok(self, timeout=30):
        self.test.assertEqual(self.stop(timeout), 0, self.log()[-4000:])

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def log(self):
        """The stderr of every run so far."""
        return "".join(read(p) for p in self.logs)

    def last_log(self):
        """The stderr of the latest run."""
        return read(self.logs[-1]) if self.logs else ""

    def _cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
