// The publish proxy (docs/proxy.md): a client publication into a namespace with publish_proxy_enabled goes to
// the backend first. Its error or disconnect goes to the client; a failed call is 100 and nothing is published;
// a result may replace the data and set skip_history, tags and an idempotency key.
import type { PublishInput } from '../publisher.js';
import { payloadOf } from '../../proxy/outcome.js';
import type { ProxyClient } from '../../proxy/types.js';
import type { Session } from '../session.js';
import { baseRequest, callProxy, metaOf, payload } from './proxied.js';

export interface ProxyPublishDecision {
  data: Uint8Array;
  input: Omit<PublishInput, 'options' | 'clientInfo'>;
}

export async function proxyPublish(s: Session, p: ProxyClient, channel: string, data: Uint8Array): Promise<ProxyPublishDecision> {
  const result = await callProxy(s, p, 'publish', {
    ...baseRequest(s, p),
    user: s.user,
    channel,
    ...payload(p, data),
    ...metaOf(s, p),
  });
  if (result === undefined) return { data, input: {} };
  const input: ProxyPublishDecision['input'] = {};
  if (result.skip_history) input.skipHistory = true;
  if (Object.keys(result.tags).length > 0) input.tags = result.tags;
  if (result.idempotency_key !== '') input.idempotencyKey = result.idempotency_key;
  return { data: payloadOf(result.data, result.b64data) ?? data, input };
}
