// The shared_poll_refresh proxy call (docs/shared-poll.md): `{channel, items: [{key, version}]}` to the namespace's
// proxy, `{result: {items: [{key, data, version, removed, prev_data}], epoch}}` back, over HTTP or GRPC like every
// proxy (same deadline, headers and metrics). A backend error answer or a failed call rejects: the poll loop counts
// it and tries again on its next cycle; clients are not told.
import { sharedPollMetrics } from '../../metrics/shared-poll.js';
import { ProxyCallError, type ProxyRegistry } from '../../proxy/types.js';
import type { Refresher } from './worker.js';

const NO_CLIENT = { headers: {} };

/** Calls through the current registry (it is replaced on config reload). `proxyName` "" = "default". */
export function sharedPollRefresher(proxies: () => ProxyRegistry): Refresher {
  return async (channel, proxyName, items) => {
    const proxy = proxies().sharedPollRefresh(proxyName);
    if (proxy === undefined) throw new ProxyCallError('transport', `no shared_poll_refresh proxy ${JSON.stringify(proxyName || 'default')}`);
    sharedPollMetrics.proxyRequestItems.observe({ name: proxy.name }, items.length);
    const answer = await proxy.call('shared_poll_refresh', { channel, items }, NO_CLIENT);
    if (answer.error !== undefined) throw new ProxyCallError('status', `backend error ${answer.error.code}: ${answer.error.message}`);
    const result = answer.result;
    if (result === undefined) return { items: [], epoch: '' };
    sharedPollMetrics.proxyResponseItems.observe({ name: proxy.name }, result.items.length);
    return { items: result.items, epoch: result.epoch };
  };
}
