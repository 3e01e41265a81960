#!/bin/bash
# gyre-bench `storm` against Gyre and against Centrifugo, one after the other, same config and same generator:
# N subscribed clients (recoverable channels, publications flowing through the HTTP API), then the tool runs a
# restart command (SIGTERM the server, wait for it to exit, start a fresh one on the same port) and measures
# drop → re-subscribed times, the connect rate the new server saw, recovery outcomes and sequence gaps.
#   usage: bench/storm.sh [OUT_DIR]      env: N (clients, default 3000), PEERS ("gyre centrifugo"),
#          CENTRIFUGO_BIN (default ~/go/bin/centrifugo); Gyre runs from dist/ (node scripts/ensure-build.mjs)
set -u
cd "$(dirname "$0")/.."
out=${1:-bench/results/storm-$(date -u +%Y%m%dT%H%M%SZ)}
n=${N:-3000}
peers=${PEERS:-gyre centrifugo}
centrifugo=${CENTRIFUGO_BIN:-$HOME/go/bin/centrifugo}
mkdir -p "$out"
node scripts/ensure-build.mjs >/dev/null
port=18931
for kind in $peers; do
  port=$((port + 1))
  work=$(mktemp -d /tmp/gyre-storm-XXXX)
  cat >"$work/cfg.json" <<JSON
{"http_server":{"address":"127.0.0.1","port":$port},"log":{"level":"error"},"engine":{"type":"memory"},
 "client":{"token":{"hmac_secret_key":"storm-secret"},"ping_interval":"25s","pong_timeout":"8s"},
 "http_api":{"key":"storm-key"},"shutdown":{"timeout":"10s"},
 "channel":{"without_namespace":{"allow_subscribe_for_client":true,"history_size":1000,"history_ttl":"300s",
   "force_recovery":true,"force_positioning":true}}}
JSON
  if [ "$kind" = gyre ]; then start="node $PWD/dist/src/main.js -c $work/cfg.json"; else start="$centrifugo -c $work/cfg.json"; fi
  # The restart command: graceful stop (bounded), then a fresh process, detached from the tool's pipes.
  cat >"$work/restart.sh" <<SH
#!/bin/bash
old=\$(cat $work/pid)
kill -TERM \$old 2>/dev/null
for i in \$(seq 1 300); do kill -0 \$old 2>/dev/null || break; sleep 0.05; done
kill -KILL \$old 2>/dev/null
setsid $start >>$work/server.log 2>&1 < /dev/null &
echo \$! > $work/pid
SH
  chmod +x "$work/restart.sh"
  setsid $start >>"$work/server.log" 2>&1 </dev/null &
  echo $! >"$work/pid"
  for i in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/api" && break; sleep 0.1; done
  echo "== $kind (port $port, $n clients)"
  node bin/gyre-bench.js storm --url "ws://127.0.0.1:$port/connection/websocket" --api "http://127.0.0.1:$port/api" \
    --api-key storm-key --hmac-secret storm-secret -c "$n" --channels 10 --publish-rate 20 -d 30s --timeout 120s \
    --max-delay 2s --source-ips 127.0.0.1-127.0.0.4 --restart-cmd "$work/restart.sh" \
    --json "$out/$kind.json" --html "$out/$kind.html" -q 2>&1 | grep -vE '^\s*$'
  kill -TERM "$(cat "$work/pid")" 2>/dev/null
  sleep 1
  kill -KILL "$(cat "$work/pid")" 2>/dev/null
  rm -rf "$work"
done
echo "reports: $out"
