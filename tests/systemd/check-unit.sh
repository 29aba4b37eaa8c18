#!/usr/bin/env bash
# Checks systemd/trailwatch.service: `systemd-analyze verify` passes with the real binary in ExecStart,
# and `systemd-analyze security --offline=true` rates the unit at most MAX_EXPOSURE (default 2.0).
# Also rates the CloudWatch agent's unit as AWS ships it, for comparison (reported, not asserted).
#
# usage: check-unit.sh <trailwatch binary> [unit file]      exit 77 = skipped (no systemd-analyze)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$(realpath "${1:?usage: check-unit.sh <trailwatch binary> [unit]}")"
unit="$(realpath "${2:-$here/../../systemd/trailwatch.service}")"
max="${MAX_EXPOSURE:-2.0}"

if ! command -v systemd-analyze >/dev/null; then
  echo "check-unit: SKIP: systemd-analyze is not installed (package systemd)"
  exit 77
fi
[ -x "$bin" ] || { echo "check-unit: $bin is not an executable" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# verify resolves ExecStart= binaries on this host: point them at the binary under test, unless it is
# the installed /usr/bin/trailwatch anyway. The unit keeps its name (verify checks name/type).
sed "s|/usr/bin/trailwatch|$bin|g" "$unit" > "$tmp/trailwatch.service"
echo "check-unit: systemd-analyze verify ($(systemd-analyze --version | head -1))"
if ! out="$(systemd-analyze verify "$tmp/trailwatch.service" 2>&1)" || [ -n "$out" ]; then
  echo "$out"
  echo "check-unit: FAIL: systemd-analyze verify reported problems" >&2
  exit 1
fi
echo "check-unit: verify: clean"

rate() {  # prints the overall exposure of a unit file
  systemd-analyze security --offline=true "$1" 2>/dev/null \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
ours="$(rate "$unit")"
[ -n "$ours" ] || { echo "check-unit: FAIL: no exposure level from systemd-analyze security" >&2; exit 1; }

# The CloudWatch agent's unit as AWS ships it (amazon-cloudwatch-agent package).
cat > "$tmp/amazon-cloudwatch-agent.service" <<'UNIT'
[Unit]
Description=Amazon CloudWatch Agent
After=network.target

[Service]
Type=simple
ExecStart=/opt/aws/amazon-cloudwatch-agent/bin/start-amazon-cloudwatch-agent
KillMode=process
Restart=on-failure
RestartSec=60s

[Install]
WantedBy=multi-user.target
UNIT
theirs="$(rate "$tmp/amazon-cloudwatch-agent.service")"

echo "check-unit: exposure (systemd-analyze security --offline=true): trailwatch.service $ours," \
  "amazon-cloudwatch-agent.service ${theirs:-?}; limit $max"
if awk -v a="$ours" -v m="$max" 'BEGIN { exit !(a > m) }'; then
  systemd-analyze security --offline=true "$unit" | grep '✗' || true
  echo "check-unit: FAIL: exposure $ours is above $max" >&2
  exit 1
fi
echo "check-unit: PASS"
