// Admission of new WebSocket connections before the upgrade (docs/storm.md §1). Each check is cheap and
// synchronous; a refused client gets 503 with a jittered Retry-After at once, before any 101 is written, so
// under a storm a client learns within one round trip that it must come back later instead of waiting for its
// own 5 s timeout. Checks, in order: shutdown, file descriptors, connection_limit, per-IP limit, handshakes in
// flight, the adaptive wait guard (event-loop lag, handshakes in flight and the kernel's accept queue, at the rate
// transports/handshake-rate.ts measures), then the connection rate.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { Counter } from 'prom-client';
import { BatchedCounter } from '../metrics/batched.js';
import { parity, registry } from '../metrics/registry.js';
import type { FdWatch } from '../metrics/fds.js';
import { loopLag } from './loop-lag.js';
import { RateBucket } from './rate-bucket.js';
import { estimatedWaitMs, HandshakeRate } from './handshake-rate.js';

export const REFUSAL_REASONS = ['shutdown', 'fds', 'connection_limit', 'ip_limit', 'handshakes', 'overload', 'rate'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const admissionRefused = new Counter({
  name: 'gyre_admission_refused_total',
  help: 'WebSocket upgrades refused with 503 before the upgrade, by reason',
  labelNames: ['reason'],
  registers: [registry],
});

export interface AdmissionLimits {
  /** client.connection_limit: open connections on this node; 0 = off. */
  connectionLimit: number;
  /**
   * client.connection_rate_limit: new connections per second; 0 = off. With worker processes, this process's
   * share of it (the limit divided by the processes accepting on the port), so the node as a whole keeps to N.
   */
  rateLimit: number;
  /** client.ip_connection_limit: open connections per remote address; 0 = off. */
  ipLimit: number;
  /** http_server.max_handshakes_in_flight: upgraded, not yet connected; 0 = off. */
  maxInFlight: number;
  /** http_server.handshake_wait_budget (ms); 0 = guard off. */
  waitBudgetMs: number;
}

/**
 * The limits from their config keys (client.* and the Gyre http_server.* extensions; absent server ⇒ off).
 * `processes`: the worker processes sharing the port (node.workers), which split the connection rate.
 */
export function admissionLimits(
  client: { connection_limit: number; connection_rate_limit: number; ip_connection_limit: number },
  server: { max_handshakes_in_flight: number; handshake_wait_budget: number } | undefined,
  processes = 1,
): AdmissionLimits {
  return {
    connectionLimit: client.connection_limit,
    rateLimit: client.connection_rate_limit / Math.max(1, processes),
    ipLimit: client.ip_connection_limit,
    maxInFlight: server?.max_handshakes_in_flight ?? 0,
    waitBudgetMs: server?.handshake_wait_budget ?? 0,
  };
}

/** What the admission reads from the rest of the node. */
export interface AdmissionSource {
  /** Open WebSocket connections. */
  open(): number;
  /** Upgraded connections whose connect command has not been answered yet. */
  inFlight(): number;
  /** Connections waiting in the kernel's accept queue of the listening port (0 when unknown). */
  acceptQueue?(): number;
  /** Processes accepting from that queue: the workers under `node.workers_scheduling: none`; 1 when absent. */
  acceptors?(): number;
  /** Connections this process accepted on the port so far (monotonic): what left the queue since it was read. */
  accepted?(): number;
  /** Connections this process accepted and parked, not reading yet (src/cluster/listen-copies.ts). */
  parked?(): number;
  shuttingDown(): boolean;
}

/** Admissions after which a window is measured early while the rate is still the prior. */
const EARLY_SAMPLE = 128;
/**
 * The accept queue is read from /proc at most this often, and only when an upgrade is checked: one read costs
 * ~1.5 ms of CPU on a host with 20,000 sockets (the kernel walks its listening hash), ~1.5 % of a core in a burst.
 */
const ACCEPT_QUEUE_MAX_AGE_MS = 100;

export class Admission {
  private limits: AdmissionLimits;
  private readonly bucket: RateBucket;
  private readonly perIp = new Map<string, number>();
  /** Stops this admission's share of the process's lag windows (./loop-lag.ts, one every 250 ms). */
  private readonly unwatch: () => void;
  /** Max event-loop delay seen in the last sample window (ms). */
  private lagMs = 0;
  /** Handshakes completed per second of busy time (what the node can do, not how fast clients arrived). */
  private readonly rate: HandshakeRate;
  private elu: EventLoopUtilization;
  private admittedInWindow = 0;
  private refusedInWindow = 0;
  private prevInFlight = 0;
  private acceptQueued = 0;
  private acceptQueuedAt = -Infinity;
  /** `src.accepted()` when the accept queue was read. */
  private acceptedAtRead = 0;

  /**
   * `priorRate`: handshakes per second assumed until a window is measured, e.g. from the start-up warm-up
   * (handshake-rate.ts rateFromWarmup); DEFAULT_PRIOR_RATE when absent. `bucket`: the connection-rate bucket
   * shared with the process's other admissions (./rate-bucket.ts); an own one when absent.
   */
  constructor(
    limits: AdmissionLimits,
    private readonly src: AdmissionSource,
    private readonly fds?: FdWatch,
    priorRate?: number,
    bucket?: RateBucket,
  ) {
    this.limits = limits;
    this.rate = new HandshakeRate(priorRate);
    this.elu = performance.eventLoopUtilization();
    this.bucket = bucket ?? new RateBucket(limits.rateLimit);
    this.bucket.setRate(limits.rateLimit);
    this.unwatch = loopLag.watch(this.sample);
  }

  reconfigure(limits: AdmissionLimits): void {
    this.bucket.setRate(limits.rateLimit);
    this.limits = limits;
  }

  /** A window ended with `lagMs` (or, measured early, the window so far). */
  private readonly sample = (lagMs: number = loopLag.currentMs()): void => {
    this.lagMs = lagMs;
    const inFlight = this.src.inFlight();
    const elu = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(elu, this.elu);
    this.elu = elu;
    // Not windows where the guard refused much: a rate measured while refusing is low, and a low rate keeps
    // refusing (a first version, measured from the accept queue, kept 2,000 clients behind nginx refused for 90 s).
    this.rate.observe({
      completed: Math.max(0, this.admittedInWindow - (inFlight - this.prevInFlight)),
      activeMs: busy.active,
      refused: this.refusedInWindow,
    });
    this.prevInFlight = inFlight;
    this.admittedInWindow = 0;
    this.refusedInWindow = 0;
  };

  /** Handshakes per second the guard currently assumes this process completes. */
  get handshakeRate(): number {
    return this.rate.perSecond;
  }

  private readAcceptQueue(): number {
    if (this.src.acceptQueue === undefined) return 0;
    const now = performance.now();
    if (now - this.acceptQueuedAt >= ACCEPT_QUEUE_MAX_AGE_MS) {
      this.acceptQueued = this.src.acceptQueue();
      this.acceptQueuedAt = now;
      this.acceptedAtRead = this.src.accepted?.() ?? 0;
    }
    return this.acceptQueued;
  }

  /**
   * Estimated wait (ms) of a client admitted now: the current event-loop lag plus the queue of handshakes ahead
   * of it (upgraded and not yet connected, accepted and parked, and this process's share of the kernel's accept
   * queue less what it accepted since the queue was read) divided by the rate at which this process completes
   * handshakes.
   */
  estimatedWaitMs(): number {
    const acceptQueue = this.readAcceptQueue();
    return estimatedWaitMs({
      lagMs: this.lagMs,
      inFlight: this.src.inFlight(),
      acceptQueue,
      acceptedSinceRead: (this.src.accepted?.() ?? 0) - this.acceptedAtRead,
      parked: this.src.parked?.() ?? 0,
      acceptors: this.src.acceptors?.() ?? 1,
      rate: this.rate.perSecond,
    });
  }

  /**
   * True when the checks need the client's address (client.ip_connection_limit is on). Reading a socket's
   * `remoteAddress` is a getpeername system call, so callers only pass one to `check` and `admitted` then.
   */
  get perAddress(): boolean {
    return this.limits.ipLimit > 0;
  }

  /** null: admit (the caller then calls `admitted`). Otherwise the reason to refuse. */
  check(remote: string | undefined): RefusalReason | null {
    const shut = this.nodeWide(remote);
    if (shut !== null) return this.refusing(shut);
    if (!this.bucket.take()) return this.refusing('rate');
    return null;
  }

  private refusing(reason: RefusalReason): RefusalReason {
    this.refusedInWindow++;
    return reason;
  }

  /**
   * The reason every upgrade would be refused right now, whoever sends it, or null: what `check` says without
   * the per-address limit, with the rate bucket only looked at (no token taken). Cheap enough to ask for each
   * accepted connection before its head is parsed (http/front.ts answers 503 from the first bytes then).
   */
  shut(): RefusalReason | null {
    const shut = this.nodeWide(undefined);
    if (shut !== null) return this.refusing(shut);
    if (this.bucket.empty()) return this.refusing('rate');
    return null;
  }

  /** Every check but the rate bucket; the per-address limit only with `remote`. */
  private nodeWide(remote: string | undefined): RefusalReason | null {
    const l = this.limits;
    if (this.src.shuttingDown()) return 'shutdown';
    if (this.fds !== undefined && this.fds.nearLimit()) return 'fds';
    if (l.connectionLimit > 0 && this.src.open() >= l.connectionLimit) return 'connection_limit';
    if (l.ipLimit > 0 && remote !== undefined && (this.perIp.get(remote) ?? 0) >= l.ipLimit) return 'ip_limit';
    if (l.maxInFlight > 0 && this.src.inFlight() >= l.maxInFlight) return 'handshakes';
    if (l.waitBudgetMs > 0 && this.estimatedWaitMs() > l.waitBudgetMs) return 'overload';
    return null;
  }

  /**
   * The connection was let in: count it against its address until it closes (a socket, or the response of an
   * HTTP streaming connection).
   */
  admitted(socket: { once(event: 'close', listener: () => void): unknown }, remote: string | undefined): void {
    this.admittedInWindow++;
    // Until a window replaced the prior, measure as soon as there are enough admissions: a burst of 2,000 is
    // over within one 250 ms window, and the prior alone would decide it.
    if (this.admittedInWindow >= EARLY_SAMPLE && !this.rate.measured) this.sample();
    if (this.limits.ipLimit === 0 || remote === undefined) return;
    this.perIp.set(remote, (this.perIp.get(remote) ?? 0) + 1);
    socket.once('close', () => {
      const n = (this.perIp.get(remote) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(remote);
      else this.perIp.set(remote, n);
    });
  }

  close(): void {
    this.unwatch();
  }
}

/** Retry-After seconds: uniform in [1, 5], so refused clients that honour it do not come back together. */
export function jitteredRetryAfter(rand: () => number = Math.random): number {
  return 1 + Math.floor(rand() * 5);
}

/** Refusals batched per reason (prom-client hashes the labels on every inc, also through a child). */
const refusedBatched = new BatchedCounter(admissionRefused);
/** The `{ reason }` label set of each refusal reason, built once (gyre_admission_refused_total, gyre_handshake_rejected_total). */
export const refusalLabels = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, { reason: r }])) as Record<
  RefusalReason,
  { reason: RefusalReason }
