// Client `subscribe` with type 1–3 (docs/map-subscriptions.md): a paginated subscribe over several commands.
// The first command authorizes and registers the subscription in the hub (publications start buffering); then
//   phase 2 (state) pages through the current entries: the epoch and offset of the first page are frozen, later
//     pages leave out entries changed after it (they come through the stream);
//   phase 1 (stream) pages through changes since the client's offset (stream modes only);
//   phase 0 (live) is answered when the client is close enough: the last changes are read, merged with what
//     was buffered (deduplicated by offset) and sent with the reply; then live delivery starts.
// The server decides when to go live: the last state page in streamless mode, or when the stream is within one
// page of the client. A reconnecting client of a stream mode starts at phase 1 (or 0) with its position.
import { Buffer } from 'node:buffer';
import { hasStream, type MapStreamReadResult } from '../../engines/map-types.js';
import { UnrecoverablePositionError } from '../../engines/types.js';
import { Disconnects, Errors } from '../../protocol/errors.js';
import type { Publication, StreamPosition, SubscribeRequest, SubscribeResult } from '../../protocol/types.js';
import type { ResolvedChannel } from '../channels.js';
import { nowSeconds, requireChannel, resolveForClient, ttlSeconds } from '../commands/common.js';
import { subExpireAt, verifySubscribeToken } from '../commands/subscribe.js';
import { proxySubscribe } from '../commands/subscribe-proxy.js';
import { fullForDelta, recoveredForDelta } from '../delta.js';
import { canSubscribe } from '../permissions.js';
import { mergeRecovered, withEpoch } from '../recovery.js';
import type { Session } from '../session.js';
import { complete, takeBuffered } from '../subscribe-flow.js';
import { SubState, Subscription } from '../subscription.js';
import { matchTags, parseTagsFilter, type TagsFilter } from '../tags-filter.js';
import { addMapPresence } from './presence.js';
import { catchUpTimeoutMs, liveTransitionLimit, mapSettings, pageSize, subscriptionTypeOf } from './options.js';
import type { MapSubscriptionState } from './state.js';

const PHASE_LIVE = 0;
const PHASE_STREAM = 1;
const PHASE_STATE = 2;
/** SubscribeResult.type of every map subscription (map_clients and map_users too, as Centrifugo answers). */
const RESULT_TYPE_MAP = 1;

export async function handleMapSubscribe(s: Session, id: number, req: SubscribeRequest): Promise<void> {
  const ctx = s.ctx;
  const channel = requireChannel(req.channel);
  if (req.delta !== undefined && req.delta !== '' && req.delta !== 'fossil') throw Disconnects.badRequest();
  const phase = req.phase ?? PHASE_LIVE;
  if (phase !== PHASE_LIVE && phase !== PHASE_STREAM && phase !== PHASE_STATE) throw Errors.badRequest();
  const existing = s.subs.get(channel);
  let sub: Subscription;
  if (existing !== undefined) {
    const m = existing.map;
    // A second subscribe to a live channel, or a fresh state request while one is in progress.
    if (m === undefined || existing.state !== SubState.Subscribing) throw Errors.alreadySubscribed();
    if (phase === PHASE_STATE && (req.cursor ?? '') === '') throw Errors.alreadySubscribed();
    if (m.busy) throw Errors.concurrentPagination();
    const r = ctx.resolver.resolve(channel);
    const timeout = catchUpTimeoutMs(r.options);
    if (timeout > 0 && Date.now() - m.startedAt > timeout) {
      s.removeSubscription(existing);
      throw Disconnects.slow();
    }
    sub = existing;
  } else {
    if ((req.cursor ?? '') !== '') throw Errors.permissionDenied();
    if (phase === PHASE_STREAM && req.recover !== true) throw Errors.permissionDenied();
    sub = await authorize(s, channel, req);
  }
  const m = sub.map!;
  m.busy = true;
  try {
    const r = ctx.resolver.resolve(channel);
    if (phase === PHASE_STATE) await statePhase(s, id, sub, r, req);
    else if (phase === PHASE_STREAM) await streamPhase(s, id, sub, r, req);
    else {
      if ((req.epoch ?? '') !== '' && m.epoch !== '' && req.epoch !== m.epoch) throw Errors.unrecoverablePosition();
      await goLive(s, id, sub, r, req, { offset: req.offset ?? 0, epoch: req.epoch ?? '' }, undefined, true);
    }
  } catch (err) {
    if (s.subs.get(channel) === sub && sub.state === SubState.Subscribing) s.removeSubscription(sub);
    if (err instanceof UnrecoverablePositionError) throw Errors.unrecoverablePosition();
    throw err;
  } finally {
    m.busy = false;
  }
}

