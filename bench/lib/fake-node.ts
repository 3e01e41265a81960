// An in-process Gyre Node on the memory engine with fake counting transports, for fan-out micro-benchmarks
// (bench/fanout.bench.ts, bench/delta.bench.ts): every session connects and subscribes with one frame.
import pino from 'pino';
import type { ConnectTokenClaims, SubscribeTokenClaims, TokenVerifier } from '../../src/auth/types.js';
import { Node } from '../../src/core/node.js';
import { createMemoryEngine } from '../../src/engines/memory/index.js';
import type { Disconnect } from '../../src/protocol/errors.js';
import type { Transport, TransportInfo } from '../../src/transports/types.js';
import { makeConfig, type ConfigOverrides } from '../../test/unit/core/config-fixture.js';

export class CountingTransport implements Transport {
  readonly info: TransportInfo = { name: 'websocket', protocol: 'json', unidirectional: false, remoteAddress: '127.0.0.1', headers: {} };
  readonly bufferedBytes = 0;
  onceDrained(cb: () => void): void {
    setImmediate(cb);
  }
  pauseReading(): void {}
  resumeReading(): void {}
  frames = 0;
  bytes = 0;
  write(frame: Uint8Array): void {
    this.frames++;
    this.bytes += frame.byteLength;
  }
  close(_d?: Disconnect): void {}
}

const noTokens: TokenVerifier = {
  verifyConnectToken: (): Promise<ConnectTokenClaims> => Promise.reject(new Error('unused')),
  checkConnectToken: (): Promise<ConnectTokenClaims> => Promise.reject(new Error('unused')),
  verifySubscribeToken: (): Promise<SubscribeTokenClaims> => Promise.reject(new Error('unused')),
};

export const nextMacrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * A started Node (insecure clients, big queues, no pings) with `n` sessions subscribed to `channel`, each sending
 * `subscribe` (the subscribe request's JSON, channel included). Resolves once every one is subscribed.
 */
export async function subscribedNode(
  n: number,
  channel: string,
  subscribe: string,
  overrides: ConfigOverrides = {},
): Promise<{ node: Node; transports: CountingTransport[] }> {
  const config = makeConfig({
    ...overrides,
    client: { insecure: true, queue_max_size: 64 << 20, ping_interval: 0, presence_update_interval: 0, ...overrides.client },
  });
  const node = new Node({ config, engine: createMemoryEngine(), tokenVerifier: noTokens, logger: pino({ level: 'silent' }), version: 'bench' });
  await node.start();
  const transports: CountingTransport[] = [];
  const frame = new TextEncoder().encode(`{"id":1,"connect":{}}\n{"id":2,"subscribe":${subscribe}}`);
  for (let i = 0; i < n; i++) {
    const t = new CountingTransport();
    node.accept(t).handleFrame(frame);
    transports.push(t);
  }
  const deadline = Date.now() + 30_000;
  // Every session answered its connect + subscribe frame (one reply frame each).
  while (transports.reduce((a, t) => a + (t.frames > 0 ? 1 : 0), 0) < n) {
    if (Date.now() > deadline) throw new Error('setup timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
  if ((node.hub.channels.get(channel)?.subs.length ?? 0) !== n) throw new Error('not every session subscribed');
  return { node, transports };
}
