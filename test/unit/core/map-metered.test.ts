// The map broker's node message counts (src/core/map/metered.ts) on the in-memory map broker: one
// centrifugo_node_messages_sent_count per map publish (map_publication) and remove (map_removal), labelled
// channel_namespace "" as Centrifugo 6.9.1 labels every node message count and action, whatever the channel's
// namespace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withMapMetrics } from '../../../src/core/map/metered.js';
import type { MapChannelSettings } from '../../../src/engines/map-types.js';
import { MemoryMapBroker } from '../../../src/engines/memory/map-broker.js';
import { flushMetrics, metrics, parity } from '../../../src/metrics/registry.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const SETTINGS: MapChannelSettings = { mode: 'persistent', keyTtlMs: 0, streamSize: 10, streamTtlMs: 60_000, metaTtlMs: 0 };

async function sentByLabels(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.messagesSent.get()).values) {
    const type = String(v.labels['type']);
    if (!type.startsWith('map_')) continue;
    out[`${type} ns=${String(v.labels['channel_namespace'])}`] = v.value;
  }
  return out;
}

describe('map broker node message counts', () => {
  it('count map publishes and removes with channel_namespace ""', async () => {
    const inner = new MemoryMapBroker(() => 1_000_000);
    inner.start({ onMapPublication: () => undefined });
    const b = withMapMetrics(inner);
    const before = await sentByLabels();
    await b.publish('scores:1', 'a', SETTINGS, { data: enc('1') });
    await b.publish('scores:1', 'b', SETTINGS, { data: enc('2') });
    await b.publish('other:1', 'a', SETTINGS, { data: enc('3') });
    await b.remove('scores:1', 'a', SETTINGS, {});
    const after = await sentByLabels();
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, d]) => d !== 0));
    assert.deepEqual(delta, { 'map_publication ns=': 3, 'map_removal ns=': 1 });
    flushMetrics();
    const actions = (await parity.actionCount.get()).values.filter((v) => v.labels['action'] === 'map_publish');
    assert.deepEqual(actions.map((v) => v.labels['channel_namespace']), [''], 'node_action_count: one series, namespace ""');
    await b.close();
  });
});
