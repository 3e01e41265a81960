// Test wiring for the core: a Node over the real memory engine, a fake Transport that records written frames
// (decoded with the JSON codec's framing: one JSON value per line), and a fake TokenVerifier whose tokens are
// JSON claim objects (or the words "expired" / "invalid").
import pino from 'pino';
import {
  InvalidTokenError,
  TokenExpiredError,
  type ConnectTokenClaims,
  type SubscribeTokenClaims,
  type TokenVerifier,
} from '../../../src/auth/types.js';
import { Node } from '../../../src/core/node.js';
import { createMemoryEngine } from '../../../src/engines/memory/index.js';
import type { Engine } from '../../../src/engines/types.js';
import type { Disconnect } from '../../../src/protocol/errors.js';
import type { ProtocolFormat } from '../../../src/protocol/types.js';
import type { SessionPort, Transport, TransportInfo } from '../../../src/transports/types.js';
import { makeConfig, type ConfigOverrides } from './config-fixture.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export type Json = Record<string, unknown>;

/** A string claim as the fake verifier reads it: strings and numbers as text, anything else empty. */
function claimString(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

export class FakeTransport implements Transport {
  readonly info: TransportInfo;
  readonly frames: Uint8Array[] = [];
  bufferedBytes = 0;
  /** Reading paused by the session (inbound backpressure). */
  paused = false;
  private drainWaiters: (() => void)[] = [];
  onceDrained(cb: () => void): void {
    if (this.bufferedBytes === 0 || this.closed) setImmediate(cb);
    else this.drainWaiters.push(cb);
  }
  /** The peer read everything: the buffer empties and drain waiters run. */
  drain(): void {
    this.bufferedBytes = 0;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const cb of w) setImmediate(cb);
  }
  pauseReading(): void {
    this.paused = true;
  }
  resumeReading(): void {
    this.paused = false;
  }
  closed = false;
  closeCode: number | undefined = undefined;
  closeReason: string | undefined = undefined;

  constructor(protocol: ProtocolFormat = 'json', headers: Record<string, string> = {}) {
    this.info = { name: 'websocket', protocol, unidirectional: false, remoteAddress: '127.0.0.1', headers };
  }
  write(frame: Uint8Array): void {
    if (!this.closed) this.frames.push(frame);
  }
  close(d?: Disconnect): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = d?.code;
    this.closeReason = d?.reason;
  }
  /** Every written message, decoded (JSON transports). */
  messages(): Json[] {
    const out: Json[] = [];
    for (const f of this.frames) for (const line of dec.decode(f).split('\n')) out.push(JSON.parse(line) as Json);
    return out;
  }
}

function bytes(v: unknown): Uint8Array | undefined {
  return v === undefined ? undefined : enc.encode(JSON.stringify(v));
}

