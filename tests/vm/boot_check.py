#!/usr/bin/python3
"""Boots the image built by boot-test.sh under qemu and checks trailwatch from outside.

The VM's only network is qemu's user-mode network with restrict=on; the slirp network is 169.254.0.0/16
so the instance metadata address 169.254.169.254:80 and the AWS endpoint 169.254.0.100:80 are guest
addresses that qemu forwards (guestfwd, one relay.py per connection) to fakeaws on the host's 127.0.0.1.
ssh reaches the guest through a hostfwd on 127.0.0.1. Every wait is bounded; qemu is killed at the end.

usage: boot_check.py --out DIR --repo DIR [--accel auto|kvm|tcg]
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

SCALE = float(os.environ.get("TW_VM_TIMEOUT_SCALE", "1"))
TOPIC = "arn:aws:sns:us-east-1:123456789012:security"
INSTANCE_1 = "i-0b00715e1ec7ed001"
INSTANCE_2 = "i-0b00715e1ec7ed002"
AWS_ADDR = "169.254.0.100"
T0 = time.monotonic()


def say(msg):
    print("boot-check: [%5.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, fn, timeout, poll=1.0):
    """Calls fn until it returns a truthy value or timeout (scaled) passes; returns (value, seconds)."""
    start = time.monotonic()
    deadline = start + timeout * SCALE
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
        except Exception as e:  # noqa: BLE001 - a failing probe is retried until the deadline
            last = None
            err = e
        if last:
            return last, time.monotonic() - start
        time.sleep(poll)
    raise TimeoutError("%s: not within %.0fs" % (what, timeout * SCALE))


class Vm:
    def __init__(self, args, name, disk, fake_port):
        self.args, self.name, self.disk = args, name, disk
        self.ssh_port = free_port()
        self.serial = os.path.join(args.out, name + "-serial.log")
        relay = "/usr/bin/python3 %s %d" % (os.path.join(args.repo, "tests/vm/relay.py"), fake_port)
        netdev = ("user,id=n0,restrict=on,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,"
                  "hostfwd=tcp:127.0.0.1:%d-:22,"
                  "guestfwd=tcp:169.254.169.254:80-cmd:%s,"
                  "guestfwd=tcp:%s:80-cmd:%s" % (self.ssh_port, relay, AWS_ADDR, relay))
        accel = ["-accel", "kvm", "-cpu", "host"] if args.accel == "kvm" else ["-accel", "tcg", "-cpu", "max"]
        self.cmd = ["qemu-system-x86_64", *accel, "-m", "1024", "-smp", "1", "-nographic", "-monitor", "none",
                    "-no-reboot", "-serial", "file:" + self.serial,
                    "-kernel", os.path.join(args.out, "vmlinuz"), "-initrd", os.path.join(args.out, "initrd.img"),
                    "-append", "root=/dev/vda rw console=ttyS0 panic=-1 audit=1",
                    "-drive", "file=%s,format=raw,if=virtio" % disk,
                    "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"]
        self.proc = None

    def start(self):
        say("%s: booting %s (%s)" % (self.name, os.path.basename(self.disk), self.args.accel))
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.args.out, self.name + "-qemu.log"), "w"))
        self.started = time.monotonic()

    def ssh(self, command, timeout=60, check=True):
        r = subprocess.run(["ssh", "-i", os.path.join(self.args.out, "id_ed25519"), "-p", str(self.ssh_port),
                            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes",
                            "root@127.0.0.1", command],
                           capture_output=True, text=True, timeout=timeout * SCALE)
        if check and r.returncode != 0:
            raise RuntimeError("ssh %r: rc=%d %s" % (command, r.returncode, r.stderr.strip()))
        return r

    def wait_ssh(self, timeout):
        def probe():
            if self.proc.poll() is not None:
                raise SystemExit("%s: qemu exited early (rc=%s), see %s" % (self.name, self.proc.returncode,
                                                                          self.serial))
            return self.ssh("true", timeout=20, check=False).returncode == 0
        _, secs = wait_until("ssh into " + self.name, probe, timeout, poll=2)
        return time.monotonic() - self.started

    def poweroff(self, timeout=120):
        self.ssh("systemctl poweroff", timeout=20, check=False)
        try:
            self.proc.wait(timeout=timeout * SCALE)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def kvm_works(out):
    """Boots the kernel alone under KVM (it panics without a root and exits through -no-reboot)."""
    log = os.path.join(out, "kvm-probe.log")
    try:
        subprocess.run(["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256", "-nographic",
                        "-monitor", "none", "-no-reboot", "-serial", "file:" + log,
                        "-kernel", os.path.join(out, "vmlinuz"), "-append", "console=ttyS0 panic=-1"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:
        with open(log, errors="replace") as f:
            return "Linux version" in f.read()
    except OSError:
        return False


class Checks:
    def __init__(self):
        self.rows = []
        self.failed = 0

    def check(self, name, fn):
        start = time.monotonic()
        try:
            detail = fn()
            ok = True
        except Exception as e:  # noqa: BLE001 - every failure is reported, then the next check runs
            detail, ok = "%s: %s" % (type(e).__name__, e), False
        secs = time.monotonic() - start
        self.rows.append((name, ok, secs, detail))
        self.failed += 0 if ok else 1
        say("%s %s (%.1fs): %s" % ("PASS" if ok else "FAIL", name, secs, detail))
        return ok


def trail_events(fake, stream=None):
    """Every trail event fakeaws accepted into /trailwatch/audit (parsed JSON), optionally for one stream."""
    out = []
    for r in fake.requests(service="logs", operation="PutLogEvents", accepted=True):
        d = r["data"]
        if d.get("logGroupName") != "/trailwatch/audit" or (stream and d.get("logStreamName") != stream):
            continue
        for e in d.get("logEvents", []):
            try:
                out.append(json.loads(e["message"]))
            except ValueError:
                pass
    return out


def metric_namespaces(fake, since=None):
    return {r["data"].get("Namespace") for r in fake.requests(service="monitoring", accepted=True, since=since)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--accel", default="auto", choices=["auto", "kvm", "tcg"])
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.repo, "tests/fakeaws"))
    from client import FakeAws

    if args.accel == "auto":
        args.accel = "kvm" if kvm_works(args.out) else "tcg"
        say("accelerator: %s (KVM probe %s)" % (args.accel, "booted" if args.accel == "kvm" else "failed"))

    checks = Checks()
    timings = {k: os.environ.get("TW_BUILD_SECONDS_" + k.upper()) for k in ("base", "provision", "image")}
    disk = os.path.join(args.out, "instance1.ext4")
    shutil.copyfile(os.path.join(args.out, "image.ext4"), disk)
    vm = None
    with FakeAws(max_lifetime=int(1800 * SCALE)) as fake:
        fake.config(imds_instance_id=INSTANCE_1, sns_topics=[TOPIC])
        try:
            # ---- boot 1: an instance launched from the image ----
            vm = Vm(args, "boot1", disk, int(fake.endpoint.rsplit(":", 1)[1]))
            vm.start()
            timings["boot1_ssh"] = vm.wait_ssh(600)
            say("boot1: ssh up after %.0fs" % timings["boot1_ssh"])

            def service_ready():
                def probe():
                    r = vm.ssh("systemctl show -p ActiveState,SubState,Type,WatchdogUSec,MainPID,"
                               "WatchdogTimestampMonotonic,NRestarts trailwatch", check=False)
                    props = dict(line.split("=", 1) for line in r.stdout.split() if "=" in line)
                    return props if props.get("SubState") == "running" else None
                first, _ = wait_until("trailwatch running", probe, 180, poll=2)
                if first["Type"] != "notify" or first["WatchdogUSec"] in ("0", "infinity"):
                    raise AssertionError("not Type=notify with a watchdog: %s" % first)
                ping1 = int(first["WatchdogTimestampMonotonic"])
                if ping1 == 0:
                    raise AssertionError("no watchdog ping yet: %s" % first)
                # WatchdogSec=60s: the agent pings every 30s; wait for a later ping from the same process.
                later, _ = wait_until("a later watchdog ping", lambda: (lambda p: p if int(
                    p["WatchdogTimestampMonotonic"]) > ping1 else None)(probe()), 75, poll=3)
                if later["MainPID"] != first["MainPID"] or later["NRestarts"] != "0":
                    raise AssertionError("restarted: %s -> %s" % (first, later))
                return ("ActiveState=%s SubState=%s Type=%s WatchdogUSec=%s MainPID=%s, watchdog pinged again "
                        "after %.0fs, NRestarts=0" % (later["ActiveState"], later["SubState"], later["Type"],
                                                     later["WatchdogUSec"], later["MainPID"],
                                                     (int(later["WatchdogTimestampMonotonic"]) - ping1) / 1e6))
            checks.check("systemd: Type=notify ready, watchdog alive", service_ready)

            def hardened():
                r = vm.ssh("ps -o user=,uid= -p $(systemctl show -p MainPID --value trailwatch); "
                           "grep -E '^Cap(Eff|Amb)' /proc/$(systemctl show -p MainPID --value trailwatch)/status")
                text = " ".join(r.stdout.split())
                if text.startswith("root ") or " 0 " in text[:20]:
                    raise AssertionError("runs as root: " + text)
                return text
            checks.check("service runs as a dynamic user with CAP_DAC_READ_SEARCH only", hardened)

            def real_audit_events():
                vm.ssh("auditctl -l | grep -q tw-exec")
                uid = vm.ssh("useradd -M tw-new-user && /usr/bin/id -u tw-new-user").stdout.strip()
                # A failed su: tester types a wrong root password (util-linux su reads it from stdin).
                vm.ssh("echo wrong-password | runuser -u tester -- su -c true root", check=False)

                missing = {}

                def seen():
                    evs = trail_events(fake, INSTANCE_1)
                    names = {e.get("eventName") for e in evs}
                    have_exec = any(e.get("eventName") == "execve" and "/usr/bin/id" in json.dumps(e) for e in evs)
                    have_add = any(e.get("eventName") == "ADD_USER" and "op=adding user id=%s " % uid in json.dumps(e)
                                   for e in evs)
                    have_su = any(e.get("eventName") == "USER_AUTH" and
                                  e.get("responseElements", {}).get("result") == "failure" for e in evs)
                    missing["now"] = [n for n, ok in (("execve of /usr/bin/id", have_exec), ("ADD_USER", have_add),
                                                         ("failed USER_AUTH", have_su)) if not ok]
                    missing["names"] = sorted(str(n) for n in names)
                    return (evs, names) if have_exec and have_add and have_su else None
                try:
                    (evs, names), _ = wait_until("execve, ADD_USER and failed USER_AUTH trail events", seen, 90, poll=2)
                except TimeoutError as e:
                    raise TimeoutError("%s; missing %s; event names seen %s" % (e, missing.get("now"),
                                                                             missing.get("names"))) from None
                return "%d trail events in /trailwatch/audit/%s, names include %s" % (
                    len(evs), INSTANCE_1, sorted(n for n in names if n in ("execve", "ADD_USER", "USER_AUTH")))
            checks.check("auditd events (watched execve, useradd, failed su) arrive as trail events", real_audit_events)

            def metrics():
                recs, _ = wait_until("PutMetricData", lambda: [r for r in fake.requests(
                    service="monitoring", accepted=True) if r["data"].get("Namespace") == "TWBoot/v1"], 60, poll=2)
                d = recs[-1]["data"]["datums"]
                dims = {x["Name"]: x["Value"] for x in d[0].get("Dimensions", [])}
                if dims.get("InstanceId") != INSTANCE_1:
                    raise AssertionError("InstanceId dimension: %s" % dims)
                return "%d PutMetricData accepted, namespace TWBoot/v1, e.g. %s %s" % (
                    len(recs), d[0]["MetricName"], dims)
            checks.check("metrics arrive (PutMetricData)", metrics)

            def alarm():
                recs = fake.wait_for("sns", count=1, timeout=60 * SCALE, accepted=True, operation="Publish")
                if not recs:
                    raise AssertionError("no SNS Publish")
                msg = json.loads(recs[0]["data"]["Message"])
                if msg.get("AlarmName") != "failed-su" or msg.get("NewStateValue") != "ALARM":
                    raise AssertionError(msg)
                return "SNS Publish to %s: %s" % (recs[0]["data"]["TopicArn"], recs[0]["data"].get("Subject"))
            checks.check("audit alarm reaches SNS", alarm)

            def reload():
                seq = max([r["seq"] for r in fake.requests()] or [0])
                vm.ssh("sed -i 's|namespace: TWBoot/v1|namespace: TWBoot/v2|' /etc/trailwatch/trailwatch.yaml && "
                       "systemctl reload trailwatch")
                wait_until("namespace TWBoot/v2 after reload", lambda: "TWBoot/v2" in metric_namespaces(fake, seq),
                           150, poll=2)
                r = vm.ssh("systemctl show -p SubState,NRestarts trailwatch")
                state = " ".join(sorted(r.stdout.split()))
                if state != "NRestarts=0 SubState=running":
                    raise AssertionError("after reload: " + state)
                return "edited namespace TWBoot/v1 -> TWBoot/v2, systemctl reload: new namespace arrives, " \
                       "same process (NRestarts=0)"
            checks.check("systemctl reload applies an edited config", reload)

            def stop():
                vm.ssh("/usr/bin/id >/dev/null; sleep 1")  # something still in flight when the stop comes
                start = time.monotonic()
                vm.ssh("systemctl stop trailwatch", timeout=60)
                took = time.monotonic() - start
                r = vm.ssh("systemctl show -p Result,ExecMainStatus,ActiveState trailwatch; "
                           "journalctl -b -u trailwatch -o cat --no-pager | tail -n 12")
                text = r.stdout
                if "Result=success" not in text or "ExecMainStatus=0" not in text:
                    raise AssertionError(text)
                tail = [line for line in text.splitlines() if line and "=" not in line[:20]]
                return "stopped in %.1fs, Result=success ExecMainStatus=0; journal: %s" % (
                    took, " | ".join(tail[-3:]))
            checks.check("systemctl stop drains and exits cleanly", stop)
            timings["journal1"] = vm.ssh("journalctl -b -u trailwatch -o short-monotonic --no-pager",
                                         check=False).stdout
            with open(os.path.join(args.out, "boot1-journal.txt"), "w") as f:
                f.write(timings.pop("journal1"))
            vm.poweroff()
            say("boot1: powered off")

            # ---- boot 2: the same disk comes up on another instance (IMDS answers another id) ----
            fake.config(imds_instance_id=INSTANCE_2, sns_topics=[TOPIC])
            vm = Vm(args, "boot2", disk, int(fake.endpoint.rsplit(":", 1)[1]))
            vm.start()
            timings["boot2_ssh"] = vm.wait_ssh(600)
            say("boot2: ssh up after %.0fs" % timings["boot2_ssh"])

            def new_instance():
                def noticed():
                    r = vm.ssh("journalctl -b -u trailwatch -o cat --no-pager", check=False)
                    hits = [line for line in r.stdout.splitlines()
                            if re.search(r"new instance|instance id changed|instance changed", line, re.I)]
                    return hits
                hits, _ = wait_until("a new-instance log line", noticed, 120, poll=3)
                vm.ssh("/usr/bin/id >/dev/null")
                wait_until("trail events on the new instance's stream", lambda: trail_events(fake, INSTANCE_2), 60,
                           poll=2)
                return "journal: %s; trail events now in /trailwatch/audit/%s" % (hits[0].strip(), INSTANCE_2)
            checks.check("second boot as a new instance: the agent notices and starts fresh", new_instance)
            with open(os.path.join(args.out, "boot2-journal.txt"), "w") as f:
                f.write(vm.ssh("journalctl -b -u trailwatch -o short-monotonic --no-pager", check=False).stdout)
            vm.poweroff()
        except (TimeoutError, RuntimeError, SystemExit, subprocess.TimeoutExpired) as e:
            checks.rows.append(("boot", False, 0.0, str(e)))
            checks.failed += 1
            say("FAIL boot: %s" % e)
        finally:
            if vm:
                vm.kill()
            counters = fake.faults().get("counters", {})
            with open(os.path.join(args.out, "fakeaws-requests.json"), "w") as f:
                json.dump(fake.requests(), f, indent=1)

    print("\n==== trailwatch VM boot test summary ====")
    print("accelerator: %s; image build: base %ss, provision %ss, mkfs %ss; ssh up: boot1 %s, boot2 %s" % (
        args.accel, timings["base"], timings["provision"], timings["image"],
        "%.0fs" % timings["boot1_ssh"] if "boot1_ssh" in timings else "-",
        "%.0fs" % timings["boot2_ssh"] if "boot2_ssh" in timings else "-"))
    for name, ok, secs, detail in checks.rows:
        print("%s  %-68s %6.1fs  %s" % ("PASS" if ok else "FAIL", name, secs, detail))
    print("fakeaws counters: %s" % json.dumps({k: v for k, v in counters.items() if v.get("requests")}))
    print("checks: %d passed, %d failed; total %.0fs" % (len(checks.rows) - checks.failed, checks.failed,
                                                          time.monotonic() - T0))
    return 0 if checks.failed == 0 and len(checks.rows) >= 8 else 1


if __name__ == "__main__":
    sys.exit(main())