/** First command of a map subscribe: checks as for a stream subscribe, then a Subscribing entry in the hub. */
async function authorize(s: Session, channel: string, req: SubscribeRequest): Promise<Subscription> {
  const ctx = s.ctx;
  const cfg = ctx.config;
  if (Buffer.byteLength(channel) > cfg.channel.max_length) throw Errors.badRequest();
  if (cfg.client.channel_limit > 0 && s.subs.size >= cfg.client.channel_limit) throw Errors.limitExceeded();
  const r = resolveForClient(s, channel);
  const o = r.options;
  if (subscriptionTypeOf(o) !== req.type) throw Errors.permissionDenied();
  let tagsFilter: TagsFilter | undefined;
  if (req.tf !== undefined && req.tf !== null) {
    if (!o.allow_tags_filter) throw Errors.badRequest();
    tagsFilter = parseTagsFilter(req.tf);
    if (tagsFilter === undefined) throw Errors.badRequest();
  }
  let chanInfo: Uint8Array | undefined;
  let expireAt = 0;
  if (req.token !== undefined && req.token !== '') {
    const claims = await verifySubscribeToken(s, req.token, channel);
    chanInfo = claims.info;
    expireAt = subExpireAt(claims);
  } else if (r.isPrivate) {
    throw Errors.permissionDenied();
  } else if (o.subscribe_proxy_enabled && r.allowedUsers === undefined) {
    const proxy = ctx.proxies.subscribe(o.subscribe_proxy_name);
    if (proxy === undefined) throw Errors.notAvailable();
    const granted = await proxySubscribe(s, proxy, channel, req.data);
    chanInfo = granted.info;
    expireAt = granted.expireAt;
  } else if (!canSubscribe({ r, user: s.user, insecure: cfg.client.insecure })) {
    throw Errors.permissionDenied();
  }
  if (s.closed) throw Errors.permissionDenied();
  if (expireAt > 0 && expireAt <= nowSeconds()) throw Errors.expired();
  if (s.subs.has(channel)) throw Errors.alreadySubscribed();
  if (ctx.mapBroker === undefined) throw Errors.notAvailable();
  const settings = mapSettings(o);
  const stream = hasStream(settings);
  const sub = new Subscription(s, channel, r.namespace, {
    serverSide: false,
    presence: o.presence,
    joinLeave: o.join_leave,
    pushJoinLeave: false,
    positioned: stream,
    recoverable: stream,
    delta: req.delta === 'fossil' && o.allowed_delta_types.includes('fossil'),
    ...(tagsFilter !== undefined ? { tagsFilter } : {}),
  });
  sub.expireAt = expireAt;
  sub.chanInfo = chanInfo;
  const state: MapSubscriptionState = {
    type: req.type ?? RESULT_TYPE_MAP,
    settings,
    startedAt: Date.now(),
    busy: false,
    epoch: '',
    offset: 0,
    offsetCaptured: false,
    streamStart: undefined,
    clientsPresenceChannel: '',
    usersPresenceChannel: '',
    removeClientKey: o.map?.remove_client_on_unsubscribe === true,
  };
  sub.map = state;
  s.subs.set(channel, sub);
  try {
    await ctx.hub.addSub(sub, r.namespace);
  } catch (err) {
    s.removeSubscription(sub);
    throw err;
  }
  if (sub.state === SubState.Removed || s.closed) throw Errors.permissionDenied();
  return sub;
}

