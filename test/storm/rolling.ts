// The rolling restart behind nginx (docs/deploy.md, docs/storm.md §5), shared by test/storm/rolling.test.ts (200
// clients, correctness only) and bench/rolling-restart.bench.ts (2,000 clients, drain on vs off): Debian's nginx
// proxies WebSockets and the HTTP API to 2 Gyre nodes on one Redis; official `centrifuge` clients subscribe to C
// recoverable channels; a publisher sends P publications per second through nginx's /api/publish. Node A is
// restarted (SIGTERM → paced drain → exit → start again on its port), then node B, then nginx is reloaded with a
// short worker_shutdown_timeout (its old worker cuts every WebSocket, as ingress-nginx does). The result says
// which acknowledged publications each subscriber missed, saw twice or out of order, which clients are not
// connected and subscribed at the end, and per step the reconnect times, the peak connect rate at the node(s)
// that took the clients (from the exact time each client's 101 came back, and which node nginx says answered
// it) and how the draining node spread its closes. `server: 'centrifugo'` runs the same scenario on 2 real
// Centrifugo 6.9.1 nodes (no paced drain there).
import type { IncomingMessage } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Centrifuge, State, SubscriptionState, type Subscription } from 'centrifuge';
import WebSocket from 'ws';
import { API_KEY } from '../harness/clients.js';
import { startCentrifugo } from '../harness/centrifugo.js';
import { mergeConfig, startGyre } from '../harness/gyre.js';
import { startNginx, type NginxProcess } from '../harness/nginx.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { sleep, waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';
import { scrape } from './probe.js';

