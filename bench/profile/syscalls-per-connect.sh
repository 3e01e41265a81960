#!/bin/bash
# System calls per connect+subscribe in a warm server: one server process (Gyre or Centrifugo) gets a first
# burst of N clients untraced, then `strace -c -f` is attached to all its threads for a second burst of N.
# usage: bench/profile/syscalls-per-connect.sh gyre|centrifugo PORT N [GYRE_DIST] [RATE]
#   RATE: connects per second of the generator (default 0, all at once); BENCH_CLI: gyre-bench entry
#   Prints strace's table (calls per syscall over the traced burst) and the calls per connect.
set -u
kind=$1; port=$2; n=$3; dist=${4:-dist}; rate=${5:-0}
cli=${BENCH_CLI:-bin/gyre-bench.js}
dir=$(mktemp -d /tmp/gyre-spc-XXXX)
cat > "$dir/config.json" <<JSON
{"http_server":{"address":"127.0.0.1","port":$port,"handshake_wait_budget":"0"},"log":{"level":"error"},
 "engine":{"type":"memory"},"client":{"token":{"hmac_secret_key":"s3cret"},"ping_interval":"25s","pong_timeout":"8s"},
 "http_api":{"key":"apikey"},"channel":{"without_namespace":{"allow_subscribe_for_client":true}}}
JSON
if [ "$kind" = centrifugo ]; then
  # Centrifugo refuses Gyre's extension key; drop it.
  sed -i 's/,"handshake_wait_budget":"0"//' "$dir/config.json"
  (cd "$dir" && exec "${CENTRIFUGO_BIN:-$HOME/go/bin/centrifugo}" -c config.json >/dev/null 2>&1) &
else
  (cd "$dir" && exec node "$OLDPWD/$dist/src/main.js" -c config.json >/dev/null 2>&1) &
fi
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
sleep 1
burst() {
  node "$cli" connect --url "ws://127.0.0.1:$port/connection/websocket" --hmac-secret s3cret -c "$n" --rate "$rate" \
    --source-ips 127.0.0.1-127.0.0.4 --hold 1s --connect-timeout 60s 2>&1 | grep -E "clients:"
}
burst
sleep 3
strace -c -f -p "$pid" -o "$dir/strace.txt" &
spid=$!
sleep 1
burst
sleep 1.5
kill -INT $spid; wait $spid 2>/dev/null
cat "$dir/strace.txt"
awk -v n="$n" '$NF=="total"{print "calls per connect:", $(NF-2)/n}' "$dir/strace.txt"
kill $pid; wait $pid 2>/dev/null; rm -rf "$dir"
