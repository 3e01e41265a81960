#!/usr/bin/env bash
# Issue 9's two capacity rows in one run, interleaved, every configuration REPS times (BENCHMARKS.md §14.18):
#  hold:   38,000 held subscribed connections with 2 workers (the default scheduling `none`, and `rr`); 19,000
#          (under one process's fd limit) with 2 workers, 1 process and Centrifugo; every server gets 2
#          connect → hold → leave cycles (one for w2@19k).
#  fanout: 1 channel × 10,000 subscribers at 5 and 10 pub/s: 2 workers, 1 process, Centrifugo.
# Run it alone: /work/wt/notes/bench-lock bench/workers-capacity.sh OUT_DIR   (REPS=2, ONLY=hold|fanout env)
set -u
cd "$(dirname "$0")/.."
OUT=${1:?usage: workers-capacity.sh OUT_DIR}
REPS=${REPS:-2}
ONLY=${ONLY:-hold,fanout}
mkdir -p "$OUT"
node scripts/ensure-build.mjs
hold() { # name args...
  local name=$1; shift
  echo "== hold $name $(date -u +%T) $(uptime)" | tee -a "$OUT/log.txt"
  node --import tsx bench/workers-hold.bench.ts "$@" --out "$OUT/hold-$name.json" >/dev/null 2>>"$OUT/log.txt"
  echo "   rc=$? $(date -u +%T)" | tee -a "$OUT/log.txt"
}
fan() { # name args...
  local name=$1; shift
  echo "== fanout $name $(date -u +%T) $(uptime)" | tee -a "$OUT/log.txt"
  node --import tsx bench/profile/compare.ts --reps 1 --goals fan1 "$@" --out "$OUT/fan1-$name.json" >>"$OUT/log.txt" 2>&1
  echo "   rc=$? $(date -u +%T)" | tee -a "$OUT/log.txt"
}
for r in $(seq 1 "$REPS"); do
  if [[ $ONLY == *hold* ]]; then
    if (( r % 2 == 1 )); then
      hold "w2-38k-r$r" --server gyre --workers 2 --clients 38000 --cycles 2
      hold "w2rr-38k-r$r" --server gyre --workers 2 --sched rr --clients 38000 --cycles 2
      hold "w1-19k-r$r" --server gyre --workers 1 --clients 19000 --cycles 2
      hold "centrifugo-19k-r$r" --server centrifugo --clients 19000 --cycles 2
      hold "w2-19k-r$r" --server gyre --workers 2 --clients 19000 --cycles 1
    else
      hold "w2-19k-r$r" --server gyre --workers 2 --clients 19000 --cycles 1
      hold "centrifugo-19k-r$r" --server centrifugo --clients 19000 --cycles 2
      hold "w1-19k-r$r" --server gyre --workers 1 --clients 19000 --cycles 2
      hold "w2rr-38k-r$r" --server gyre --workers 2 --sched rr --clients 38000 --cycles 2
      hold "w2-38k-r$r" --server gyre --workers 2 --clients 38000 --cycles 2
    fi
  fi
  if [[ $ONLY == *fanout* ]]; then
    if (( r % 2 == 1 )); then
      fan "w2-centrifugo-r$r" --workers 2 --servers gyre,centrifugo
      fan "w1-r$r" --workers 1 --servers gyre
    else
      fan "w1-r$r" --workers 1 --servers gyre
      fan "w2-centrifugo-r$r" --workers 2 --servers centrifugo,gyre
    fi
  fi
done
