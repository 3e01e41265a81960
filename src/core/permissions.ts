// Client permission decisions of docs/protocol.md §4.6 as pure functions. Namespace lookup (102) and name
// validation (107) happen before, in channels.ts; subscription tokens (§3.3) are decided by the caller.
import { Errors } from '../protocol/errors.js';
import type { ResolvedChannel } from './channels.js';

export interface PermissionInput {
  r: ResolvedChannel;
  /** '' = anonymous. */
  user: string;
  /** client.insecure */
  insecure: boolean;
}

export interface SubscriberPermissionInput extends PermissionInput {
  /** The connection is currently subscribed to the channel. */
  subscribed: boolean;
}

/**
 * Subscribe decision for a request WITHOUT a subscription token (§4.6 steps 2, 4, 7, 8; proxies are not
 * supported): `$` channels need a token; a user-limited channel admits its listed users; otherwise
 * allow_subscribe_for_client (+ the anonymous rule) unless user-limited; otherwise client.insecure.
 */
export function canSubscribe({ r, user, insecure }: PermissionInput): boolean {
  if (r.isPrivate) return false;
  const allowed = r.allowedUsers;
  const userLimited = allowed !== undefined;
  if (userLimited && allowed.includes(user)) return true;
  const o = r.options;
  if (o.allow_subscribe_for_client && (user !== '' || o.allow_subscribe_for_anonymous) && !userLimited) return true;
  return insecure;
}

/** allow_publish_for_client, or allow_publish_for_subscriber while subscribed (both + anonymous rule), or insecure. */
export function canPublish({ r, user, insecure, subscribed }: SubscriberPermissionInput): boolean {
  const o = r.options;
  const anonOk = user !== '' || o.allow_publish_for_anonymous;
  if (o.allow_publish_for_client && anonOk) return true;
  if (o.allow_publish_for_subscriber && subscribed && anonOk) return true;
  return insecure;
}

/** Presence/presence_stats permission (availability — `presence` on — is `presenceAvailable`). */
export function canPresence({ r, user, insecure, subscribed }: SubscriberPermissionInput): boolean {
  const o = r.options;
  const anonOk = user !== '' || o.allow_presence_for_anonymous;
  if (o.allow_presence_for_client && anonOk) return true;
  if (o.allow_presence_for_subscriber && subscribed && anonOk) return true;
  return insecure;
}

/** History permission (availability — history_size and history_ttl > 0 — is `historyAvailable`). */
export function canHistory({ r, user, insecure, subscribed }: SubscriberPermissionInput): boolean {
  const o = r.options;
  const anonOk = user !== '' || o.allow_history_for_anonymous;
  if (o.allow_history_for_client && anonOk) return true;
  if (o.allow_history_for_subscriber && subscribed && anonOk) return true;
  return insecure;
}

export function presenceAvailable(r: ResolvedChannel): boolean {
  return r.options.presence;
}

export function historyAvailable(r: ResolvedChannel): boolean {
  return r.hasHistory;
}

/** Throws 103 unless the publish is allowed. */
export function checkPublish(input: SubscriberPermissionInput): void {
  if (!canPublish(input)) throw Errors.permissionDenied();
}

/** Throws 108 when presence is off for the channel, 103 when not allowed. */
export function checkPresence(input: SubscriberPermissionInput): void {
  if (!presenceAvailable(input.r)) throw Errors.notAvailable();
  if (!canPresence(input)) throw Errors.permissionDenied();
}

/** Throws 108 when the channel has no history, 103 when not allowed. */
export function checkHistory(input: SubscriberPermissionInput): void {
  if (!historyAvailable(input.r)) throw Errors.notAvailable();
  if (!canHistory(input)) throw Errors.permissionDenied();
}

export type SubscribeOverride = Partial<
  Record<'presence' | 'join_leave' | 'force_push_join_leave' | 'force_recovery' | 'force_positioning', boolean>
>;

export interface SubscribeOptionsInput extends PermissionInput {
  /** What the client asked for in its SubscribeRequest (absent for server-side subscriptions). */
  req?: { positioned?: boolean | undefined; recoverable?: boolean | undefined; join_leave?: boolean | undefined };
  /** Token/API `override` values (§3.2, §3.3), replacing the namespace's. */
  override?: SubscribeOverride | undefined;
}

export interface SubscribeOptions {
  /** Add this connection to the channel presence. */
  presence: boolean;
  /** Emit join/leave events for this connection. */
  joinLeave: boolean;
  /** This connection receives join/leave pushes. */
  pushJoinLeave: boolean;
  positioned: boolean;
  recoverable: boolean;
  recoveryMode: 'stream' | 'cache';
}

/**
 * Options of an allowed subscription (§4.6 "After allow"): the namespace's presence, join_leave,
 * force_push_join_leave, force_positioning and force_recovery (each replaced by an override when given),
 * then the client's requests: `positioned` if allow_positioning or history access, `recoverable` if
 * allow_recovery or history access, `join_leave` if the namespace has join_leave and presence access —
 * access evaluated as if already subscribed. Recovery implies positioning.
 */
export function resolveSubscribeOptions(input: SubscribeOptionsInput): SubscribeOptions {
  const { r, req, override } = input;
  const o = r.options;
  let positioned = override?.force_positioning ?? o.force_positioning;
  let recoverable = override?.force_recovery ?? o.force_recovery;
  let pushJoinLeave = override?.force_push_join_leave ?? o.force_push_join_leave;
  if (req !== undefined && (req.positioned === true || req.recoverable === true || req.join_leave === true)) {
    const asSubscriber = { ...input, subscribed: true };
    if (req.positioned === true && !positioned && (o.allow_positioning || canHistory(asSubscriber))) positioned = true;
    if (req.recoverable === true && !recoverable && (o.allow_recovery || canHistory(asSubscriber))) recoverable = true;
    if (req.join_leave === true && !pushJoinLeave && o.join_leave && canPresence(asSubscriber)) pushJoinLeave = true;
  }
  return {
    presence: override?.presence ?? o.presence,
    joinLeave: override?.join_leave ?? o.join_leave,
    pushJoinLeave,
    positioned: positioned || recoverable,
    recoverable,
    recoveryMode: o.force_recovery_mode === 'cache' ? 'cache' : 'stream',
  };
}