export interface RollingOptions {
  clients: number;
  channels: number;
  /** Publications per second over all channels (one request in flight per channel). */
  publishRate: number;
  /** shutdown.drain_duration in ms (0 = everyone at once, as Centrifugo). */
  drainMs: number;
  /** How long each step may take for every client to be connected again. */
  settleTimeoutMs: number;
  /** The nodes: Gyre (default) or the real Centrifugo (drainMs must be 0: it closes everyone at once). */
  server?: 'gyre' | 'centrifugo';
  /**
   * How the clients' `ws` hands frames to centrifuge-js: 'sync' (ws's default: every frame of one socket read
   * in the same tick) or 'task' (one macrotask per frame, as a browser's WebSocket does). docs/deploy.md §5.
   */
  clientEvents?: 'sync' | 'task';
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
  /** The draining node's closes (3001 seen by the clients), over the drain window; undefined without closes. */
  closes: CloseSpread | undefined;
  /** Largest event-loop delay of the process running the clients during the step (ms): how exact its clock was. */
  clientLagMs: number;
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

async function refusedByReason(nodes: readonly RollNode[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const n of nodes) {
    const text = await scrape(n.baseUrl).catch(() => '');
    for (const m of text.matchAll(/^gyre_admission_refused_total\{reason="([^"]+)"\} (\d+)/gm)) {
      out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
    }
  }
  return out;
}

/** Peak connect rates (per second) over windows of 100 ms and 500 ms. */
export interface Peaks {
  per100ms: number;
  per500ms: number;
}

/** Most events inside any window of `windowMs` (sliding, starting at an event), as a rate per second. */
export function peakRate(sortedAt: readonly number[], windowMs: number): number {
  let most = 0;
  let j = 0;
  for (let i = 0; i < sortedAt.length; i++) {
    while ((sortedAt[i] as number) - (sortedAt[j] as number) >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return (most * 1000) / windowMs;
}

/** How the closes of a drain fell over its window. */
export interface CloseSpread {
  count: number;
  /** First to last close ÷ the window. */
  spanOfWindow: number;
  /** Share of the closes in each quarter of the window, counted from the first close. */
  quarters: number[];
  /** Peak close rate over 100 ms windows (per s). */
  peakPer100ms: number;
}

export function closeSpread(sortedAt: readonly number[], windowMs: number): CloseSpread | undefined {
  if (sortedAt.length === 0) return undefined;
  const first = sortedAt[0] as number;
  const w = Math.max(1, windowMs);
  const quarters = [0, 0, 0, 0];
  for (const t of sortedAt) quarters[Math.min(3, Math.floor(((t - first) * 4) / w))]! += 1 / sortedAt.length;
  return {
    count: sortedAt.length,
    spanOfWindow: ((sortedAt.at(-1) as number) - first) / w,
    quarters,
    peakPer100ms: peakRate(sortedAt, 100),
  };
}

/** A running node of either kind: its port, where to scrape it, and how to stop it. */
interface RollNode {
  port: number;
  baseUrl: string;
  stop(signal: NodeJS.Signals, killAfterMs: number): Promise<{ code: number | null }>;
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
 * application saw (`seqs`): every acknowledged publication, each once, in publish order. A publication whose
 * request failed may still have been applied, later than the next one: it may appear anywhere, once.
 * With `clientEvents: 'sync'` centrifuge-js 5.7.4 can hand a frame's later messages to the application after
 * the next frame's (both frames in one socket read; docs/deploy.md §5): those runs show up here as order
 * violations, not as the server's.
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
  const appOrder = s.seqs.filter((q) => isAcked.has(q));
  for (let i = 1; i < appOrder.length; i++) {
    if ((appOrder[i] as number) <= (appOrder[i - 1] as number)) return say(`application got seq ${String(appOrder[i])} after ${String(appOrder[i - 1])}`);
  }
  return undefined;
}

/** When a client's 101 came back and from which node (nginx's X-Upstream port). */
interface Connect {
  at: number;
  port: number;
}

/**
 * A `ws` WebSocket for centrifuge-js that notes the publications of every frame the server wrote, and when and
 * from which node each 101 came.
 */
function tapClass(
  s: { wire: Array<Array<{ seq: number; offset: number }>>; frames?: string[] },
  connects: Connect[],
  clientEvents: 'sync' | 'task',
): new (address: string, protocols?: string | string[]) => WebSocket {
  return class Tap extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { allowSynchronousEvents: clientEvents === 'sync' });
      const mine: Array<{ seq: number; offset: number }> = [];
      s.wire.push(mine);
      this.once('upgrade', (res: IncomingMessage) => {
        const up = res.headers['x-upstream'];
        const port = Number((typeof up === 'string' ? up : '').split(', ').pop()?.split(':').pop() ?? 0);
        connects.push({ at: performance.now(), port });
      });
      const note = (p: { data?: { seq?: unknown }; offset?: unknown } | undefined): void => {
        if (typeof p?.data?.seq === 'number') mine.push({ seq: p.data.seq, offset: Number(p.offset ?? 0) });
      };
      this.on('message', (data: Buffer) => {
        const lines = data.toString('utf8').split('\n');
        if (lines.length > 1 || lines[0]?.includes('"subscribe"') === true) {
          s.frames?.push(`frame[${lines.map((l) => (l.includes('"subscribe"') ? 'reply' : l.includes('"pub"') ? `pub ${/"seq":(\d+)/.exec(l)?.[1] ?? '?'}` : l.length <= 2 ? 'ping' : 'other')).join(',')}]`);
        }
        for (const line of lines) {
          if (!line.includes('"seq"')) continue;
          const m = JSON.parse(line) as { push?: { pub?: Parameters<typeof note>[0] }; subscribe?: { publications?: Array<Parameters<typeof note>[0]> } };
          note(m.push?.pub);
          for (const p of m.subscribe?.publications ?? []) note(p);
        }
      });
    }
  };
}

/** Config of a Centrifugo node: the same scenario without Gyre's own keys. */
function centrifugoConfig(redisAddress: string): Record<string, unknown> {
  return mergeConfig(baseConfig(), {
    log: { level: 'error' },
    prometheus: { enabled: true },
    engine: { type: 'redis', redis: { address: [redisAddress], prefix: 'roll' } },
    channel: {
      namespaces: [
        { name: NS, history_size: 5000, history_ttl: '600s', force_recovery: true, allow_subscribe_for_client: true },
      ],
    },
  });
}

