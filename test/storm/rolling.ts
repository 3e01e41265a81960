// The rolling restart behind nginx (docs/deploy.md, docs/storm.md §5), shared by test/storm/rolling.test.ts (200
// clients, correctness only) and bench/rolling-restart.bench.ts (2,000 clients, drain on vs off): Debian's nginx
// proxies WebSockets and the HTTP API to 2 Gyre nodes on one Redis; official `centrifuge` clients subscribe to C
// recoverable channels; a publisher sends P publications per second through nginx's /api/publish. Node A is
// restarted (SIGTERM → paced drain → exit → start again on its port), then node B, then nginx is reloaded with a
// short worker_shutdown_timeout (its old worker cuts every WebSocket, as ingress-nginx does). The result says
// which acknowledged publications each subscriber missed, saw twice or out of order, which clients are not
// connected and subscribed at the end, and per step the reconnect times and the peak connect rate at the
// node(s) that took the clients.
import { Centrifuge, State, SubscriptionState, type Subscription } from 'centrifuge';
import WebSocket from 'ws';
import { API_KEY } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { startNginx, type NginxProcess } from '../harness/nginx.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { sleep, waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';
import { acceptedConnections, scrape } from './probe.js';

export interface RollingOptions {
  clients: number;
  channels: number;
  /** Publications per second over all channels (one request in flight per channel). */
  publishRate: number;
  /** shutdown.drain_duration in ms (0 = everyone at once, as Centrifugo). */
  drainMs: number;
  /** How long each step may take for every client to be connected again. */
  settleTimeoutMs: number;
  log?: (line: string) => void;
}

export interface StepStats {
  step: string;
  /** Clients that lost their connection in this step and got it back. */
  reconnected: number;
  /** Lost connection → connected again, ms, sorted. */
  reconnectMs: number[];
  /** Highest connect rate (per s) at the node(s) that took the clients. */
  peak: Peaks;
  /** Upgrades those node(s) refused during the step, by reason (gyre_admission_refused_total). */
  refused: Record<string, number>;
}

export interface RollingResult {
  steps: StepStats[];
  acked: number;
  /** Publish requests that were not acknowledged, by cause. */
  unacked: Record<string, number>;
  /** One line per subscriber whose publications are wrong (missing, duplicated, out of order; checkSubscriber). */
  violations: string[];
  /** Clients not connected + subscribed at the end. */
  stuck: number;
  /** Subscribed events after a reconnect that reported recovered = false. */
  unrecovered: number;
  /** nginx's error log lines about upstreams (one per distinct message, with a count). */
  nginxErrors: string[];
}

interface Sub {
  client: Centrifuge;
  sub: Subscription;
  channel: number;
  seqs: number[];
  /** Per socket, the publications in the order the server wrote them (subscribe replies' lists and pushes). */
  wire: Array<Array<{ seq: number; offset: number }>>;
  /** What happened to this subscriber, for the report of a violation: `pub seq@offset`, `subscribed`, `lost`. */
  events: string[];
  lostAt: number | undefined;
}

const NS = 'roll';

function nodeConfig(redisAddress: string, name: string, drainMs: number): Record<string, unknown> {
  return mergeConfig(baseConfig(), {
    log: { level: 'error' },
    prometheus: { enabled: true },
    node: { name },
    engine: { type: 'redis', redis: { address: [redisAddress], prefix: 'roll' } },
    http_server: { warmup_connections: 0 },
    shutdown: { timeout: `${Math.ceil(drainMs / 1000) + 8}s`, drain_duration: `${drainMs}ms`, pre_drain_delay: '0s' },
    channel: {
      namespaces: [
        { name: NS, history_size: 5000, history_ttl: '600s', force_recovery: true, allow_subscribe_for_client: true },
      ],
    },
  });
}

export function pct(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);
}

async function refusedByReason(nodes: readonly GyreProcess[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const n of nodes) {
    const text = await scrape(n.baseUrl).catch(() => '');
    for (const m of text.matchAll(/^gyre_admission_refused_total\{reason="([^"]+)"\} (\d+)/gm)) {
      out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
    }
  }
  return out;
}

/** Peak connect rates (per second) over windows of at least 100 ms and at least 500 ms. */
export interface Peaks {
  per100ms: number;
  per500ms: number;
}

/** Highest (v_i − v_j) / (t_i − t_j) over sample pairs at least `windowMs` apart (the closest such pair for each i). */
export function peakRate(samples: ReadonlyArray<{ at: number; v: number }>, windowMs: number): number {
  let peak = 0;
  let j = 0;
  for (let i = 1; i < samples.length; i++) {
    const cur = samples[i]!;
    while (j + 1 < i && cur.at - samples[j + 1]!.at >= windowMs) j++;
    const from = samples[j]!;
    if (cur.at - from.at < windowMs || cur.v < from.v) continue;
    peak = Math.max(peak, ((cur.v - from.v) * 1000) / (cur.at - from.at));
  }
  return peak;
}

