#!/usr/bin/python3
"""Whole-process audit throughput: trailwatch next to laurel and ausearch on the same large
auditd log, in the same run.

Each tool reads the file from start to end, groups records into events and writes its output to a
file (stdout redirected), which is then counted. Every command runs RUNS times, one after another;
the table shows the median wall time, its CPU time (user + system) and peak RSS, throughput
(input MB/s and events/s, events as the tool itself counted them) and each figure as a ratio of
the first peer's (the baseline named by --baseline).

  tests/bench/audit_peers.py BUILD_DIR [--size-mb 64] [--runs 3] [--baseline laurel]

  trailwatch once     parse + group + map + render every event as the CloudTrail record the
                      local sink writes (one JSON line per event): the whole audit path minus the
                      network.
  laurel              Debian's laurel 0.5 (audit records -> one JSON line per event), reading the log
                      on stdin as it reads auditd's plugin stream; enrichment off (it would read
                      /proc of this host for pids of another host's log).
  ausearch -i         Debian's ausearch (libauparse), interpreting every event (names, syscalls).
  ausearch --raw      the same, grouping events and printing their raw records: parse + group only.

Needs: a Release build of trailwatch (BUILD_DIR/agent/trailwatch), GNU time (/usr/bin/time, package
time), and for the peers apt-get install laurel auditd.
A peer that is not installed is reported as missing; trailwatch alone is still measured.
"""
import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_audit_log  # noqa: E402  (same folder)


def run_once(argv, stdin_path, stdout_path):
    """Runs argv under GNU time, stdout to stdout_path; returns (wall s, cpu s, peak RSS KiB, exit code).

    GNU time rather than wait4() here: a child forked from this Python process counts Python's own
    pages in its ru_maxrss until it execs, which hides any tool smaller than the interpreter."""
    stats = stdout_path + ".time"
    with open(stdout_path, "wb") as out, open(stdin_path if stdin_path else os.devnull, "rb") as inp, \
            open(stdout_path + ".err", "wb") as err:
        code = subprocess.call(["/usr/bin/time", "-f", "%e %U %S %M %x", "-o", stats] + argv,
                               stdin=inp, stdout=out, stderr=err)
    wall, user, system, rss, status = open(stats).read().split()[-5:]
    return float(wall), float(user) + float(system), int(rss), int(status) if code == 0 else code


def count_lines(path, prefix=None):
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if prefix is None or line.startswith(prefix):
                n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build_dir")
    ap.add_argument("--size-mb", type=float, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline", default="laurel", help="tool whose figures are 1.0 (default laurel)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory and print its path")
    args = ap.parse_args()

    binary = pathlib.Path(args.build_dir).resolve() / "agent" / "trailwatch"
    if not os.path.exists("/usr/bin/time"):
        print("audit_peers: /usr/bin/time not found (apt-get install time)", file=sys.stderr)
        return 1
    if not binary.exists():
        print(f"audit_peers: {binary} not found (build it first)", file=sys.stderr)
        return 1
    work = pathlib.Path(tempfile.mkdtemp(prefix="tw-audit-peers-"))
    try:
        log = work / "audit.log"
        sys.argv = ["make_audit_log", str(log), str(args.size_mb)]
        if make_audit_log.main() != 0:
            return 1
        size = log.stat().st_size

        (work / "tw.yaml").write_text(
            f"agent:\n  state_dir: {work}/state\n  log_level: warn\n"
            "aws:\n  imds:\n    enabled: false\n"
            "metrics:\n  enabled: false\n"
            f"audit:\n  files: [\"{log}\"]\n"
            "trail:\n  sinks:\n    - type: local\n"
            "local:\n  path: \"-\"\n")
        (work / "laurel.toml").write_text(
            f'directory = "{work}"\nstatusreport-period = 0\n'
            '[auditlog]\nfile = "-"\n'
            '[transform]\nexecve-argv = [ "array" ]\n'
            '[translate]\nuniversal = false\nuser-db = false\n'
            '[enrich]\npid = false\nexecve-env = []\ncontainer = false\nscript = false\n'
            '[label-process]\nlabel-keys = []\npropagate-labels = []\n')

        # name, argv, stdin, how to count events in the output
        tools = [
            ("trailwatch once", [str(binary), "once", "--config", str(work / "tw.yaml")], None, ("lines", None)),
            ("laurel", [shutil.which("laurel") or "laurel", "-c", str(work / "laurel.toml")], str(log), ("lines", None)),
            ("ausearch -i", [shutil.which("ausearch") or "ausearch", "-if", str(log), "-i"], None, ("lines", b"----")),
            ("ausearch --raw", [shutil.which("ausearch") or "ausearch", "-if", str(log), "--raw"], None, ("none", None)),
        ]
        results = {}
        print(f"input: {size / 1e6:.1f} MB, {count_lines(log)} lines; {args.runs} runs each, median", file=sys.stderr)
        for name, argv, stdin, (how, prefix) in tools:
            if shutil.which(argv[0]) is None and not os.path.exists(argv[0]):
                print(f"{name}: not installed, skipped", file=sys.stderr)
                continue
            out = str(work / (name.replace(" ", "_").replace("-", "") + ".out"))
            walls, cpus, rsss = [], [], []
            for _ in range(args.runs):
                wall, cpu, rss, code = run_once(argv, stdin, out)
                if code != 0 and not name.startswith("ausearch"):  # ausearch exits 1 on "no matches"
                    print(f"{name}: exit {code}; stderr in {out}.err", file=sys.stderr)
                walls.append(wall)
                cpus.append(cpu)
                rsss.append(rss)
            events = count_lines(out, prefix) if how == "lines" else None
            results[name] = dict(wall=statistics.median(walls), cpu=statistics.median(cpus), rss=max(rsss),
                                 events=events, out_bytes=os.path.getsize(out))
            print(f"{name}: done", file=sys.stderr)

        base = results.get(args.baseline)
        hdr = f"{'tool':<16} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'events':>8} {'events/s':>9} {'peak RSS MiB':>12}"
        if base:
            hdr += f"   vs {args.baseline}: {'MB/s':>5} {'cpu':>5} {'RSS':>5}"
        print(hdr)
        for name, r in results.items():
            mbs = size / 1e6 / r["wall"]
            eps = f"{r['events'] / r['wall']:9.0f}" if r["events"] is not None else f"{'-':>9}"
            ev = f"{r['events']:8d}" if r["events"] is not None else f"{'-':>8}"
            line = (f"{name:<16} {r['wall']:7.2f} {r['cpu']:7.2f} {mbs:7.1f} {ev} {eps} {r['rss'] / 1024:12.1f}")
            if base:
                line += (f"   {'':>{len(args.baseline) + 4}} {base['wall'] / r['wall']:5.2f} "
                         f"{r['cpu'] / base['cpu']:5.2f} {r['rss'] / base['rss']:5.2f}")
            print(line)
        if base:
            print(f"(ratios: MB/s = throughput over {args.baseline}'s, higher is faster; cpu and RSS = "
                  f"this tool's over {args.baseline}'s, lower is leaner)")
        if args.keep:
            print(f"outputs kept in {work}", file=sys.stderr)
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