async function statePhase(s: Session, id: number, sub: Subscription, r: ResolvedChannel, req: SubscribeRequest): Promise<void> {
  const m = sub.map!;
  const broker = s.ctx.mapBroker!;
  const cursor = req.cursor ?? '';
  const limit = pageSize(r.options, req.limit);
  const reqOffset = req.offset ?? 0;
  const reqEpoch = req.epoch ?? '';
  const revision = reqOffset > 0 || reqEpoch !== '' ? { offset: reqOffset, epoch: reqEpoch } : undefined;
  const page = await broker.readState(sub.channel, { cursor, limit, revision });
  if (cursor === '') {
    m.epoch = page.position.epoch;
    m.offset = page.position.offset;
    m.offsetCaptured = true;
  }
  let pubs = page.publications;
  // Entries changed after the client's position reach it through the stream: not in later pages.
  if (revision !== undefined) pubs = pubs.filter((p) => (p.offset ?? 0) <= revision.offset);
  pubs = filterTags(sub, pubs);
  const frozen = m.offsetCaptured && cursor !== '';
  const effective: StreamPosition = frozen ? { offset: m.offset, epoch: m.epoch } : page.position;
  if (page.cursor === '') {
    if (!sub.positioned) return goLive(s, id, sub, r, req, effective, pubs, false);
    const top = await broker.readStream(sub.channel, { limit: 0 });
    if (effective.offset + limit >= top.position.offset) return goLive(s, id, sub, r, req, effective, pubs, false);
  }
  const result: SubscribeResult = {
    type: RESULT_TYPE_MAP,
    phase: PHASE_STATE,
    epoch: page.position.epoch,
    offset: frozen ? m.offset : page.position.offset,
  };
  if (page.cursor !== '') result.cursor = page.cursor;
  if (pubs.length > 0) result.state = forDelta(s, sub, req, pubs, page.position.epoch);
  s.sendReply({ id, subscribe: result });
}

async function streamPhase(s: Session, id: number, sub: Subscription, r: ResolvedChannel, req: SubscribeRequest): Promise<void> {
  const m = sub.map!;
  const broker = s.ctx.mapBroker!;
  if (!sub.positioned) throw Errors.badRequest();
  const reqOffset = req.offset ?? 0;
  const reqEpoch = req.epoch ?? '';
  if (reqEpoch !== '' && m.epoch !== '' && reqEpoch !== m.epoch) throw Errors.unrecoverablePosition();
  if (m.epoch === '') m.epoch = reqEpoch;
  if (m.streamStart === undefined) m.streamStart = (await broker.readStream(sub.channel, { limit: 0 })).position.offset;
  const limit = pageSize(r.options, req.limit);
  if (reqOffset + limit >= m.streamStart) {
    return goLive(s, id, sub, r, req, { offset: reqOffset, epoch: reqEpoch }, undefined, true);
  }
  const read = checkContinuity(await broker.readStream(sub.channel, { since: { offset: reqOffset, epoch: reqEpoch }, limit }), reqOffset);
  const last = read.publications[read.publications.length - 1];
  const pubs = filterTags(sub, read.publications);
  const result: SubscribeResult = {
    type: RESULT_TYPE_MAP,
    phase: PHASE_STREAM,
    epoch: read.position.epoch,
    offset: last?.offset ?? reqOffset,
  };
  if (pubs.length > 0) result.publications = forDelta(s, sub, req, pubs, read.position.epoch);
  s.sendReply({ id, subscribe: result });
}

/**
 * The live transition: in stream modes the changes since `since` (at most the live transition limit, else 112)
 * merged with what was buffered; the reply (with the last state page when it comes from the state phase); then
 * live delivery of what arrives next, and the presence entries.
 */
