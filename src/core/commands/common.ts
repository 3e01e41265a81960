// Small checks shared by the client command handlers (docs/protocol.md §4.2).
import { Disconnects, Errors } from '../../protocol/errors.js';
import type { ResolvedChannel } from '../channels.js';
import type { Session } from '../session.js';
import { SubState } from '../subscription.js';

/** Empty channel ⇒ disconnect 3501. */
export function requireChannel(channel: string | undefined): string {
  if (channel === undefined || channel === '') throw Disconnects.badRequest();
  return channel;
}

/** Namespace lookup (102) and name validation (107) for a client command. */
export function resolveForClient(s: Session, channel: string): ResolvedChannel {
  const r = s.ctx.resolver.resolve(channel);
  s.ctx.resolver.validateName(r);
  return r;
}

export function isSubscribed(s: Session, channel: string): boolean {
  const sub = s.subs.get(channel);
  return sub !== undefined && sub.state === SubState.Subscribed;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Seconds until `expireAt` (unix s), capped to 365 days as in Centrifugo. */
export function ttlSeconds(expireAt: number): number {
  return Math.min(Math.max(0, expireAt - nowSeconds()), 365 * 24 * 3600);
}

export function notAvailable(): never {
  throw Errors.notAvailable();
}
