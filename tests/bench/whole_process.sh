#!/usr/bin/env bash
# Whole-process overhead: trailwatch next to collectd (Debian's collectd-core) doing the same job —
# CPU, memory and interface statistics every second, written locally — for the same wall time, in
# the same run. Reports CPU seconds used and peak RSS of each, and trailwatch's as a ratio of collectd's.
#
#   tests/bench/whole_process.sh BUILD_DIR [SECONDS]
#
# Needs collectd-core (apt-get install collectd-core); trailwatch alone is measured without it.
set -euo pipefail
build=${1:?usage: whole_process.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
bin="$build/agent/trailwatch"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)

# cpu_seconds PID: user+system CPU time of a live process.
cpu_seconds() { awk -v hz="$hz" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
peak_rss_kib() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }
# Proportional set size: shared library pages divided among the processes mapping them.
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }

cat > "$work/tw.yaml" <<YAML
agent:
  state_dir: $work/state
aws:
  imds:
    enabled: false
metrics:
  interval: 1s
  flush_interval: 10s
  # 1 s storage resolution: each flush writes its datapoints (at 60 s they wait for the minute).
  high_resolution: true
  cpu:
    per_cpu: true
audit:
  enabled: false
local:
  path: $work/tw.jsonl
YAML

"$bin" run --config "$work/tw.yaml" 2> "$work/tw.log" &
tw=$!

cd_pid=""
if command -v collectd > /dev/null; then
  cat > "$work/collectd.conf" <<CONF
Interval 1
BaseDir "$work"
PIDFile "$work/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin cpu
LoadPlugin memory
LoadPlugin interface
LoadPlugin swap
LoadPlugin csv
<Plugin cpu>
  ReportByCpu true
  ValuesPercentage true
</Plugin>
<Plugin csv>
  DataDir "$work/csv"
</Plugin>
CONF
  collectd -f -C "$work/collectd.conf" > "$work/collectd.log" 2>&1 &
  cd_pid=$!
fi

sleep "$secs"
tw_cpu=$(cpu_seconds "$tw"); tw_rss=$(peak_rss_kib "$tw"); tw_pss=$(pss_kib "$tw")
records=$(cat "$work/tw.jsonl" 2>/dev/null | wc -l)
echo "trailwatch: cpu ${tw_cpu}s over ${secs}s, peak RSS ${tw_rss} KiB, PSS ${tw_pss} KiB, ${records} local records"
if [ "$records" -eq 0 ]; then echo "trailwatch wrote nothing; its log:"; tail -20 "$work/tw.log"; fi
if [ -n "$cd_pid" ]; then
  cd_cpu=$(cpu_seconds "$cd_pid"); cd_rss=$(peak_rss_kib "$cd_pid"); cd_pss=$(pss_kib "$cd_pid")
  echo "collectd:   cpu ${cd_cpu}s over ${secs}s, peak RSS ${cd_rss} KiB, PSS ${cd_pss} KiB"
  awk -v a="$tw_cpu" -v b="$cd_cpu" -v c="$tw_rss" -v d="$cd_rss" -v e="$tw_pss" -v f="$cd_pss" \
    'BEGIN { printf "ratio trailwatch/collectd: cpu %.2f, peak RSS %.2f, PSS %.2f\n", (b > 0 ? a / b : 0), (d > 0 ? c / d : 0), (f > 0 ? e / f : 0) }'
fi
kill -TERM "$tw"; wait "$tw" || true
