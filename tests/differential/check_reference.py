#!/usr/bin/python3
"""Runs auparse_dump.py on LOG and compares its events with EXPECTED (a .jsonl reading of the
same log). Exit 0 when they are equal, 1 with the first difference otherwise.

--raw-only leaves out "interpreted" values (they name accounts from this host's passwd/group
files, which differ between machines); event grouping, raw fields and enriched parts still count.

Usage: check_reference.py [--raw-only] LOG EXPECTED
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def strip_interpreted(events):
    for event in events:
        for record in event["records"]:
            record.pop("interpreted", None)
            for duplicate in record.get("duplicate_fields", []):
                del duplicate[2:]
    return events


def main():
    args = sys.argv[1:]
    raw_only = "--raw-only" in args
    args = [a for a in args if a != "--raw-only"]
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    log, expected_path = args
    run = subprocess.run([sys.executable, os.path.join(HERE, "auparse_dump.py"), log],
                         capture_output=True, check=False)
    if run.returncode != 0:
        sys.stderr.write(run.stderr.decode(errors="replace"))
        return 1
    ours = [json.loads(line) for line in run.stdout.decode().splitlines() if line]
    with open(expected_path, encoding="utf-8") as f:
        theirs = [json.loads(line) for line in f if line.strip()]
    if raw_only:
        ours, theirs = strip_interpreted(ours), strip_interpreted(theirs)
    if len(ours) != len(theirs):
        print("event count differs: %d here, %d expected" % (len(ours), len(theirs)))
        return 1
    for index, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            print("event %d differs:\n here:     %s\n expected: %s" % (index, json.dumps(a), json.dumps(b)))
            return 1
    print("%d events equal" % len(ours))
    return 0


if __name__ == "__main__":
    sys.exit(main())
