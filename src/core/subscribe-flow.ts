// Establishing one subscription (client-side, server-side at connect, or via the server API): register in
// the hub (publications start buffering), add presence, read position / recover (docs/protocol.md §5.2–5.4), then — after the
// caller wrote the reply or push — switch to live delivery, flush what was buffered and emit the join.
import { Disconnects, Errors, ProtocolError } from '../protocol/errors.js';
import { ErrorCode } from '../protocol/codes.js';
import type { Publication, StreamPosition, SubscribeResult } from '../protocol/types.js';
import { UnrecoverablePositionError, type HistoryReadResult } from '../engines/types.js';
import { performance } from 'node:perf_hooks';
import { metrics } from '../metrics/registry.js';
import { countAction, countSubscriptionAccepted, observeRecovery, subscriptionsInflight } from '../metrics/observe.js';
import type { ResolvedChannel } from './channels.js';
import { fullForDelta, recoveredForDelta } from './delta.js';
import { cacheRecovery, checkPosition, mergeRecovered, streamRecovery, withEpoch } from './recovery.js';
import type { Session } from './session.js';
import { SubState, Subscription } from './subscription.js';
import { matchTags, type TagsFilter } from './tags-filter.js';
import { ttlSeconds } from './commands/common.js';

export interface SubscribeFlags {
  presence: boolean;
  joinLeave: boolean;
  pushJoinLeave: boolean;
  positioned: boolean;
  recoverable: boolean;
  recoveryMode: 'stream' | 'cache';
}

export interface EstablishInput {
  r: ResolvedChannel;
  serverSide: boolean;
  flags: SubscribeFlags;
  recover: boolean;
  offset: number;
  epoch: string;
  /** flag & 2: answer 112 instead of recovered:false. */
  rejectUnrecovered: boolean;
  /** Unix seconds; 0 = none. */
  expireAt: number;
  /** Whether the client must refresh (`expires`/`ttl` in the result). */
  clientExpires: boolean;
  chanInfo?: Uint8Array;
  data?: Uint8Array;
  /** Delta compression negotiated for this subscription. */
  delta?: boolean;
  /** Publication tags filter (client `tf`, validated). */
  tagsFilter?: TagsFilter;
}

export interface Established {
  sub: Subscription;
  result: SubscribeResult;
  /** Recovered publications (for API subscribe: pushed after the subscribe push). */
  recovered: Publication[];
  /** Call right after the reply/push was written: live delivery, buffered publications, join. */
  complete(): void;
}

/**
 * Registers the subscription and reads its position. Synchronous (the Established itself) when nothing has to be
 * waited for: the broker already holds the channel, no presence, no history to read; otherwise a Promise of it.
 */
export function establish(s: Session, input: EstablishInput): Established | Promise<Established> {
  const ctx = s.ctx;
  const { r, flags } = input;
  const channel = r.channel;
  // A concurrent server API subscribe may have won the race while this command awaited its token.
  if (s.subs.has(channel)) throw Errors.alreadySubscribed();
  const sub = new Subscription(s, channel, r.namespace, {
    serverSide: input.serverSide,
    presence: flags.presence,
    joinLeave: flags.joinLeave,
    pushJoinLeave: flags.pushJoinLeave,
    positioned: flags.positioned || flags.recoverable,
    recoverable: flags.recoverable,
    delta: input.delta === true,
    tagsFilter: input.tagsFilter,
  });
  sub.expireAt = input.expireAt;
  sub.chanInfo = input.chanInfo;
  s.subs.set(channel, sub);
  let registered: Promise<void> | undefined;
  try {
    registered = ctx.hub.register(sub, r.namespace);
    if (registered === undefined && !flags.presence && !(sub.positioned && ctx.engine.history !== undefined)) {
      abortIfGone(sub);
      sub.positioned = false;
      sub.recoverable = false;
      return establishedOf(s, input, sub, {}, []);
    }
  } catch (err) {
    throw undo(s, sub, false, err);
  }
  return establishWaiting(s, input, sub, registered);
}