export async function runRollingRestart(o: RollingOptions): Promise<RollingResult> {
  const log = o.log ?? ((): void => undefined);
  const server = o.server ?? 'gyre';
  if (server === 'centrifugo' && o.drainMs !== 0) throw new Error('Centrifugo has no paced drain: drainMs must be 0');
  const redis: RedisServer = await startRedis();
  let nginx: NginxProcess | undefined;
  const nodes: RollNode[] = [];
  const subs: Sub[] = [];
  const names = ['roll-a', 'roll-b'];
  const startNode = async (idx: number, port?: number): Promise<RollNode> => {
    if (server === 'gyre') {
      return startGyre(nodeConfig(redis.address, names[idx] as string, o.drainMs), { bin: true, ...(port !== undefined ? { port } : {}) });
    }
    const c = await startCentrifugo(centrifugoConfig(redis.address), port !== undefined ? { port } : {});
    return { port: c.port, baseUrl: c.baseUrl, stop: async () => ((await c.stop()), { code: 0 }) };
  };
  try {
    nodes.push(...(await Promise.all([0, 1].map((i) => startNode(i)))));
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
      tagUpstream: true,
    });
    const url = `ws://127.0.0.1:${nginx.port}/connection/websocket`;
    const token = await connToken({ sub: 'roll', expIn: 3600 });

    let step = 'initial';
    const times = new Map<string, number[]>();
    const connects: Connect[] = [];
    /** When clients saw a 3001 (shutdown) close. */
    const shutdownCloses: number[] = [];
    let unrecovered = 0;
    for (let i = 0; i < o.clients; i++) {
      const wire: Sub['wire'] = [];
      const events: string[] = [];
      const client = new Centrifuge(url, { token, websocket: tapClass({ wire, frames: events }, connects, o.clientEvents ?? 'sync') });
      const s: Sub = { client, sub: client.newSubscription(`${NS}:ch-${i % o.channels}`), channel: i % o.channels, seqs: [], wire, events, lostAt: undefined };
      client.on('connecting', (ctx) => {
        s.events.push(`${step}: lost ${ctx.code}`);
        if (ctx.code === 3001) shutdownCloses.push(performance.now());
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
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    /** A step's figures from the marks taken since `from` (performance.now()), at the nodes listening on `ports`. */
    const finishStep = async (name: string, from: number, at: readonly number[], survivors: RollNode[], before: Map<string, number>): Promise<void> => {
      await waitFor(allUp, { what: `every client back after ${name}`, timeoutMs: o.settleTimeoutMs, intervalMs: 100 }).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}: ${states()}`);
      });
      await sleep(500);
      const mine = connects.filter((c) => c.at >= from && at.includes(c.port)).map((c) => c.at).sort((x, y) => x - y);
      const peak = { per100ms: peakRate(mine, 100), per500ms: peakRate(mine, 500) };
      const closes = closeSpread(shutdownCloses.filter((t) => t >= from).sort((x, y) => x - y), o.drainMs);
      const clientLagMs = lag.max / 1e6;
      lag.reset();
      const reconnectMs = (times.get(name) ?? []).sort((x, y) => x - y);
      const refused: Record<string, number> = {};
      for (const [k, v] of await refusedByReason(survivors)) if (v - (before.get(k) ?? 0) > 0) refused[k] = v - (before.get(k) ?? 0);
      steps.push({ step: name, reconnected: reconnectMs.length, reconnectMs, peak, closes, clientLagMs, refused });
      log(
        `${name}: ${reconnectMs.length} reconnected, p50 ${Math.round(pct(reconnectMs, 0.5))} ms, max ${Math.round(reconnectMs.at(-1) ?? NaN)} ms, ` +
          `${mine.length} connects at port(s) ${at.join('+')}, peak ${Math.round(peak.per100ms)}/s (100 ms) ${Math.round(peak.per500ms)}/s (500 ms), ` +
          `closes ${closes === undefined ? 'none' : `${closes.count} over ${(100 * closes.spanOfWindow).toFixed(0)} % of the window, quarters ${closes.quarters.map((q) => (100 * q).toFixed(0)).join('/')} %`}, ` +
          `client lag max ${Math.round(clientLagMs)} ms, refused ${JSON.stringify(refused)}`,
      );
    };
    for (const idx of [0, 1]) {
      const name = `restart ${idx === 0 ? 'A' : 'B'}`;
      const other = nodes[1 - idx] as RollNode;
      const before = await refusedByReason([other]);
      step = name;
      lag.reset();
      const from = performance.now();
      const exit = await (nodes[idx] as RollNode).stop('SIGTERM', o.drainMs + 15_000);
      if (exit.code !== 0) throw new Error(`${name}: exit ${JSON.stringify(exit)}`);
      nodes[idx] = await startNode(idx, ports[idx]);
      // nginx keeps a node it saw failing out for fail_timeout (1 s here). Draining the next node sooner leaves it
      // no upstream at all ("no live upstreams", 502); a rolling restart waits that long after a node is ready.
      await sleep(1500);
      await finishStep(name, from, [other.port], [other], before);
    }
    {
      const before = await refusedByReason(nodes);
      step = 'nginx reload';
      lag.reset();
      const from = performance.now();
      await nginx.reload();
      await sleep(1500); // the old worker cuts its WebSockets after worker_shutdown_timeout (1 s)
      await finishStep(step, from, ports, nodes, before);
    }
    lag.disable();
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
    await Promise.all(nodes.map((n) => n.stop('SIGKILL', 5000)));
    await redis.stop();
  }
}
