// Client `publish` (docs/protocol.md §4.6): 102/107 checks, data format, permission, publish with the client's
// ClientInfo (incl. chan_info when subscribed) and the namespace's history settings.
import type { ChannelOptions, GyreConfig } from '../../config/types.js';
import { Errors } from '../../protocol/errors.js';
import { isJsonPayload } from '../../protocol/json-scan.js';
import type { PublishRequest } from '../../protocol/types.js';
import { canPublish } from '../permissions.js';
import type { Session } from '../session.js';
import type { PublishInput } from '../publisher.js';
import { isSubscribed, requireChannel, resolveForClient } from './common.js';
import { proxyPublish } from './publish-proxy.js';
import { publishToStream } from './subscribe-stream.js';

/** publication_data_format check (namespace value overrides the global one); empty data is always 107. */
export function checkPublicationData(cfg: GyreConfig, o: ChannelOptions, data: Uint8Array | undefined): Uint8Array {
  if (data === undefined || data.byteLength === 0) throw Errors.badRequest();
  const format = o.publication_data_format !== '' ? o.publication_data_format : cfg.channel.publication_data_format;
  if (format === 'json' || format === 'json_object') {
    // Checked on the bytes (no value is built); a JSON client's data is already known to be JSON.
    if (!isJsonPayload(data)) throw Errors.badRequest();
    if (format === 'json_object' && !startsWithObject(data)) throw Errors.badRequest();
  }
  return data;
}

/** The first non-whitespace byte of valid JSON text is `{` exactly when the text is an object. */
function startsWithObject(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c === 0x7b;
  }
  return false;
}

export async function handlePublish(s: Session, id: number, req: PublishRequest): Promise<void> {
  const ctx = s.ctx;
  const channel = requireChannel(req.channel);
  const r = resolveForClient(s, channel);
  let data = checkPublicationData(ctx.config, r.options, req.data);
  const subscribed = isSubscribed(s, channel);
  let extra: Omit<PublishInput, 'options' | 'clientInfo'> = {};
  if (r.options.publish_proxy_enabled) {
    // The backend decides instead of the allow_publish_* options, and may replace the data.
    const proxy = ctx.proxies.publish(r.options.publish_proxy_name);
    if (proxy === undefined) throw Errors.notAvailable();
    const decided = await proxyPublish(s, proxy, channel, data);
    if (s.closed) return;
    data = decided.data;
    extra = decided.input;
  } else if (r.options.subscribe_stream_proxy_enabled) {
    // The namespace streams from the backend: a publication goes into the client's own stream, nowhere else.
    publishToStream(s, channel, r.options, data);
    s.sendReply({ id, publish: {} });
    return;
  } else if (!canPublish({ r, user: s.user, insecure: ctx.config.client.insecure, subscribed })) {
    throw Errors.permissionDenied();
  }
  const sub = s.subs.get(channel);
  const stillSubscribed = isSubscribed(s, channel);
  await ctx.publisher.publish(channel, data, {
    options: r.options,
    clientInfo: s.clientInfo(stillSubscribed ? sub?.chanInfo : undefined),
    ...extra,
  });
  s.sendReply({ id, publish: {} });
}