export class FakeVerifier implements TokenVerifier {
  private parse(token: string): Json {
    if (token === 'expired') throw new TokenExpiredError('expired');
    if (token === 'invalid') throw new InvalidTokenError('invalid');
    try {
      return JSON.parse(token) as Json;
    } catch {
      throw new InvalidTokenError('bad');
    }
  }
  verifyConnectToken(token: string): Promise<ConnectTokenClaims> {
    try {
      return Promise.resolve(this.checkConnectToken(token));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
  /** Synchronous, as JwtVerifier's for HMAC tokens: the session's connect then completes without waiting. */
  checkConnectToken(token: string): ConnectTokenClaims {
    const c = this.parse(token);
    if (typeof c['exp'] === 'number' && c['exp'] < Date.now() / 1000) throw new TokenExpiredError('exp');
    const claims: ConnectTokenClaims = { sub: claimString(c['sub']) };
    if (typeof c['exp'] === 'number') claims.exp = c['exp'];
    if (typeof c['expire_at'] === 'number') claims.expire_at = c['expire_at'];
    const info = bytes(c['info']);
    if (info !== undefined) claims.info = info;
    if (Array.isArray(c['channels'])) claims.channels = c['channels'] as string[];
    if (c['subs'] !== undefined) {
      const subs: NonNullable<ConnectTokenClaims['subs']> = {};
      for (const [ch, v] of Object.entries(c['subs'] as Record<string, Json>)) {
        const d = bytes(v['data']);
        subs[ch] = d !== undefined ? { data: d } : {};
      }
      claims.subs = subs;
    }
    return claims;
  }
  verifySubscribeToken(token: string): Promise<SubscribeTokenClaims> {
    try {
      const c = this.parse(token);
      if (typeof c['exp'] === 'number' && c['exp'] < Date.now() / 1000) throw new TokenExpiredError('exp');
      const claims: SubscribeTokenClaims = { sub: claimString(c['sub']), channel: claimString(c['channel']) };
      if (typeof c['exp'] === 'number') claims.exp = c['exp'];
      if (typeof c['expire_at'] === 'number') claims.expire_at = c['expire_at'];
      const info = bytes(c['info']);
      if (info !== undefined) claims.info = info;
      const data = bytes(c['data']);
      if (data !== undefined) claims.data = data;
      if (typeof c['client'] === 'string') claims.client = c['client'];
      return Promise.resolve(claims);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

export function tok(claims: Json): string {
  return JSON.stringify(claims);
}

export interface TestNode {
  node: Node;
  engine: Engine;
  close(): Promise<void>;
}

export async function makeNode(o: ConfigOverrides = {}): Promise<TestNode> {
  const engine = createMemoryEngine();
  const node = new Node({
    config: makeConfig(o),
    engine,
    tokenVerifier: new FakeVerifier(),
    logger: pino({ level: 'silent' }),
    version: '0.0.0 Gyre',
  });
  await node.start();
  return { node, engine, close: () => node.shutdown() };
}

/** A connected-or-not test client: sends JSON command lines, reads decoded messages. */
export class Client {
  readonly t: FakeTransport;
  readonly port: SessionPort;
  private read = 0;
  private nextId = 1;

  constructor(node: Node, protocol: ProtocolFormat = 'json', headers: Record<string, string> = {}) {
    this.t = new FakeTransport(protocol, headers);
    this.port = node.accept(this.t);
  }

  sendRaw(text: string): void {
    this.port.handleFrame(enc.encode(text));
  }
  send(...cmds: Json[]): void {
    this.sendRaw(cmds.map((c) => JSON.stringify(c)).join('\n'));
  }
  /** Sends a command with the next id; returns the id. */
  cmd(body: Json): number {
    const id = this.nextId++;
    this.send({ id, ...body });
    return id;
  }
  /** Messages not yet consumed by next(). */
  unread(): Json[] {
    return this.t.messages().slice(this.read);
  }
  /** Waits until `n` unread messages exist (bounded) and consumes them. */
  async next(n = 1, timeoutMs = 2000): Promise<Json[]> {
    await waitFor(() => this.t.messages().length >= this.read + n, timeoutMs);
    const out = this.t.messages().slice(this.read, this.read + n);
    this.read += n;
    return out;
  }
  async reply(id: number): Promise<Json> {
    await waitFor(() => this.t.messages().slice(this.read).some((m) => m['id'] === id));
    const all = this.t.messages();
    for (let i = this.read; i < all.length; i++) {
      if (all[i]!['id'] === id) {
        this.read = i + 1;
        return all[i]!;
      }
    }
    throw new Error('unreachable');
  }
  async call(body: Json): Promise<Json> {
    return this.reply(this.cmd(body));
  }
  async connect(connect: Json = {}): Promise<Json> {
    const r = await this.call({ connect });
    if (r['connect'] === undefined) throw new Error(`connect failed: ${JSON.stringify(r)}`);
    return r['connect'] as Json;
  }
  async waitClosed(timeoutMs = 2000): Promise<number | undefined> {
    await waitFor(() => this.t.closed, timeoutMs);
    return this.t.closeCode;
  }
}

/** Polls `cond` every few ms up to `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Lets pending microtasks, immediates and short timers run. */
export function settle(ms = 10): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
