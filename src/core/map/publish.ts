// Client `publish` with type 1 (docs/map-subscriptions.md): sets a key of a map channel, or removes it when
// `removed` is set. Permission comes from the namespace's map block (allow_publish_for_client /
// _for_subscriber / _for_anonymous, the same for remove) or client.insecure; map.client_key makes the server pick
// the key (the client id or the user id) whatever the client sent. The change is delivered to the channel's
// subscribers (this connection included) and the reply is `publish: {}`.
import { Errors } from '../../protocol/errors.js';
import type { ClientInfo, PublishRequest } from '../../protocol/types.js';
import { isSubscribed, requireChannel, resolveForClient } from '../commands/common.js';
import type { Session } from '../session.js';
import { isMapNamespace, mapSettings } from './options.js';
import { proxyMapPublish, proxyMapRemove } from './publish-proxy.js';

export async function handleMapPublish(s: Session, id: number, req: PublishRequest): Promise<void> {
  const ctx = s.ctx;
  const channel = requireChannel(req.channel);
  const broker = ctx.mapBroker;
  if (broker === undefined) throw Errors.notAvailable();
  const r = resolveForClient(s, channel);
  const o = r.options;
  if (!isMapNamespace(o)) throw Errors.badRequest();
  const m = o.map!;
  const remove = req.removed === true;
  const settings = mapSettings(o);
  const data = req.data ?? new Uint8Array(0);
  const proxyOn = remove ? m.remove_proxy_enabled : m.publish_proxy_enabled;
  if (proxyOn) {
    // The backend decides instead of the allow_* options, and picks the key.
    const p = remove ? ctx.proxies.mapRemove(m.remove_proxy_name) : ctx.proxies.mapPublish(m.publish_proxy_name);
    if (p === undefined) throw Errors.notAvailable();
    if (remove) {
      const d = await proxyMapRemove(s, p, channel, req.key ?? '');
      if (s.closed) return;
      if (d.key === '') throw Errors.badRequest();
      await broker.remove(channel, d.key, settings, { idempotencyKey: d.idempotencyKey });
    } else {
      const d = await proxyMapPublish(s, p, channel, req.key ?? '', data);
      if (s.closed) return;
      if (d.key === '') throw Errors.badRequest();
      await broker.publish(channel, d.key, settings, { ...d.input, info: publisherInfo(s, channel) });
    }
    s.sendReply({ id, publish: {} });
    return;
  }
  const anonOk = s.user !== '' || (remove ? m.allow_remove_for_anonymous : m.allow_publish_for_anonymous);
  const forClient = remove ? m.allow_remove_for_client : m.allow_publish_for_client;
  const forSubscriber = remove ? m.allow_remove_for_subscriber : m.allow_publish_for_subscriber;
  const allowed =
    (forClient && anonOk) || (forSubscriber && isSubscribed(s, channel) && anonOk) || ctx.config.client.insecure;
  if (!allowed) throw Errors.permissionDenied();
  let key = req.key ?? '';
  if (m.client_key === 'client_id') key = s.id;
  else if (m.client_key === 'user_id') {
    if (s.user === '') throw Errors.permissionDenied();
    key = s.user;
  }
  if (key === '') throw Errors.badRequest();
  if (remove) await broker.remove(channel, key, settings, {});
  else await broker.publish(channel, key, settings, { data, info: publisherInfo(s, channel), useDelta: o.delta_publish });
  s.sendReply({ id, publish: {} });
}

/** The publisher's ClientInfo, with its channel info while subscribed. */
function publisherInfo(s: Session, channel: string): ClientInfo {
  return s.clientInfo(isSubscribed(s, channel) ? s.subs.get(channel)?.chanInfo : undefined);
}
