#!/usr/bin/env bash
# Runs the cross-built arm64 agent from its .deb under qemu-user: `trailwatch version` and
# `trailwatch once` with a local-output config (no AWS). The arm64 shared libraries come from Debian's
# multiarch packages (packaging/install-package-deps.sh installs the :arm64 runtime libraries), so the
# host root is the sysroot (qemu-aarch64-static -L /).
#   bash packaging/test-arm64.sh [DEB]     (default: out/packages/debs/trailwatch_*_arm64.deb)
set -euo pipefail
t0=$(date +%s)
root=$(cd "$(dirname "$0")/.." && pwd)
deb=${1:-$(ls "$root"/out/packages/debs/trailwatch_*_arm64.deb 2>/dev/null | head -n1)}
[ -f "${deb:-}" ] || { echo "test-arm64: no arm64 .deb (run packaging/build-packages.sh first)" >&2; exit 1; }
fail() { echo "test-arm64: FAIL: $*" >&2; exit 1; }
qemu=$(command -v qemu-aarch64-static) || fail "qemu-aarch64-static missing (packaging/install-package-deps.sh)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/tree"
bin="$tmp/tree/usr/bin/trailwatch"
want_version=$(dpkg-deb -f "$deb" Version)

# 1. It is an AArch64 executable, and every library it needs resolves to an arm64 copy.
readelf -h "$bin" | grep -q 'Machine:.*AArch64' || fail "$bin is not AArch64"
LD_TRACE_LOADED_OBJECTS=1 "$qemu" -L / "$bin" > "$tmp/ldd.txt" 2>&1 || true
cat "$tmp/ldd.txt" | sed 's/^/  ldd: /'
! grep -q 'not found' "$tmp/ldd.txt" || fail "unresolved libraries"
grep -q 'aarch64-linux-gnu/libyaml-cpp' "$tmp/ldd.txt" || fail "libyaml-cpp not loaded from the arm64 multiarch dir"
# The package's Depends name every one of them (dpkg-shlibdeps ran on the arm64 binary).
for dep in libc6 libcurl4 libssl3 libstdc++6 libyaml-cpp0.7 zlib1g; do
  dpkg-deb -f "$deb" Depends | grep -q "\b$dep\b" || fail "Depends lacks $dep"
done

# 2. trailwatch version prints the package's version.
got=$("$qemu" -L / "$bin" version)
echo "  version: $got"
grep -qF "$want_version" <<<"$got" || fail "version printed '$got', package is $want_version"

# 3. trailwatch once with a local-output config: metrics and audit events as JSON lines.
cp "$root/tests/data/audit/sample-audit.log" "$tmp/audit.log"
cp "$root/packaging/test-once.yaml" "$tmp/local.yaml"
"$qemu" -L / "$bin" validate --config "$tmp/local.yaml" || fail "validate rejected the local config"
"$qemu" -L / "$bin" once --config "$tmp/local.yaml" > "$tmp/once.jsonl" 2> "$tmp/once.err" \
  || { cat "$tmp/once.err"; fail "once exited non-zero"; }
lines=$(wc -l < "$tmp/once.jsonl")
python3 - "$tmp/once.jsonl" <<'PY' || fail "once output"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
text = json.dumps(recs)
assert recs, "no JSON lines"
assert "cpu_usage" in text or "mem_used_percent" in text, "no metric datum in the output"
assert "eventName" in text, "no trail event in the output"
print(f"  once: {len(recs)} JSON lines, metrics and trail events present")
PY
echo "test-arm64: PASS ($lines lines from once, $(( $(date +%s) - t0 ))s under qemu)"