async function establishWaiting(
  s: Session,
  input: EstablishInput,
  sub: Subscription,
  registered: Promise<void> | undefined,
): Promise<Established> {
  const ctx = s.ctx;
  const { r, flags } = input;
  const channel = r.channel;
  let presenceAdded = false;
  try {
    if (registered !== undefined) await registered;
    abortIfGone(sub);
    if (flags.presence) {
      await ctx.engine.presence.add(channel, s.id, s.clientInfo(input.chanInfo));
      presenceAdded = true;
      abortIfGone(sub);
    }
    const result: SubscribeResult = {};
    let recovered: Publication[] = [];
    const history = ctx.engine.history;
    if (sub.positioned && history !== undefined) {
      const metaTtlMs = ctx.publisher.metaTtl(r.options);
      const wantRecover =
        sub.recoverable && (input.recover || (flags.recoveryMode === 'cache' && r.options.auto_cache_recover));
      let read: HistoryReadResult;
      let ok = false;
      const recoverStarted = wantRecover ? performance.now() : 0;
      // The read's own action, besides the `history` every read counts (src/core/engine-actions.ts), as Centrifugo.
      if (wantRecover && flags.recoveryMode === 'cache') {
        countAction('history_recover_cache');
        const tf = sub.tagsFilter;
        if (tf === undefined) {
          read = await history.read(channel, { limit: 1, reverse: true, metaTtlMs });
        } else {
          // With a tags filter the client gets the newest publication that passes it (as Centrifugo).
          const max = ctx.config.client.recovery_max_publication_limit;
          read = await history.read(channel, { limit: max > 0 ? max : -1, reverse: true, metaTtlMs });
        }
        const latest = read.publications.slice(0, 1);
        const res = cacheRecovery({ offset: input.offset, epoch: input.epoch }, { publications: latest, position: read.position });
        ok = res.recovered;
        recovered = res.publications;
        if (tf !== undefined && recovered.length > 0) {
          const match = read.publications.find((p) => matchTags(tf, p.tags));
          recovered = match === undefined ? [] : [match];
        }
      } else if (wantRecover) {
        countAction('history_recover');
        const max = ctx.config.client.recovery_max_publication_limit;
        try {
          read = await history.read(channel, {
            since: { offset: input.offset, epoch: input.epoch },
            limit: max > 0 ? max : -1,
            metaTtlMs,
          });
          const res = streamRecovery({ offset: input.offset, epoch: input.epoch }, read);
          ok = res.recovered;
          recovered = res.recovered ? res.publications : [];
        } catch (err) {
          if (!(err instanceof UnrecoverablePositionError)) throw err;
          read = { publications: [], position: err.position };
        }
      } else {
        countAction('history_stream_top');
        read = await history.read(channel, { limit: 0, metaTtlMs });
      }
      abortIfGone(sub);
      const top: StreamPosition = read.position;
      if (wantRecover) {
        // Centrifugo's label values: yes/no.
        metrics.recover.inc({
          recovered: ok ? 'yes' : 'no',
          channel_namespace: '',
          has_recovered_publications: recovered.length > 0 ? 'yes' : 'no',
        });
        observeRecovery(r.namespace, ok ? recovered.length : undefined, (performance.now() - recoverStarted) / 1000);
        if (!ok && input.rejectUnrecovered) throw ProtocolError.of(ErrorCode.UnrecoverablePosition);
      }
      if (sub.recoverable) result.recoverable = true;
      result.positioned = true;
      result.epoch = top.epoch;
      sub.epoch = top.epoch;
      sub.offset = top.offset;
      if (wantRecover) {
        result.was_recovering = true;
        result.recovered = ok;
        if (ok) {
          // Merge what PUB/SUB delivered during the subscribe (dedup by offset); inconsistent ⇒ 3010.
          const buffered = takeBuffered(sub);
          const merged = mergeRecovered(
            recovered,
            buffered,
            flags.recoveryMode === 'stream' ? input.offset : undefined,
          );
          if (merged === null) throw Disconnects.insufficientState();
          const last = merged.length > 0 ? (merged[merged.length - 1]!.offset ?? 0) : 0;
          const tf = sub.tagsFilter;
          const passed = tf === undefined ? merged : merged.filter((p) => matchTags(tf, p.tags));
          // Cache mode: only the latest matters, unless deltas chain through all of them (as Centrifugo).
          recovered = flags.recoveryMode === 'cache' && passed.length > 1 && !sub.delta ? passed.slice(-1) : passed;
          result.offset = flags.recoveryMode === 'cache' ? top.offset : input.offset;
          if (last > sub.offset) sub.offset = last;
          if (sub.delta) {
            // The client now holds the base of the next delta (Centrifugo allows deltas after a recovery).
            sub.deltaReady = true;
            if (recovered.length > 0) result.publications = recoveredForDelta(recovered, s.json);
          } else if (recovered.length > 0) result.publications = recovered;
        } else {
          result.offset = top.offset;
          recovered = [];
        }
      } else {
        result.offset = top.offset;
      }
      sub.positionCheckedAt = Date.now();
    } else {
      sub.positioned = false;
      sub.recoverable = false;
    }
    return establishedOf(s, input, sub, result, recovered);
  } catch (err) {
    throw undo(s, sub, presenceAdded, err);
  }
}