async function goLive(
  s: Session,
  id: number,
  sub: Subscription,
  r: ResolvedChannel,
  req: SubscribeRequest,
  since: StreamPosition,
  statePubs: Publication[] | undefined,
  isRecovery: boolean,
): Promise<void> {
  const broker = s.ctx.mapBroker!;
  const result: SubscribeResult = { type: RESULT_TYPE_MAP, epoch: since.epoch };
  let epoch = since.epoch;
  let offset = 0;
  if (sub.positioned) {
    const max = liveTransitionLimit(r.options);
    const read = checkContinuity(await broker.readStream(sub.channel, { since, limit: max + 1 }), since.offset);
    if ((isRecovery || since.epoch !== '') && since.epoch !== read.position.epoch) throw Errors.unrecoverablePosition();
    if (read.publications.length > max) throw Errors.unrecoverablePosition();
    const merged = mergeRecovered(read.publications, takeBuffered(sub), since.offset);
    if (merged === null) throw Disconnects.insufficientState();
    epoch = read.position.epoch;
    offset = read.position.offset;
    const last = merged[merged.length - 1]?.offset ?? 0;
    if (last > offset) offset = last;
    const pubs = filterTags(sub, merged);
    if (pubs.length > 0) {
      const withEpochs = pubs.map((p) => withEpoch(p, { offset: p.offset ?? 0, epoch }));
      result.publications = sub.delta ? recoveredForDelta(withEpochs, s.json) : withEpochs;
    }
    result.epoch = epoch;
    result.offset = offset;
    result.recoverable = true;
    sub.offset = offset;
    sub.epoch = epoch;
    sub.positionCheckedAt = Date.now();
  }
  if (isRecovery) {
    if (req.recover === true) {
      result.was_recovering = true;
      result.recovered = true;
    }
  }
  if (sub.delta) {
    result.delta = true;
    sub.deltaReady = true;
  }
  if (statePubs !== undefined && statePubs.length > 0) result.state = forDelta(s, sub, req, statePubs, epoch);
  if (sub.expireAt > 0) {
    result.expires = true;
    result.ttl = ttlSeconds(sub.expireAt);
  }
  gone(s, sub);
  if (sub.presence) {
    await s.ctx.engine.presence.add(sub.channel, s.id, s.clientInfo(sub.chanInfo));
    gone(s, sub);
  }
  s.sendReply({ id, subscribe: result });
  complete(s, sub);
  addMapPresence(s, sub, r);
}

/** The subscription ended while its live transition ran (unsubscribe, disconnect): 100, as Centrifugo answers. */
function gone(s: Session, sub: Subscription): void {
  if (sub.state !== SubState.Subscribing || s.closed) throw Errors.internal();
}

/** A read since a known offset must start right after it: a trimmed stream means the client cannot catch up. */
function checkContinuity(read: MapStreamReadResult, sinceOffset: number): MapStreamReadResult {
  const first = read.publications[0];
  if (sinceOffset > 0 && first !== undefined && (first.offset ?? 0) > sinceOffset + 1) throw Errors.unrecoverablePosition();
  return read;
}

function filterTags(sub: Subscription, pubs: Publication[]): Publication[] {
  const tf = sub.tagsFilter;
  return tf === undefined ? pubs : pubs.filter((p) => matchTags(tf, p.tags));
}

/** State and stream pages: epoch on offset 1; with delta negotiated, JSON data as strings (the delta bases). */
function forDelta(s: Session, sub: Subscription, req: SubscribeRequest, pubs: Publication[], epoch: string): Publication[] {
  const delta = req.delta === 'fossil' && sub.delta;
  return pubs.map((p) => {
    const pub = withEpoch(p, { offset: p.offset ?? 0, epoch });
    return delta ? fullForDelta(pub, s.json) : pub;
  });
}
