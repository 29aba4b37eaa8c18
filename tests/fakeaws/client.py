"""Helper for tests that use fakeaws (standard library only; any Python 3.8+).

    from client import FakeAws            # with tests/fakeaws on sys.path
    with FakeAws() as fake:
        run_agent(endpoint=fake.endpoint, env=fake.env())
        fake.throttle("monitoring", count=2)
        datums = [d for r in fake.requests("monitoring", accepted=True) for d in r["data"]["datums"]]

The server itself needs Debian's /usr/bin/python3 (python3-botocore); this module does not.
"""

import json
import os
import select
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fakeaws.py")
DEFAULT_PYTHON = "/usr/bin/python3"
DEFAULT_ACCESS_KEY = "AKIDEXAMPLE"
DEFAULT_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class FakeAwsError(RuntimeError):
    pass


class FakeAws:
    """Starts fakeaws as a subprocess (or attaches to a running one with port=...)."""

    def __init__(self, max_lifetime=600, python=DEFAULT_PYTHON, state_file=None, verbose=False,
                 port=None, startup_timeout=15.0):
        self.max_lifetime = max_lifetime
        self.python = python
        self.state_file = state_file
        self.verbose = verbose
        self.port = port
        self.startup_timeout = startup_timeout
        self.proc = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self):
        if self.port is not None:
            return self  # attached to an existing server
        cmd = [self.python, SERVER, "--port", "0", "--max-lifetime", str(self.max_lifetime)]
        if self.state_file:
            cmd += ["--state-file", self.state_file]
        if self.verbose:
            cmd.append("--verbose")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None, text=True)
        deadline = time.monotonic() + self.startup_timeout
        line = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if not line.startswith("FAKEAWS_PORT="):
            self.stop()
            raise FakeAwsError("fakeaws did not report its port (got %r)" % line)
        self.port = int(line.strip().split("=", 1)[1])
        return self

    def stop(self, timeout=5.0):
        """Terminates the subprocess (SIGTERM, then SIGKILL); returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self.proc.stdout:
            self.proc.stdout.close()
        code = self.proc.returncode
        self.proc = None
        return code

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def env(self, access_key=DEFAULT_ACCESS_KEY, secret_key=DEFAULT_SECRET_KEY, session_token=None,
            region="us-east-1"):
        """Environment for an SDK/agent/awscli pointed at this server, never at real AWS."""
        env = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key,
               "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
               "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
               "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.endpoint,
               "AWS_ENDPOINT_URL": self.endpoint}
        if session_token:
            env["AWS_SESSION_TOKEN"] = session_token
        return env

    # -- control API ----------------------------------------------------------------------------
    def call(self, method, path, body=None, timeout=10.0):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raise FakeAwsError("%s %s -> %d %s" % (method, path, e.code, e.read().decode()))
        ctype = resp.headers.get("Content-Type", "")
        return json.loads(raw) if ctype.startswith("application/json") else raw

    def health(self):
        return self.call("GET", "/_fake/health")

    def requests(self, service=None, operation=None, accepted=None, since=None):
        q = {}
        if service:
            q["service"] = service
        if operation:
            q["operation"] = operation
        if accepted is not None:
            q["accepted"] = "true" if accepted else "false"
        if since is not None:
            q["since"] = str(since)
        path = "/_fake/requests" + ("?" + urllib.parse.urlencode(q) if q else "")
        return self.call("GET", path)["requests"]

    def wait_for(self, service, count=1, timeout=10.0, accepted=None, operation=None, poll=0.05):
        """Polls until at least `count` matching requests were recorded; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            recs = self.requests(service, operation=operation, accepted=accepted)
            if len(recs) >= count or time.monotonic() > deadline:
                return recs
            time.sleep(poll)

    def reset(self):
        return self.call("POST", "/_fake/reset", {})

    def state(self):
        return self.call("GET", "/_fake/state")

    def s3_object(self, bucket, key):
        return self.call("GET", "/_fake/s3/%s/%s" % (urllib.parse.quote(bucket),
                                                     urllib.parse.quote(key)))

    def shutdown(self):
        return self.call("POST", "/_fake/shutdown", {})

    # faults
    def add_fault(self, type, service="*", count=1, **kw):  # noqa: A002 - mirrors the JSON key
        spec = dict(kw, type=type, service=service, count=count)
        return self.call("POST", "/_fake/faults", spec)

    def throttle(self, service="*", count=1, per_event=False):
        return self.add_fault("throttle", service, count, per_event=per_event)

    def fail(self, service="*", status=503, count=1):
        return self.add_fault("error", service, count, status=status)

    def delay(self, service="*", delay_ms=1000, count=1):
        return self.add_fault("delay", service, count, delay_ms=delay_ms)

    def drop(self, service="*", count=1):
        return self.add_fault("drop", service, count)

    def skew(self, seconds):
        return self.call("POST", "/_fake/faults", {"type": "skew", "skew_seconds": seconds})

    def down(self, service="*"):
        return self.call("POST", "/_fake/faults", {"type": "down", "service": service})

    def up(self, service="*"):
        return self.call("POST", "/_fake/faults", {"type": "up", "service": service})

    def faults(self):
        return self.call("GET", "/_fake/faults")

    def clear_faults(self):
        return self.call("DELETE", "/_fake/faults")

    # credentials / config
    def credentials(self):
        return self.call("GET", "/_fake/credentials")

    def add_credentials(self, access_key_id, secret_access_key, session_token=None, expiration=None,
                        expires_in=None):
        c = {"access_key_id": access_key_id, "secret_access_key": secret_access_key}
        if session_token is not None:
            c["session_token"] = session_token
        if expiration is not None:
            c["expiration"] = expiration
        if expires_in is not None:
            c["expires_in"] = expires_in
        return self.call("POST", "/_fake/credentials", {"add": [c]})

    def expire_credentials(self, *access_key_ids):
        return self.call("POST", "/_fake/credentials", {"expire": list(access_key_ids)})

    def rotate_imds(self, expire_old=False):
        return self.call("POST", "/_fake/credentials",
                         {"rotate_imds": True, "expire_old": expire_old})["rotated"]["imds"]

    def rotate_container(self, expire_old=False):
        return self.call("POST", "/_fake/credentials",
                         {"rotate_container": True, "expire_old": expire_old})["rotated"]["ecs"]

    def config(self, **settings):
        return self.call("POST" if settings else "GET", "/_fake/config", settings or None)
