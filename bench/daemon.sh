#!/usr/bin/env bash
# Starts hwoptd in a temporary directory, measures its idle RSS and CPU time
# over IDLE_SECONDS, then the status round trip over ITERATIONS requests.
set -euo pipefail
HWOPTD=${HWOPTD:-bin/hwoptd}
BENCH_RPC=${BENCH_RPC:-build/bench/bench_rpc}
IDLE_SECONDS=${IDLE_SECONDS:-60}
ITERATIONS=${ITERATIONS:-10000}

dir=$(mktemp -d /tmp/hwoptd-bench-XXXXXX)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
printf '[daemon]\nlog_level = warning\n' > "$dir/hwoptd.conf"
"$HWOPTD" --config "$dir/hwoptd.conf" --socket "$dir/hwoptd.sock" --state-dir "$dir/state" &
pid=$!
for _ in $(seq 100); do [ -S "$dir/hwoptd.sock" ] && break; sleep 0.05; done

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
sleep 1
c0=$(cpu)
sleep "$IDLE_SECONDS"
c1=$(cpu)
rss_kb=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
cpu_ms=$(( (c1 - c0) * 1000 / ticks ))
printf '%-28s %10s\n' "idle over ${IDLE_SECONDS}s" ""
printf '%-28s %10s\n' "  RSS (KiB)" "$rss_kb"
printf '%-28s %10s\n' "  CPU time (ms)" "$cpu_ms"
printf '{"bench":"idle","seconds":%s,"rss_kib":%s,"cpu_ms":%s}\n' "$IDLE_SECONDS" "$rss_kb" "$cpu_ms"
echo
"$BENCH_RPC" "$dir/hwoptd.sock" "$ITERATIONS"