>;
/** Whole 503 answers by reason and Retry-After, built once: a storm of refusals only copies bytes. */
const answers = new Map<string, Buffer>();

function answer(reason: RefusalReason, retryAfterS: number): Buffer {
  const key = `${reason}:${retryAfterS}`;
  let b = answers.get(key);
  if (b === undefined) {
    const body = `Service Unavailable: ${reason}`;
    b = Buffer.from(
      `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: ${retryAfterS}\r\n` +
        `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      'latin1',
    );
    if (answers.size < 256) answers.set(key, b);
  }
  return b;
}

/** Counts one refusal in gyre_admission_refused_total (and Centrifugo's connection-limit counter). */
export function countRefusal(reason: RefusalReason): void {
  refusedBatched.inc(reason, refusalLabels[reason]);
  if (reason === 'connection_limit') parity.clientConnectionLimit.inc();
}

/**
 * 503 with Retry-After and the reason as body, then the socket is closed as soon as the answer is handed to the
 * kernel (a refused socket must not hold its fd: in a storm at the fd limit, those fds are the next clients'),
 * never reset. A socket whose write does not finish within 1 s is destroyed.
 */
export function refuseBusy(socket: Duplex, reason: RefusalReason, retryAfterS = jitteredRetryAfter()): void {
  countRefusal(reason);
  socket.on('error', ignore);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  socket.end(answer(reason, retryAfterS), () => {
    if (timer !== undefined) clearTimeout(timer);
    socket.destroy();
  });
  // The answer is ~150 bytes on a fresh socket: it almost always went to the kernel synchronously.
  if (!socket.destroyed && socket.writableLength > 0) {
    timer = setTimeout(() => socket.destroy(), 1000);
    timer.unref();
  }
}

function ignore(): void {}
