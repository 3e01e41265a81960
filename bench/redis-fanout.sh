#!/bin/bash
# Cross-node fan-out through Redis: 2 Gyre nodes against 2 Centrifugo nodes on the same redis-server, in one run.
# Subscribers connect to node 1, publications go through node 2's HTTP API, so every delivery crosses Redis
# PUB/SUB. gyre-bench reports deliveries/s and publish→deliver latency; this script adds server CPU per delivery
# (both nodes, from /proc/<pid>/stat) and Redis CPU.
#   usage: bench/redis-fanout.sh [OUT_DIR]   env: N (subscribers, default 2000), CHANNELS (default 20),
#          RATES (publications/s stages, default "100,400"), DURATION (per stage, default 10s),
#          PEERS ("gyre centrifugo"), CENTRIFUGO_BIN (default ~/go/bin/centrifugo),
#          GYRE_NODE_ARGS (extra node flags for the Gyre nodes, e.g. "--cpu-prof --cpu-prof-dir=DIR"),
#          PROBE=1 (a passive Redis subscriber, bench/profile/redis-pubsub-probe.ts, splits the latency into the
#          publishing side, send → Redis PUB/SUB, and the fan-out side, the rest),
#          GYRE_ARGS (extra gyre flags for the gyre and before peers, after the config),
#          LATENCY_DUMP=1 (gyre-bench writes every delivery to OUT_DIR/<peer>.lat.w<pool>, read by
#          bench/profile/latency-dump.ts),
#          GEN_NICE=N (run gyre-bench, the generator, at nice N for every peer: a diagnostic of how much its
#          threads on the same cores take from the servers, BENCHMARKS.md §10.7; default 0), GEN_NODE_ARGS
#          (node flags for gyre-bench, e.g. "--single-threaded-gc"), GEN_ARGS (extra gyre-bench fanout flags,
#          e.g. "-w 1": one receiving thread instead of one per core),
#          IDLE=S (before the fan-out: each node's CPU for S seconds with no client, then for S seconds holding the
#          N subscribers' connections idle, gyre-bench idle; written to OUT_DIR/<peer>-idle.json)
#   The peer `gyre2w` is the gyre build with `--workers 2` on each node (GYRE2W_ARGS, default "--workers 2"):
#   every worker is a full node on the Redis engine. CPU is summed over each node's process tree (primary and
#   workers) in every case.
#   A/B in one run: the peer `before` is a second Gyre, run from BEFORE_DIST (a build inside this checkout, e.g.
#   .before/dist of another commit, so that node_modules resolve; default dist) with BEFORE_NODE_ARGS (default
#   GYRE_NODE_ARGS; set it empty for none): PEERS="before gyre centrifugo"; `before2w` is that build with
#   GYRE2W_ARGS, as gyre2w is this one: PEERS="before2w gyre2w centrifugo". Each node's log (e.g. --trace-gc output) is kept in OUT_DIR.
set -u
cd "$(dirname "$0")/.."
out=${1:-bench/results/redis-fanout-$(date -u +%Y%m%dT%H%M%SZ)}
n=${N:-2000}
channels=${CHANNELS:-20}
rates=${RATES:-100,400}
duration=${DURATION:-10s}
peers=${PEERS:-gyre centrifugo}
centrifugo=${CENTRIFUGO_BIN:-$HOME/go/bin/centrifugo}
mkdir -p "$out"
node scripts/ensure-build.mjs >/dev/null
tck=$(getconf CLK_TCK)
dump=''
[ "${LATENCY_DUMP:-0}" = 1 ] && dump=1
# CPU ticks of a process and its live descendants (a --workers primary and its workers).
cpu() {
  local t=0 c
  t=$(awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0)
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do t=$(( t + $(cpu "$c") )); done
  echo "$t"
}
# Per thread of a process: tid, user and system ticks, name (main thread, V8 compiler/GC workers, libuv pool).
threads() { for t in /proc/"$1"/task/*; do echo "$(basename "$t") $(sed 's/.*) //' "$t/stat" | awk '{print $12, $13}') $(cat "$t/comm")"; done 2>/dev/null; }

work=$(mktemp -d /tmp/gyre-rfan-XXXX)
rport=$(( 20000 + RANDOM % 10000 ))
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
rpid=$!
probe=''
trap 'kill $rpid $probe 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
if [ "${PROBE:-0}" = 1 ]; then
  node --import tsx bench/profile/redis-pubsub-probe.ts "$rport" "$out/probe.json" >"$work/probe.log" 2>&1 &
  probe=$!
  for t in $(seq 1 100); do grep -q ready "$work/probe.log" 2>/dev/null && break; sleep 0.1; done
fi

port=19040
for kind in $peers; do
  pids=()
  ports=()
  for i in 1 2; do
    port=$((port + 1))
    # Gyre's adaptive admission guard (503 when the estimated handshake wait passes 2 s) is off: on a loaded
    # machine it refuses part of the 2,000 subscribers, and this bench is about fan-out, not admission.
    guard=''
    [ "$kind" != centrifugo ] && guard=',"handshake_wait_budget":"0"'
    cat >"$work/$kind-$i.json" <<JSON
{"http_server":{"address":"127.0.0.1","port":$port$guard},"log":{"level":"error"},
 "engine":{"type":"redis","redis":{"address":["127.0.0.1:$rport"],"prefix":"bench-$kind"}},
 "node":{"name":"$kind-$i"},
 "client":{"token":{"hmac_secret_key":"bench-secret"}},"http_api":{"key":"bench-key"},
 "channel":{"without_namespace":{"allow_subscribe_for_client":true}}}
JSON
    if [ "$kind" = gyre ]; then
      setsid node ${GYRE_NODE_ARGS:-} dist/src/main.js -c "$work/$kind-$i.json" ${GYRE_ARGS:-} >"$work/$kind-$i.log" 2>&1 </dev/null &
    elif [ "$kind" = gyre2w ]; then
      setsid node ${GYRE_NODE_ARGS:-} dist/src/main.js -c "$work/$kind-$i.json" ${GYRE2W_ARGS:---workers 2} ${GYRE_ARGS:-} >"$work/$kind-$i.log" 2>&1 </dev/null &
    elif [ "$kind" = before ]; then
      setsid node ${BEFORE_NODE_ARGS-${GYRE_NODE_ARGS:-}} "${BEFORE_DIST:-dist}/src/main.js" -c "$work/$kind-$i.json" ${GYRE_ARGS:-} >"$work/$kind-$i.log" 2>&1 </dev/null &
    elif [ "$kind" = before2w ]; then
      setsid node ${BEFORE_NODE_ARGS-${GYRE_NODE_ARGS:-}} "${BEFORE_DIST:-dist}/src/main.js" -c "$work/$kind-$i.json" ${GYRE2W_ARGS:---workers 2} ${GYRE_ARGS:-} >"$work/$kind-$i.log" 2>&1 </dev/null &
    else
      setsid "$centrifugo" -c "$work/$kind-$i.json" >"$work/$kind-$i.log" 2>&1 </dev/null &
    fi
    pids+=($!)
    ports+=($port)
  done
  for p in "${ports[@]}"; do
    for t in $(seq 1 100); do curl -s "http://127.0.0.1:$p/api/info" -H 'X-API-Key: bench-key' -d '{}' >/dev/null && break; sleep 0.1; done
  done
  # With workers the port answers once the first worker listens, while the others may still run their start-up
  # warm-up (about a second of CPU each), which would then be counted in the fan-out: wait until `info` lists
  # every worker of both nodes (each is a node of the cluster; one process per node otherwise).
  want=0
  for p in "${pids[@]}"; do w=$(cat /proc/"$p"/task/*/children 2>/dev/null | wc -w); want=$(( want + (w > 0 ? w : 1) )); done
  for t in $(seq 1 300); do
    have=$(curl -s "http://127.0.0.1:${ports[0]}/api/info" -H 'X-API-Key: bench-key' -d '{}' | grep -o '"uid"' | wc -l)
    [ "$have" -ge "$want" ] && break
    sleep 0.1
  done
  [ "$have" -ge "$want" ] || echo "$kind: info lists $have of $want nodes after 30 s" >&2
  if [ "${IDLE:-0}" != 0 ]; then
    sleep 2
    i1=$(cpu "${pids[0]}"); i2=$(cpu "${pids[1]}"); sleep "$IDLE"; e1=$(( $(cpu "${pids[0]}") - i1 )); e2=$(( $(cpu "${pids[1]}") - i2 ))
    node bin/gyre-bench.js idle -q --url "ws://127.0.0.1:${ports[0]}/connection/websocket" --hmac-secret bench-secret \
      -c "$n" -d 3s --timeout 60s >/dev/null 2>&1 # connect, warm, disconnect once (as the fan-out's connects do)
    node bin/gyre-bench.js idle -q --url "ws://127.0.0.1:${ports[0]}/connection/websocket" --hmac-secret bench-secret \
      -c "$n" -d "$((IDLE + 4))s" --timeout 120s --json "$out/$kind-idle-hold.json" >"$out/$kind-idle-hold.txt" 2>&1 &
    hold=$!
    sleep 4 # connected (2,000 take well under a second here)
    h1=$(cpu "${pids[0]}"); h2=$(cpu "${pids[1]}"); sleep "$IDLE"; f1=$(( $(cpu "${pids[0]}") - h1 )); f2=$(( $(cpu "${pids[1]}") - h2 ))
    wait "$hold"
    awk -v p="$kind" -v s="$IDLE" -v a="$e1" -v b="$e2" -v c="$f1" -v d="$f2" -v hz="$tck" 'BEGIN {
      printf "{\"peer\":\"%s\",\"seconds\":%s,\"no_clients_ms_node1\":%.0f,\"no_clients_ms_node2\":%.0f,\"holding_ms_node1\":%.0f,\"holding_ms_node2\":%.0f}\n", p, s, a * 1000 / hz, b * 1000 / hz, c * 1000 / hz, d * 1000 / hz
    }' | tee "$out/$kind-idle.json"
  fi
  c1=$(cpu "${pids[0]}"); c2=$(cpu "${pids[1]}"); cr=$(cpu $rpid); t0=$(date +%s.%N)
  threads "${pids[0]}" >"$out/$kind-1.threads-start"; threads "${pids[1]}" >"$out/$kind-2.threads-start"
  nice -n "${GEN_NICE:-0}" node ${GEN_NODE_ARGS:-} bin/gyre-bench.js fanout -q --url "ws://127.0.0.1:${ports[0]}/connection/websocket" \
    --api "http://127.0.0.1:${ports[1]}/api" --api-key bench-key --hmac-secret bench-secret \
    -c "$n" --channels "$channels" --publish-rate "$rates" -d "$duration" --timeout 300s \
    --server-pid "${pids[0]}" --json "$out/$kind.json" ${dump:+--latency-dump "$out/$kind.lat"} ${GEN_ARGS:-} >"$out/$kind.txt" 2>&1
  t1=$(date +%s.%N)
  threads "${pids[0]}" >"$out/$kind-1.threads-end"; threads "${pids[1]}" >"$out/$kind-2.threads-end"
  d1=$(( $(cpu "${pids[0]}") - c1 )); d2=$(( $(cpu "${pids[1]}") - c2 )); dr=$(( $(cpu $rpid) - cr ))
  awk -v p="$kind" -v t0="$t0" -v t1="$t1" -v a="$d1" -v b="$d2" -v r="$dr" -v hz="$tck" 'BEGIN {
    printf "{\"peer\":\"%s\",\"wall_s\":%.3f,\"cpu_s_node1\":%.3f,\"cpu_s_node2\":%.3f,\"cpu_s_redis\":%.3f}\n", p, t1 - t0, a / hz, b / hz, r / hz
  }' >"$out/$kind-cpu.json"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do for t in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done; kill -KILL "$p" 2>/dev/null; done
  cp "$work/$kind-1.log" "$work/$kind-2.log" "$out/" 2>/dev/null
  cat "$out/$kind-cpu.json"
done
if [ -n "$probe" ]; then
  kill -TERM "$probe"; wait "$probe" 2>/dev/null
fi
node --import tsx bench/redis-fanout-summary.ts "$out" $peers | tee "$out/summary.md"
