// Shared helpers of the engine contract suites (not a test file itself).
import { randomBytes } from 'node:crypto';
import type { BrokerEventHandler } from '../../src/engines/types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../src/protocol/types.js';

export type SkipMap = Readonly<Record<string, string>>;

/** A channel name unique to this run, so suites can share one real Redis/NATS server. */
export function uniqueChannel(prefix = 'ct'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until true or `timeoutMs` elapses (then throws). */
export async function waitFor(cond: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array | undefined): string => (b === undefined ? '' : new TextDecoder().decode(b));

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export interface PubEvent {
  kind: 'pub';
  channel: string;
  pub: Publication;
  position: StreamPosition | undefined;
}
export interface PresenceEvent {
  kind: 'join' | 'leave';
  channel: string;
  info: ClientInfo;
}
export type BrokerEvent = PubEvent | PresenceEvent;

/** Records every broker callback in arrival order. */
export class RecordingHandler implements BrokerEventHandler {
  readonly events: BrokerEvent[] = [];
  onPublication(channel: string, pub: Publication, position: StreamPosition | undefined): void {
    this.events.push({ kind: 'pub', channel, pub, position });
  }
  onJoin(channel: string, info: ClientInfo): void {
    this.events.push({ kind: 'join', channel, info });
  }
  onLeave(channel: string, info: ClientInfo): void {
    this.events.push({ kind: 'leave', channel, info });
  }
  pubs(channel: string): PubEvent[] {
    return this.events.filter((e): e is PubEvent => e.kind === 'pub' && e.channel === channel);
  }
  presence(channel: string): PresenceEvent[] {
    return this.events.filter((e): e is PresenceEvent => e.kind !== 'pub' && e.channel === channel);
  }
}
