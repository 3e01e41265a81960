// The set of lean clients a worker owns: paced opening, reconnects with full-jitter delays, counters and
// interval histograms for the runner. Runs in a worker thread (or in-process in tests).
import { sourceAddressFor } from './addresses.js';
import { nowMs } from './clock.js';
import { LatencyRecorder } from './histogram.js';
import { LatencyDump } from './latency-dump.js';
import { ClientState, firstFrame, LeanClient } from './lean-client.js';
import type { ClientSink, SubscribeOutcome } from './lean-client.js';
import { emptyRecoveryStats } from './messages.js';
import type { PoolConfig, RecoveryStats, WorkerTick } from './messages.js';
import { emptySequenceStats, observeSeq, SEQ_UNKNOWN } from './sequence.js';
import type { SequenceStats } from './sequence.js';
import { TokenFactory, userIdFor } from './token.js';

/**
 * First attempts opened per event-loop turn in an all-at-once burst (setImmediate between batches). Opening
 * a `ws` socket costs ~0.5–1 ms of CPU (TCP connect, HTTP upgrade request), so a burst cannot be issued
 * instantly; small batches let handshakes already in flight progress while the rest is issued, instead of
 * every reply waiting behind a long synchronous loop. Measured on 2 shared cores against Centrifugo, 2,000
 * clients: batches of 500 → p50 2.7 s, 200 → 0.8–1.4 s, 50 → 0.32 s, with the same total wall time.
 */
