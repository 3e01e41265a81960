#!/bin/bash
# Server CPU and RSS growth for N connect+subscribe at a fixed rate (not a burst), one server at a time.
# usage: bench/profile/cpu-per-connect.sh gyre|centrifugo PORT N RATE [GYRE_DIST]
#   GYRE_DIST: compiled Gyre directory (default dist); BENCH_CLI: gyre-bench entry (default bin/gyre-bench.js)
set -u
kind=$1; port=$2; n=$3; rate=$4; dist=${5:-dist}
cli=${BENCH_CLI:-bin/gyre-bench.js}
cfg=$(mktemp /tmp/gyre-cpc-XXXX.json)
cat > "$cfg" <<JSON
{"http_server":{"address":"127.0.0.1","port":$port},"log":{"level":"error"},"engine":{"type":"memory"},
 "client":{"token":{"hmac_secret_key":"s3cret"},"ping_interval":"25s","pong_timeout":"8s"},
 "http_api":{"key":"apikey"},"channel":{"without_namespace":{"allow_subscribe_for_client":true}}}
JSON
if [ "$kind" = gyre ]; then node "$dist/src/main.js" -c "$cfg" >/dev/null 2>&1 &
else "${CENTRIFUGO_BIN:-$HOME/go/bin/centrifugo}" -c "$cfg" >/dev/null 2>&1 & fi
pid=$!
sleep 2
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
rss() { awk '/VmRSS/{print $2}' "/proc/$pid/status"; }
c0=$(cpu); r0=$(rss)
node "$cli" connect --url "ws://127.0.0.1:$port/connection/websocket" --hmac-secret s3cret -c "$n" --rate "$rate" \
  --source-ips 127.0.0.1-127.0.0.4 --hold 3s --connect-timeout 30s 2>&1 | grep -E "clients:|time-to"
c1=$(cpu); r1=$(rss)
echo "$kind cpu_ticks=$((c1-c0)) us_per_conn=$(( (c1-c0)*10000/n )) rss_before_kb=$r0 rss_after_kb=$r1"
kill $pid; wait $pid 2>/dev/null; rm -f "$cfg"
