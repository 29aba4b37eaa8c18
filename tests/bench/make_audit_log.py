#!/usr/bin/python3
"""Writes a large auditd log for throughput runs: the shared corpus (every *.log of
shared/testdata/audit, sorted by path) repeated until the file holds at least SIZE_MB megabytes.

Copy k has every event timestamp moved k * 1,000,000 s later, so (node, timestamp, serial) stays
unique across copies and no tool can merge records of two copies into one event.

  tests/bench/make_audit_log.py OUT [SIZE_MB]   (default 64)
"""
import pathlib
import re
import sys

STAMP = re.compile(rb"audit\((\d+)\.(\d+):(\d+)\)")
SHIFT = 1_000_000


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    out = pathlib.Path(sys.argv[1])
    target = int(float(sys.argv[2]) * 1_000_000) if len(sys.argv) > 2 else 64_000_000
    root = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "audit"
    files = sorted(root.rglob("*.log"))
    if not files:
        print(f"make_audit_log: no *.log under {root}", file=sys.stderr)
        return 1
    corpus = b""
    for f in files:
        data = f.read_bytes()
        if data and not data.endswith(b"\n"):
            data += b"\n"
        corpus += data
    written = 0
    copy = 0
    with out.open("wb") as sink:
        while written < target:
            shift = copy * SHIFT
            chunk = STAMP.sub(lambda m: b"audit(%d.%s:%s)" % (int(m.group(1)) + shift, m.group(2), m.group(3)), corpus)
            sink.write(chunk)
            written += len(chunk)
            copy += 1
    print(f"{out}: {written} bytes, {copy} copies of {len(files)} corpus logs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