const OPEN_BATCH = 50;
const PACE_MS = 10;
const STOP_GRACE_MS = 1500;

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export class ConnPool implements ClientSink {
  private readonly clients: LeanClient[] = [];
  private tokens: (string | null)[] = [];
  /** First frames (connect + subscribe), encoded before the measured phase. */
  private frames: Uint8Array[] = [];
  private nextToOpen = 0;
  private paceTimer: NodeJS.Timeout | null = null;
  private paceImmediate: NodeJS.Immediate | null = null;
  private paceStart = 0;
  private openSpanMs: number | null = null;
  private readonly recovery: RecoveryStats = emptyRecoveryStats();
  private readonly reconnectTimers = new Set<NodeJS.Timeout>();
  private stopping = false;

  private connected = 0;
  private connecting = 0;
  private settled = 0;
  private subscribedOnce = 0;
  private attempts = 0;
  private reconnected = 0;
  private deliveries = 0;
  private pings = 0;
  private readonly failures: Record<string, number> = {};
  private readonly drops: Record<string, number> = {};
  private readonly reconnectFailures: Record<string, number> = {};
  private readonly seq: SequenceStats = emptySequenceStats();
  private readonly connectHist = new LatencyRecorder();
  private readonly reconnectHist = new LatencyRecorder();
  private readonly latencyHist = new LatencyRecorder();
  private connectBuckets: Record<string, number> = {};
  private readonly everSettled: Uint8Array;
  private readonly dump: LatencyDump | null;

  /** Called once when every client finished its first attempt (the host then reports at once). */
  onAllSettled: () => void = () => undefined;

  constructor(
    private readonly cfg: PoolConfig,
    private readonly workerId = 0,
  ) {
    this.everSettled = new Uint8Array(cfg.count);
    this.dump = cfg.latencyDump === undefined ? null : new LatencyDump(`${cfg.latencyDump}.w${workerId}`);
    // Binding a socket to an address with port 0 before connect() makes the kernel search for a free port,
    // which gets slower with every bound socket (measured: 0.7 → 1.2 ms CPU per connection at 5,000, 2.7 ms
    // at 10,000). A single 127.0.0.1 source is what the kernel picks for a loopback target anyway, so the
    // default never binds; several --source-ips still must (see BENCHMARKS.md / the report's generator CPU).
    // With several addresses, bindPorts gives every attempt its own (address, port) so the search is skipped.
    const bind = !(cfg.sourceAddresses.length === 1 && cfg.sourceAddresses[0] === '127.0.0.1');
    if (bind && cfg.bindPorts !== undefined) this.portAttempt = new Uint16Array(cfg.count);
    for (let i = 0; i < cfg.count; i++) {
      const g = cfg.firstIndex + i;
      const channel = cfg.channels > 0 ? `${cfg.channelPrefix}${g % cfg.channels}` : null;
      const client = new LeanClient(
        g,
        channel,
        { url: cfg.url, localAddress: bind ? sourceAddressFor(cfg.sourceAddresses, g) : undefined, connectTimeoutMs: cfg.connectTimeoutMs },
        this,
      );
      this.clients.push(client);
    }
  }

  /**
   * Signs every token and encodes every first frame up front (synchronous HMAC, a few µs each) so that
   * neither competes with the measured phase.
   */
  prepare(): Promise<void> {
    const secret = this.cfg.hmacSecret;
    const f = secret === null ? null : new TokenFactory({ secret, ttlSeconds: this.cfg.tokenTtlSeconds });
    const now = Math.floor(Date.now() / 1000);
    const extras = this.cfg.recover === true ? { recoverable: true } : {};
    this.tokens = new Array<string | null>(this.clients.length);
    this.frames = new Array<Uint8Array>(this.clients.length);
    for (let i = 0; i < this.clients.length; i++) {
      const c = this.clients[i];
      if (c === undefined) continue;
      const token = f === null ? null : f.forUserSync(userIdFor(this.cfg.userPrefix, c.index), now);
      this.tokens[i] = token;
      this.frames[i] = firstFrame(token, c.channel, extras);
    }
    return Promise.resolve();
  }

  start(): void {
    this.paceStart = performance.now();
    this.pace();
  }

  private pace(): void {
    this.paceTimer = null;
    this.paceImmediate = null;
    if (this.stopping) return;
    let due: number;
    if (this.cfg.ratePerSec <= 0) due = this.nextToOpen + OPEN_BATCH;
    else due = Math.floor(((performance.now() - this.paceStart) / 1000) * this.cfg.ratePerSec) + 1;
    due = Math.min(due, this.clients.length);
    while (this.nextToOpen < due) this.openFirst(this.nextToOpen++);
    if (this.nextToOpen < this.clients.length) {
      if (this.cfg.ratePerSec <= 0) this.paceImmediate = setImmediate(() => this.pace());
      else this.paceTimer = setTimeout(() => this.pace(), PACE_MS);
    } else if (this.openSpanMs === null) {
      this.openSpanMs = performance.now() - this.paceStart;
    }
  }

  /** Attempt counter per client (for source-port assignment). */
  private portAttempt: Uint16Array = new Uint16Array(0);

  private assignPort(c: LeanClient): void {
    const b = this.cfg.bindPorts;
    if (b === undefined) return;
    const a = Math.max(1, this.cfg.sourceAddresses.length);
    const local = c.index - this.cfg.firstIndex;
    const k = this.portAttempt[local] ?? 0;
    this.portAttempt[local] = k + 1;
    const range = b.high - b.low + 1;
    c.localPort = b.low + ((b.offset + Math.floor(c.index / a) + k * Math.ceil(b.totalClients / a)) % range);
  }

  private openFirst(local: number): void {
    const c = this.clients[local];
    const frame = this.frames[local];
    if (c === undefined || frame === undefined || this.stopping) return;
    this.attempts++;
    this.connecting++;
    this.assignPort(c);
    c.open(frame);
  }

  /** A reconnect: asks for recovery from the last seen position when the pool runs with `recover`. */
  private reopen(c: LeanClient): void {
    if (this.stopping) return;
    const local = c.index - this.cfg.firstIndex;
    const token = this.tokens[local] ?? null;
    this.attempts++;
    this.connecting++;
    this.assignPort(c);
    if (this.cfg.recover === true && c.epoch !== '') {
      c.askOffset = c.offset;
      c.askEpoch = c.epoch;
      c.open(firstFrame(token, c.channel, { recoverable: true, recover: true, offset: c.offset, epoch: c.epoch }), true);
      return;
    }
    const frame = this.frames[local];
    if (frame !== undefined) c.open(frame);
  }

  // ---- ClientSink ---------------------------------------------------------------------------------

  onConnected(c: LeanClient): void {
    // The storm's connect rate is about clients coming back: initial connects (which may share a 100 ms bucket
    // with the start of the storm window, or be stamped by another process's clock) are not counted.
    if (c.reconnectAttempts === 0) return;
    const b = String(Math.floor(nowMs() / 100));
    this.connectBuckets[b] = (this.connectBuckets[b] ?? 0) + 1;
  }

  onSubscribed(c: LeanClient, elapsedMs: number, recovery: SubscribeOutcome | null): void {
    this.connecting--;
    this.connected++;
    const local = c.index - this.cfg.firstIndex;
    if (c.reconnectAttempts > 0) {
      this.reconnected++;
      this.reconnectHist.recordMs(performance.now() - c.droppedAt);
      c.reconnectAttempts = 0;
      if (recovery !== null) this.countRecovery(c, recovery);
      // A recovered stream continues where it stopped (the recovered publications follow); otherwise the
      // next delivery sets a new baseline.
      if (recovery === null || !recovery.recovered) {
        c.rejoined = true;
        c.lastSeq = SEQ_UNKNOWN;
      }
      return;
    }
    this.connectHist.recordMs(elapsedMs);
    this.subscribedOnce++;
    if (this.everSettled[local] === 0) {
      this.everSettled[local] = 1;
      this.settled++;
      if (this.settled === this.clients.length) this.onAllSettled();
    }
  }

  private countRecovery(c: LeanClient, r: SubscribeOutcome): void {
    const s = this.recovery;
    s.requested++;
    s.recoveredPublications += r.publications;
    if (r.recovered) {
      s.recovered++;
      return;
    }
    s.notRecovered++;
    if (r.epoch !== '' && r.epoch === c.askEpoch && r.offset >= c.askOffset) s.lostPublications += r.offset - c.askOffset;
    else s.epochChanged++;
  }

  onFailure(c: LeanClient, cause: string): void {
    this.connecting--;
    if (c.reconnectAttempts > 0) {
      bump(this.reconnectFailures, cause);
      this.scheduleReconnect(c);
      return;
    }
    bump(this.failures, cause);
    const local = c.index - this.cfg.firstIndex;
    if (this.everSettled[local] === 0) {
      this.everSettled[local] = 1;
      this.settled++;
      if (this.settled === this.clients.length) this.onAllSettled();
    }
  }

  onDrop(c: LeanClient, cause: string): void {
    this.connected--;
    bump(this.drops, cause);
    if (this.cfg.reconnect) this.scheduleReconnect(c);
  }

  onPublication(c: LeanClient, _channel: string, data: unknown, offset: number | undefined): void {
    this.deliveries++;
    let seq: number | undefined;
    if (isRecord(data)) {
      const ts = data['ts'];
      if (typeof data['seq'] === 'number') seq = data['seq'];
      if (typeof ts === 'number') {
        const now = nowMs();
        this.latencyHist.recordMs(now - ts);
        this.dump?.add(c.index, seq ?? -1, ts, now);
      }
    }
    if (offset !== undefined && offset > 0) {
      // Offsets: the first delivery sets the baseline.
      c.lastSeq = observeSeq(this.seq, c.lastSeq, offset);
    } else if (seq !== undefined) {
      // Payload seq starts at 1 per channel, unless this client rejoined mid-stream.
      const last = c.lastSeq === SEQ_UNKNOWN && !c.rejoined ? 0 : c.lastSeq;
      c.lastSeq = observeSeq(this.seq, last, seq);
    }
  }

  onReply(): void {
    /* subscribers send no other commands */
  }

  onPing(): void {
    this.pings++;
  }

  // ---- reconnects -------------------------------------------------------------------------------

  private scheduleReconnect(c: LeanClient): void {
    if (this.stopping) return;
    c.reconnectAttempts++;
    const delay = Math.random() * this.cfg.reconnectMaxDelayMs;
    const t = setTimeout(() => {
      this.reconnectTimers.delete(t);
      if (this.stopping || c.state !== ClientState.Idle) return;
      this.reopen(c);
    }, delay);
    this.reconnectTimers.add(t);
  }

  // ---- reporting and shutdown -------------------------------------------------------------------

  snapshot(): WorkerTick {
    const buckets = this.connectBuckets;
    this.connectBuckets = {};
    return {
      workerId: this.workerId,
      connected: this.connected,
      connecting: this.connecting,
      settled: this.settled,
      subscribedOnce: this.subscribedOnce,
      attempts: this.attempts,
      failures: { ...this.failures },
      drops: { ...this.drops },
      reconnectFailures: { ...this.reconnectFailures },
      reconnected: this.reconnected,
      deliveries: this.deliveries,
      pings: this.pings,
      seq: { ...this.seq },
      connectHist: this.connectHist.drain(),
      reconnectHist: this.reconnectHist.drain(),
      latencyHist: this.latencyHist.drain(),
      connectBuckets: buckets,
      recovery: { ...this.recovery },
      openSpanMs: this.openSpanMs,
    };
  }

  /** Closes every client; resolves when all sockets are gone (force-terminated after a grace period). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.paceTimer !== null) clearTimeout(this.paceTimer);
    if (this.paceImmediate !== null) clearImmediate(this.paceImmediate);
    for (const t of this.reconnectTimers) clearTimeout(t);
    this.reconnectTimers.clear();
    for (const c of this.clients) c.close();
    const deadline = performance.now() + STOP_GRACE_MS;
    while (this.clients.some((c) => c.isOpen) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const c of this.clients) if (c.isOpen) c.terminate();
    const hard = performance.now() + 1000;
    while (this.clients.some((c) => c.isOpen) && performance.now() < hard) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.dump?.write();
  }
}
