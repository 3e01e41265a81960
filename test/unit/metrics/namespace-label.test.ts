// Every centrifugo_* series has channel_namespace "" (docs/metrics.md), as Centrifugo 6.9.1 labels them: the
// observers the core calls with namespaced channels are driven here, and the registry's series are read back.
// Gyre's own per-namespace families keep the namespace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withActionCounts } from '../../../src/core/engine-actions.js';
import { withMapMetrics } from '../../../src/core/map/metered.js';
import type { MapChannelSettings } from '../../../src/engines/map-types.js';
import { createMemoryEngine } from '../../../src/engines/memory/index.js';
import { MemoryMapBroker } from '../../../src/engines/memory/map-broker.js';
import { countDeliveries } from '../../../src/metrics/messages.js';
import {
  countAction,
  countPublishSuppressed,
  countSubscriptionAccepted,
  countTagsFilterDropped,
  enableRecoveredPublications,
  observeBroadcast,
  observePubSubLag,
  observeRecovery,
  subscriptionsInflight,
} from '../../../src/metrics/observe.js';
import { flushMetrics, registry } from '../../../src/metrics/registry.js';

interface Series {
  family: string;
  name: string;
  labels: Record<string, string | number>;
}

async function seriesWithNamespace(): Promise<Series[]> {
  flushMetrics();
  const out: Series[] = [];
  for (const m of await registry.getMetricsAsJSON()) {
    for (const v of m.values) {
      const labels = v.labels as Record<string, string | number>;
      if (labels['channel_namespace'] !== undefined) out.push({ family: m.name, name: (v as { metricName?: string }).metricName ?? m.name, labels });
    }
  }
  return out;
}

describe('metrics: channel_namespace label values', () => {
  it('is "" on every centrifugo_* series after namespaced traffic, and the namespace in gyre_* ones', async () => {
    enableRecoveredPublications();
    // What the hub, subscribe flow, fan-out and publisher report for channels in namespaces "chat" and "news".
    for (const ns of ['chat', 'news']) {
      countSubscriptionAccepted('unnamed');
      subscriptionsInflight('unnamed', ns, 1);
      subscriptionsInflight('unnamed', ns, -1);
      countTagsFilterDropped(2);
      countPublishSuppressed();
      observeBroadcast('publication', 0.001);
      observePubSubLag(Date.now() - 5);
      observeRecovery(ns, 3, 0.002);
      countDeliveries('publication', ns, 4);
    }
    countAction('add_subscription');
    // The engine and map broker wrappers, with channels in a namespace.
    const engine = withActionCounts(createMemoryEngine());
    await engine.presence.add('chat:1', 'c1', { client: 'c1', user: 'u1' });
    await engine.history!.read('chat:1', { limit: 0, metaTtlMs: 60_000 });
    await engine.close();
    const map = new MemoryMapBroker(() => 1_000_000);
    map.start({ onMapPublication: () => undefined });
    const settings: MapChannelSettings = { mode: 'persistent', keyTtlMs: 0, streamSize: 10, streamTtlMs: 60_000, metaTtlMs: 0 };
    const metered = withMapMetrics(map);
    await metered.publish('scores:1', 'k', settings, { data: new TextEncoder().encode('1') });
    await metered.close();

    const all = await seriesWithNamespace();
    const cf = all.filter((s) => s.family.startsWith('centrifugo_'));
    const families = new Set(cf.map((s) => s.family));
    for (const f of [
      'centrifugo_client_subscriptions_accepted',
      'centrifugo_client_subscriptions_inflight',
      'centrifugo_node_tags_filter_dropped_publications',
      'centrifugo_broker_publish_suppressed_count',
      'centrifugo_node_broadcast_duration_seconds',
      'centrifugo_node_pub_sub_lag_seconds',
      'centrifugo_client_recovered_publications',
      'centrifugo_node_action_count',
    ]) {
      assert.ok(families.has(f), `${f} has series`);
    }
    assert.deepEqual(
      cf.filter((s) => s.labels['channel_namespace'] !== '').map((s) => `${s.name}${JSON.stringify(s.labels)}`),
      [],
    );
    const gyreNamespaces = (name: string): Set<string | number | undefined> =>
      new Set(all.filter((s) => s.name === name).map((s) => s.labels['channel_namespace']));
    for (const name of ['gyre_node_deliveries_total', 'gyre_client_recovery_duration_seconds_count']) {
      const seen = gyreNamespaces(name);
      assert.ok(seen.has('chat') && seen.has('news'), `${name}: ${[...seen].join(',')}`);
    }
  });
});