/**
 * Samples the summed accepted-connection counters of `nodes` every ~100 ms until stop(). The 100 ms figure is
 * noisy (a scrape delayed by the node's own work moves connections into the next window); 500 ms smooths that.
 */
function sampleRate(nodes: () => GyreProcess[]): { stop: () => Promise<Peaks> } {
  let running = true;
  const done = (async (): Promise<Peaks> => {
    const read = async (): Promise<number> => {
      let sum = 0;
      for (const n of nodes()) sum += await acceptedConnections(n.baseUrl).catch(() => 0);
      return sum;
    };
    const samples = [{ v: await read(), at: performance.now() }];
    for (let i = 0; i < 100_000 && running; i++) {
      await sleep(100);
      const v = await read();
      samples.push({ v, at: performance.now() });
    }
    return { per100ms: peakRate(samples, 100), per500ms: peakRate(samples, 500) };
  })();
  return {
    stop: async () => {
      running = false;
      return await done;
    },
  };
}

/** One request in flight per channel; each channel publishes every channels / rate seconds. */
interface Publisher {
  acked: number[][];
  /** Failed requests by cause (HTTP status, API error code or the fetch error). */
  failures: Map<string, number>;
  stop: () => Promise<void>;
}

function startPublisher(apiUrl: string, o: RollingOptions): Publisher {
  const acked: number[][] = Array.from({ length: o.channels }, () => []);
  const failures = new Map<string, number>();
  const fail = (why: string): void => void failures.set(why, (failures.get(why) ?? 0) + 1);
  let running = true;
  const periodMs = (o.channels * 1000) / o.publishRate;
  const maxPerChannel = 100_000;
  const loops = acked.map(async (list, ch) => {
    await sleep((periodMs * ch) / o.channels);
    let next = performance.now();
    for (let seq = 1; seq <= maxPerChannel && running; seq++) {
      try {
        const res = await fetch(`${apiUrl}/publish`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-API-Key': API_KEY },
          body: JSON.stringify({ channel: `${NS}:ch-${ch}`, data: { seq } }),
          signal: AbortSignal.timeout(3000),
        });
        const body = (await res.json().catch(() => ({}))) as { result?: unknown; error?: { code?: unknown } };
        if (res.status === 200 && body.error === undefined && body.result !== undefined) list.push(seq);
        else fail(res.status === 200 ? `error ${String(body.error?.code)}` : `HTTP ${res.status}`);
      } catch (err) {
        fail(err instanceof Error ? err.name : 'error');
      }
      next += periodMs;
      await sleep(Math.max(0, next - performance.now()));
    }
  });
  return {
    acked,
    failures,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * What the server wrote on each socket (`wire`), in order: acknowledged publications in publish order, stream
 * offsets strictly increasing, nothing twice. (A socket may repeat what an earlier one carried: a publication
 * written just before a close that the client no longer processed is recovered on the next socket.) What the
 * application saw (`seqs`): every acknowledged publication, each once. A publication whose request failed
 * may still have been applied, later than the next one: it may appear anywhere, once. The application's
 * order is not checked: centrifuge-js 5.7.4 can emit a push that arrives in the frame right after a subscribe
 * reply before that reply's `subscribed` event and recovered publications (both frames in one socket read;
 * docs/deploy.md, "A client race to know about").
 */
function checkSubscriber(s: Sub, index: number, acked: readonly number[]): string | undefined {
  const say = (what: string): string => `client ${index} (ch-${s.channel}): ${what} [${s.events.slice(-40).join(', ')}]`;
  const isAcked = new Set(acked);
  for (const [k, socket] of s.wire.entries()) {
    for (let i = 1; i < socket.length; i++) {
      const [a, b] = [socket[i - 1]!, socket[i]!];
      if (b.offset <= a.offset) return say(`socket ${k}: server wrote offset ${b.offset} (seq ${b.seq}) after offset ${a.offset} (seq ${a.seq})`);
    }
    const inOrder = socket.map((w) => w.seq).filter((q) => isAcked.has(q));
    for (let i = 1; i < inOrder.length; i++) {
      if ((inOrder[i] as number) <= (inOrder[i - 1] as number)) return say(`socket ${k}: server wrote seq ${String(inOrder[i])} after ${String(inOrder[i - 1])}`);
    }
  }
  const have = new Set(s.seqs);
  if (have.size !== s.seqs.length) return say('application got a publication twice');
  const missing = acked.filter((q) => !have.has(q));
  if (missing.length > 0) {
    const q = missing[0] as number;
    const on = s.wire.flatMap((w, k) => (w.some((x) => x.seq === q) ? [k] : []));
    return say(`application got ${missing.length} acknowledged missing, first ${String(q)} (written on socket(s) [${on.join(', ')}] of ${s.wire.length})`);
  }
  return undefined;
}

