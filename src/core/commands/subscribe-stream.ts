// The subscribe stream proxy (docs/proxy.md), as Centrifugo runs it: a subscription without a token to a channel
// of a namespace with subscribe_stream_proxy_enabled opens a GRPC stream to the backend. The backend's first
// message decides like a subscribe proxy answer (error, disconnect, or a result with info, data, expire_at and
// the presence / join_leave / force_push_join_leave overrides); positioning and recovery stay off. Its later
// messages are publications for this one subscriber, delivered after the subscribe reply. The stream ends when
// the subscription does (unsubscribe, disconnect); when the backend ends it first the client is unsubscribed,
// 2000 for a clean end and 2500 (insufficient state, so the client resubscribes) for any other. With
// subscribe_stream_proxy_bidirectional the client's publications into the channel go into the stream.
import type { ChannelOptions } from '../../config/types.js';
import { Errors, Unsubscribe } from '../../protocol/errors.js';
import { UnsubscribeCode } from '../../protocol/codes.js';
import type { Publication, SubscribeRequest } from '../../protocol/types.js';
import { payloadOf, rejectFromAnswer } from '../../proxy/outcome.js';
import type { OpenStream, StreamPublication } from '../../proxy/types.js';
import type { ResolvedChannel } from '../channels.js';
import type { Session } from '../session.js';
import { deliverOne, establish, isSubscriptionGone, type Established } from '../subscribe-flow.js';
import { SubState, type Subscription } from '../subscription.js';
import { nowSeconds } from './common.js';
import { baseRequest, callContext, logFailure, metaOf, payload } from './proxied.js';

/** The open stream of each stream-proxied subscription (for the client's publications). */
const streams = new WeakMap<Subscription, OpenStream>();

type Pending = StreamPublication | 'eof' | 'error';

export async function subscribeStream(s: Session, id: number, req: SubscribeRequest, r: ResolvedChannel): Promise<void> {
  const channel = r.channel;
  // Centrifugo's stream subscriptions never allow a tags filter.
  if (req.tf !== undefined && req.tf !== null) throw Errors.badRequest();
  const proxy = s.ctx.proxies.subscribeStream(r.options.subscribe_stream_proxy_name);
  if (proxy === undefined) throw Errors.notAvailable();
  // What the backend streams before the subscribe reply is written waits in `pending` (null once live).
  const at: { pending: Pending[] | null; sub: Subscription | undefined } = { pending: [], sub: undefined };
  const handle = (item: Pending): void => {
    // Bounded like a subscription's own buffer: the subscribe lasts moments, a flood must not grow memory.
    if (at.pending !== null) {
      if (at.pending.length < 100_000) at.pending.push(item);
    }
    else if (at.sub !== undefined) apply(s, at.sub, item);
  };
  let stream: OpenStream;
  try {
    stream = await proxy.open(
      r.options.subscribe_stream_proxy_bidirectional,
      { ...baseRequest(s, proxy), user: s.user, channel, ...metaOf(s, proxy), ...payload(proxy, req.data) },
      callContext(s),
      { onPublication: handle, onEnd: handle },
    );
  } catch (err) {
    if (!s.closed) logFailure(s.ctx.logger, proxy, 'subscribe_stream', err, s.id);
    throw Errors.internal();
  }
  let est: Established;
  try {
    if (s.closed) {
      stream.cancel();
      return;
    }
    rejectFromAnswer(stream.answer);
    const result = stream.answer.result;
    const o = r.options;
    const ov = result?.override;
    const chanInfo = result === undefined ? undefined : payloadOf(result.info, result.b64info);
    const data = result === undefined ? undefined : payloadOf(result.data, result.b64data);
    const expireAt = result !== undefined && result.expire_at > 0 ? result.expire_at : 0;
    if (expireAt > 0 && expireAt <= nowSeconds()) throw Errors.expired();
    est = await establish(s, {
      r,
      serverSide: false,
      flags: {
        presence: ov?.presence ?? o.presence,
        joinLeave: ov?.join_leave ?? o.join_leave,
        pushJoinLeave: ov?.force_push_join_leave ?? o.force_push_join_leave,
        positioned: false,
        recoverable: false,
        recoveryMode: 'stream',
      },
      recover: req.recover === true,
      offset: 0,
      epoch: '',
      rejectUnrecovered: false,
      expireAt,
      clientExpires: true,
      ...(chanInfo !== undefined ? { chanInfo } : {}),
      ...(data !== undefined ? { data } : {}),
    });
  } catch (err) {
    stream.cancel();
    if (isSubscriptionGone(err) && s.closed) return;
    throw err;
  }
  const live = est.sub;
  if (live.state === SubState.Removed || s.closed) {
    stream.cancel();
    return;
  }
  at.sub = live;
  streams.set(live, stream);
  live.onRemoved = () => {
    streams.delete(live);
    stream.cancel();
  };
  s.sendReply({ id, subscribe: est.result });
  est.complete();
  const waiting = at.pending ?? [];
  at.pending = null;
  for (const item of waiting) apply(s, live, item);
}

function apply(s: Session, sub: Subscription, item: Pending): void {
  if (sub.state !== SubState.Subscribed || s.closed) return;
  if (item === 'eof') s.unsubscribeWith(sub, Unsubscribe.of(UnsubscribeCode.ServerUnsubscribe));
  else if (item === 'error') s.unsubscribeWith(sub, Unsubscribe.of(UnsubscribeCode.InsufficientState));
  else {
    const pub: Publication = { data: item.data };
    if (Object.keys(item.tags).length > 0) pub.tags = item.tags;
    deliverOne(s, sub, pub, undefined);
  }
}

/**
 * A client publication into a stream-proxied channel: into the subscriber's own stream when the namespace is
 * bidirectional and the client is subscribed (108 otherwise, 100 when the stream already ended).
 */
export function publishToStream(s: Session, channel: string, o: Readonly<ChannelOptions>, data: Uint8Array): void {
  if (!o.subscribe_stream_proxy_bidirectional) throw Errors.notAvailable();
  const sub = s.subs.get(channel);
  const stream = sub === undefined ? undefined : streams.get(sub);
  if (stream === undefined) throw Errors.notAvailable();
  if (!stream.publish(data)) throw Errors.internal();
}
