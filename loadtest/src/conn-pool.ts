// The set of lean clients a worker owns: paced opening, reconnects with full-jitter delays, counters and
// interval histograms for the runner. Runs in a worker thread (or in-process in tests).
import { sourceAddressFor } from './addresses.js';
import { nowMs } from './clock.js';
import { LatencyRecorder } from './histogram.js';
import { ClientState, LeanClient } from './lean-client.js';
import type { ClientSink } from './lean-client.js';
import type { PoolConfig, WorkerTick } from './messages.js';
import { emptySequenceStats, observeSeq, SEQ_UNKNOWN } from './sequence.js';
import type { SequenceStats } from './sequence.js';
import { TokenFactory, userIdFor } from './token.js';

const OPEN_BATCH = 200;
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
  private nextToOpen = 0;
  private paceTimer: NodeJS.Timeout | null = null;
  private paceStart = 0;
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

  constructor(
    private readonly cfg: PoolConfig,
    private readonly workerId = 0,
  ) {
    this.everSettled = new Uint8Array(cfg.count);
    for (let i = 0; i < cfg.count; i++) {
      const g = cfg.firstIndex + i;
      const channel = cfg.channels > 0 ? `${cfg.channelPrefix}${g % cfg.channels}` : null;
      const client = new LeanClient(
        g,
        channel,
        { url: cfg.url, localAddress: sourceAddressFor(cfg.sourceAddresses, g), connectTimeoutMs: cfg.connectTimeoutMs },
        this,
      );
      this.clients.push(client);
    }
  }

  /** Signs every token up front so that signing does not compete with the measured phase. */
  async prepare(): Promise<void> {
    const secret = this.cfg.hmacSecret;
    if (secret === null) {
      this.tokens = this.clients.map(() => null);
      return;
    }
    const f = new TokenFactory({ secret, ttlSeconds: this.cfg.tokenTtlSeconds });
    const out: (string | null)[] = [];
    for (const c of this.clients) out.push(await f.forUser(userIdFor(this.cfg.userPrefix, c.index)));
    this.tokens = out;
  }

  start(): void {
    this.paceStart = performance.now();
    this.pace();
  }

  private pace(): void {
    this.paceTimer = null;
    if (this.stopping) return;
    let due: number;
    if (this.cfg.ratePerSec <= 0) due = this.nextToOpen + OPEN_BATCH;
    else due = Math.floor(((performance.now() - this.paceStart) / 1000) * this.cfg.ratePerSec) + 1;
    due = Math.min(due, this.clients.length);
    while (this.nextToOpen < due) this.openClient(this.clients[this.nextToOpen++]);
    if (this.nextToOpen < this.clients.length) {
      if (this.cfg.ratePerSec <= 0) this.paceTimer = setTimeout(() => this.pace(), 0);
      else this.paceTimer = setTimeout(() => this.pace(), PACE_MS);
    }
  }

  private openClient(c: LeanClient | undefined): void {
    if (c === undefined || this.stopping) return;
    this.attempts++;
    this.connecting++;
    c.open(this.tokens[c.index - this.cfg.firstIndex] ?? null);
  }

  // ---- ClientSink ---------------------------------------------------------------------------------

  onConnected(): void {
    const b = String(Math.floor(nowMs() / 100));
    this.connectBuckets[b] = (this.connectBuckets[b] ?? 0) + 1;
  }

  onSubscribed(c: LeanClient, elapsedMs: number): void {
    this.connecting--;
    this.connected++;
    const local = c.index - this.cfg.firstIndex;
    if (c.reconnectAttempts > 0) {
      this.reconnected++;
      this.reconnectHist.recordMs(performance.now() - c.droppedAt);
      c.reconnectAttempts = 0;
      c.rejoined = true;
      c.lastSeq = SEQ_UNKNOWN;
      return;
    }
    this.connectHist.recordMs(elapsedMs);
    this.subscribedOnce++;
    if (this.everSettled[local] === 0) {
      this.everSettled[local] = 1;
      this.settled++;
    }
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
      if (typeof ts === 'number') this.latencyHist.recordMs(nowMs() - ts);
      if (typeof data['seq'] === 'number') seq = data['seq'];
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
      this.openClient(c);
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
    };
  }

  /** Closes every client; resolves when all sockets are gone (force-terminated after a grace period). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.paceTimer !== null) clearTimeout(this.paceTimer);
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
  }
}