/** A `ws` WebSocket for centrifuge-js that notes the publications of every frame the server wrote. */
function tapClass(s: { wire: Array<Array<{ seq: number; offset: number }>> }): new (address: string, protocols?: string | string[]) => WebSocket {
  return class Tap extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      const mine: Array<{ seq: number; offset: number }> = [];
      s.wire.push(mine);
      const note = (p: { data?: { seq?: unknown }; offset?: unknown } | undefined): void => {
        if (typeof p?.data?.seq === 'number') mine.push({ seq: p.data.seq, offset: Number(p.offset ?? 0) });
      };
      this.on('message', (data: Buffer) => {
        for (const line of data.toString('utf8').split('\n')) {
          if (!line.includes('"seq"')) continue;
          const m = JSON.parse(line) as { push?: { pub?: Parameters<typeof note>[0] }; subscribe?: { publications?: Array<Parameters<typeof note>[0]> } };
          note(m.push?.pub);
          for (const p of m.subscribe?.publications ?? []) note(p);
        }
      });
    }
  };
}

export async function runRollingRestart(o: RollingOptions): Promise<RollingResult> {
  const log = o.log ?? ((): void => undefined);
  const redis: RedisServer = await startRedis();
  let nginx: NginxProcess | undefined;
  const nodes: GyreProcess[] = [];
  const subs: Sub[] = [];
  try {
    const cfg = [nodeConfig(redis.address, 'roll-a', o.drainMs), nodeConfig(redis.address, 'roll-b', o.drainMs)];
    nodes.push(...(await Promise.all(cfg.map((c) => startGyre(c, { bin: true })))));
    const ports = nodes.map((n) => n.port);
    // fail_timeout 1 s: a restarted node is taken back within a second (the default 10 s can leave both nodes
    // marked failed when B drains soon after A came back: "no live upstreams", 502).
    // worker_connections: each client holds 2 (client side + upstream side); during a reload the old and the new
    // worker each need their own.
    nginx = await startNginx(ports, {
      retry503: true,
      serverParams: 'max_fails=1 fail_timeout=1s',
      workerShutdownTimeout: '1s',
      workerConnections: 2 * o.clients + 1024,
    });
    const url = `ws://127.0.0.1:${nginx.port}/connection/websocket`;
    const token = await connToken({ sub: 'roll', expIn: 3600 });

    let step = 'initial';
    const times = new Map<string, number[]>();
    let unrecovered = 0;
    for (let i = 0; i < o.clients; i++) {
      const wire: Sub['wire'] = [];
      const client = new Centrifuge(url, { token, websocket: tapClass({ wire }) });
      const s: Sub = { client, sub: client.newSubscription(`${NS}:ch-${i % o.channels}`), channel: i % o.channels, seqs: [], wire, events: [], lostAt: undefined };
      client.on('connecting', (ctx) => {
        s.events.push(`${step}: lost ${ctx.code}`);
        if (s.lostAt === undefined && step !== 'initial') s.lostAt = performance.now();
      });
      client.on('connected', () => {
        if (s.lostAt === undefined) return;
        const list = times.get(step) ?? [];
        list.push(performance.now() - s.lostAt);
        times.set(step, list);
        s.lostAt = undefined;
      });
      s.sub.on('subscribed', (ctx) => {
        s.events.push(`subscribed recovering=${String(ctx.wasRecovering)} recovered=${String(ctx.recovered)} pos=${String(ctx.streamPosition?.offset)}`);
        if (ctx.wasRecovering && !ctx.recovered) unrecovered++;
      });
      s.sub.on('publication', (ctx) => {
        const seq = (ctx.data as { seq?: unknown }).seq;
        if (typeof seq !== 'number') return;
        s.seqs.push(seq);
        s.events.push(`pub ${seq}@${String(ctx.offset)}${s.sub.state === SubscriptionState.Subscribed ? '' : ' (early)'}`);
      });
      s.sub.subscribe();
      client.connect();
      subs.push(s);
    }
    const allUp = (): boolean => subs.every((s) => s.client.state === State.Connected && s.sub.state === SubscriptionState.Subscribed);
    const states = (): string => {
      const c = subs.filter((x) => x.client.state === State.Connected).length;
      const sub = subs.filter((x) => x.sub.state === SubscriptionState.Subscribed).length;
      return `${c} connected, ${sub} subscribed of ${o.clients}`;
    };
    await waitFor(allUp, { what: `${o.clients} clients subscribed`, timeoutMs: o.settleTimeoutMs, intervalMs: 100 }).catch(async (err: unknown) => {
      const refused = JSON.stringify(Object.fromEntries(await refusedByReason(nodes)));
      throw new Error(`${err instanceof Error ? err.message : String(err)}: ${states()}; refused ${refused}; nginx: ${nginx?.errorLog().slice(-600) ?? ''}`);
    });
    log(`${o.clients} subscribed through nginx; publishing ${o.publishRate}/s over ${o.channels} channels`);
    const pub = startPublisher(`http://127.0.0.1:${nginx.port}/api`, o);
    await sleep(1000);

    const steps: StepStats[] = [];
    const finishStep = async (name: string, measure: () => Promise<Peaks>, survivors: GyreProcess[], before: Map<string, number>): Promise<void> => {
      await waitFor(allUp, { what: `every client back after ${name}`, timeoutMs: o.settleTimeoutMs, intervalMs: 100 }).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}: ${states()}`);
      });
      await sleep(500);
      const peak = await measure();
      const reconnectMs = (times.get(name) ?? []).sort((x, y) => x - y);
      const refused: Record<string, number> = {};
      for (const [k, v] of await refusedByReason(survivors)) if (v - (before.get(k) ?? 0) > 0) refused[k] = v - (before.get(k) ?? 0);
      steps.push({ step: name, reconnected: reconnectMs.length, reconnectMs, peak, refused });
      log(`${name}: ${reconnectMs.length} reconnected, p50 ${Math.round(pct(reconnectMs, 0.5))} ms, max ${Math.round(reconnectMs.at(-1) ?? NaN)} ms, peak ${Math.round(peak.per100ms)}/s (100 ms) ${Math.round(peak.per500ms)}/s (500 ms), refused ${JSON.stringify(refused)}`);
    };
    for (const idx of [0, 1]) {
      const name = `restart ${idx === 0 ? 'A' : 'B'}`;
      const other = nodes[1 - idx] as GyreProcess;
      const sampler = sampleRate(() => [other]);
      const before = await refusedByReason([other]);
      step = name;
      const exit = await (nodes[idx] as GyreProcess).stop('SIGTERM', o.drainMs + 15_000);
      if (exit.code !== 0) throw new Error(`${name}: exit ${JSON.stringify(exit)}`);
      nodes[idx] = await startGyre(cfg[idx] as Record<string, unknown>, { bin: true, port: ports[idx] as number });
      // nginx keeps a node it saw failing out for fail_timeout (1 s here). Draining the next node sooner leaves it
      // no upstream at all ("no live upstreams", 502); a rolling restart waits that long after a node is ready.
      await sleep(1500);
      await finishStep(name, sampler.stop, [other], before);
    }
    {
      const sampler = sampleRate(() => nodes);
      const before = await refusedByReason(nodes);
      step = 'nginx reload';
      await nginx.reload();
      await sleep(1500); // the old worker cuts its WebSockets after worker_shutdown_timeout (1 s)
      await finishStep(step, sampler.stop, nodes, before);
    }
    await sleep(1000);
    await pub.stop();
    const acked = pub.acked;
    const want = (s: Sub): number => (acked[s.channel] as number[]).length;
    // Deliveries in flight settle; a subscriber that misses something stays short and is reported below.
    await waitFor(() => subs.every((s) => new Set(s.seqs).size >= want(s)), { what: 'deliveries', timeoutMs: 5000, intervalMs: 100 }).catch(() => undefined);
    const violations: string[] = [];
    subs.forEach((s, i) => {
      const v = checkSubscriber(s, i, acked[s.channel] as number[]);
      if (v !== undefined) violations.push(v);
    });
    const errs = new Map<string, number>();
    for (const line of nginx.errorLog().split('\n')) {
      const m = /\[(?:error|warn)\] \d+#\d+: \*?\d* ?(.*?)(?:, client:|$)/.exec(line);
      if (m?.[1] !== undefined) errs.set(m[1], (errs.get(m[1]) ?? 0) + 1);
    }
    return {
      nginxErrors: [...errs].map(([m, n]) => `${n} × ${m}`),
      steps,
      acked: acked.reduce((n, l) => n + l.length, 0),
      unacked: Object.fromEntries(pub.failures),
      violations,
      stuck: subs.filter((s) => s.client.state !== State.Connected || s.sub.state !== SubscriptionState.Subscribed).length,
      unrecovered,
    };
  } finally {
    for (const s of subs) s.client.disconnect();
    await nginx?.stop();
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await redis.stop();
  }
}