/** Undoes a subscription that failed to establish; returns the error to throw. */
function undo(s: Session, sub: Subscription, presenceAdded: boolean, err: unknown): unknown {
  const ctx = s.ctx;
  const channel = sub.channel;
  if (s.subs.get(channel) === sub) s.subs.delete(channel);
  ctx.hub.removeSub(sub);
  sub.buffer = null;
  if (presenceAdded) {
    ctx.engine.presence.remove(channel, s.id, s.user).catch((e: unknown) => s.engineError('presence remove', e));
  }
  if (err instanceof UnrecoverablePositionError) return Errors.unrecoverablePosition();
  return err;
}

/** The result's last fields, and the Established. */
function establishedOf(
  s: Session,
  input: EstablishInput,
  sub: Subscription,
  result: SubscribeResult,
  recovered: Publication[],
): Established {
  // Centrifugo reports a recovery attempt whenever the client asked for one, even on a channel without history.
  if (input.recover) result.was_recovering = true;
  if (input.expireAt > 0 && input.clientExpires) {
    result.expires = true;
    result.ttl = ttlSeconds(input.expireAt);
  }
  if (input.data !== undefined && input.data.byteLength > 0) result.data = input.data;
  if (sub.delta) result.delta = true;
  return new EstablishedSubscription(s, sub, result, recovered);
}

class EstablishedSubscription implements Established {
  constructor(
    private readonly session: Session,
    readonly sub: Subscription,
    readonly result: SubscribeResult,
    readonly recovered: Publication[],
  ) {}

  complete(): void {
    complete(this.session, this.sub);
  }
}

class SubscriptionGone extends Error {}

function abortIfGone(sub: Subscription): void {
  if (sub.state === SubState.Removed || sub.session.closed) throw new SubscriptionGone('subscription gone');
}

export function isSubscriptionGone(err: unknown): boolean {
  return err instanceof SubscriptionGone;
}

/** Publications buffered so far (offsets filled in from their positions); the buffer keeps collecting. */
export function takeBuffered(sub: Subscription): Publication[] {
  const buf = sub.buffer ?? [];
  sub.buffer = [];
  const out: Publication[] = [];
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b.position !== undefined && b.pub.offset === undefined) out.push({ ...b.pub, offset: b.position.offset });
    else out.push(b.pub);
  }
  return out;
}

/** Switches a subscription to live delivery after its reply: buffered publications first, then the join. */
export function complete(s: Session, sub: Subscription): void {
  if (sub.state !== SubState.Subscribing || s.closed) return;
  sub.state = SubState.Subscribed;
  const buf = sub.buffer;
  sub.buffer = null;
  const name = s.metricName;
  countSubscriptionAccepted(name);
  subscriptionsInflight(name, sub.namespace, 1);
  if (buf !== null) {
    for (let i = 0; i < buf.length; i++) {
      const { pub, position } = buf[i]!;
      if (!deliverOne(s, sub, pub, position)) return;
    }
  }
  if (sub.joinLeave) {
    s.ctx.engine.broker
      .publishJoin(sub.channel, s.clientInfo(sub.chanInfo))
      .catch((err: unknown) => s.engineError('join', err));
  }
}

/** Delivers one buffered publication to one subscription (not the hot path). False if the sub/session ended. */
export function deliverOne(s: Session, sub: Subscription, pub: Publication, position: StreamPosition | undefined): boolean {
  const offset = position !== undefined ? position.offset : (pub.offset ?? 0);
  if (sub.positioned && offset > 0) {
    const verdict = checkPosition(sub, offset, position?.epoch);
    if (verdict === 'drop') return true;
    if (verdict === 'insufficient') {
      s.insufficientState(sub);
      return false;
    }
    sub.offset = offset;
    if (position !== undefined && sub.epoch === '') sub.epoch = position.epoch;
  }
  if (sub.tagsFilter !== undefined && !matchTags(sub.tagsFilter, pub.tags)) return true;
  if (s.json && !s.codec.canCarry(pub.data)) {
    s.close(Disconnects.inappropriateProtocol());
    return false;
  }
  const pushed = withEpoch(pub, position);
  if (sub.delta) {
    sub.deltaReady = true;
    s.deliver(s.codec.encodePublicationPush(sub.channel, fullForDelta(pushed, s.json)));
  } else {
    s.deliver(s.codec.encodePublicationPush(sub.channel, pushed));
  }
  return true;
}
