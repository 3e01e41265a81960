#!/bin/bash
# A traced copy of the build for the fan-out's tail (BENCHMARKS.md §10.7): copies dist/ to .before/trace/dist
# (inside the checkout, so node_modules resolve; .before/ is ignored by git) and adds hooks that call
# globalThis.__fp, defined by bench/profile/fanout-trace-preload.mjs. Nothing of this is in src/.
#   bench/profile/fanout-trace.sh
#   FP_OUT=DIR LATENCY_DUMP=1 BEFORE_DIST=.before/trace/dist \
#     BEFORE_NODE_ARGS="--import $PWD/bench/profile/fanout-trace-preload.mjs" PEERS="before centrifugo" \
#     bench/redis-fanout.sh DIR
#   node --import tsx bench/profile/latency-dump.ts DIR before DIR/before-1-<pid>.f64
# Hooks: each PUB/SUB socket read, each message's start and end (its `ts` and `seq`), the Writer's shared flush
# start and end, and every socket write with the client index (from the user id `bench-user-<n>`).
set -eu
cd "$(dirname "$0")/../.."
node scripts/ensure-build.mjs >/dev/null
rm -rf .before/trace/dist && mkdir -p .before/trace && cp -r dist .before/trace/dist
d=.before/trace/dist/src
python3 - "$d" <<'PY'
import sys
d=sys.argv[1]
def patch(f, old, new):
    p=d+'/'+f; s=open(p).read()
    assert old in s, (f, old)
    s=s.replace(old,new,1); open(p,'w').write(s)
patch('engines/redis/pubsub.js', """            if (this.conn === conn)
                this.opts.onMessage(channel, payload);""", """            const fp = globalThis.__fp;
            if (fp) fp.msgStart(payload);
            if (this.conn === conn)
                this.opts.onMessage(channel, payload);
            if (fp) fp.msgEnd();""")
patch('engines/redis/pubsub.js', """        conn.connect().then(() => this.resubscribe(conn)""", """        conn.connect().then(() => { globalThis.__fp?.stream(conn.stream); return this.resubscribe(conn); }""")
patch('core/writer.js', """function flushDirty() {
    dirtyScheduled = false;""", """function flushDirty() {
    globalThis.__fp?.flushStart(dirty.length);
    try { flushDirtyReal(); } finally { globalThis.__fp?.flushEnd(); }
}
function flushDirtyReal() {
    dirtyScheduled = false;""")
patch('core/writer.js', """        const t = this.transport;
        const corked = n > max && t.cork !== undefined;""", """        const t = this.transport;
        globalThis.__fp?.write(this.__c ?? -1, n);
        const corked = n > max && t.cork !== undefined;""")
patch('core/session.js', """    deliver(message) {
        if (this.state === SessionState.Closed)
            return;""", """    deliver(message) {
        if (this.state === SessionState.Closed)
            return;
        if (this.writer.__c === undefined && this.user !== '') this.writer.__c = Number(this.user.slice(this.user.lastIndexOf('-') + 1));""")
PY
echo patched
