// Centrifugo's history and presence node actions, counted by the engine wrapper the node builds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withActionCounts } from '../../../src/core/engine-actions.js';
import { createMemoryEngine } from '../../../src/engines/memory/index.js';
import { flushMetrics, registry } from '../../../src/metrics/registry.js';

async function actionCount(action: string, namespace: string): Promise<number> {
  flushMetrics(); // action counts are batched; a scrape flushes them first (src/http/metrics.ts)
  const m = await registry.getSingleMetric('centrifugo_node_action_count')!.get();
  return m.values.find((v) => v.labels['action'] === action && v.labels['channel_namespace'] === namespace)?.value ?? 0;
}

describe('withActionCounts', () => {
  it('counts each history and presence call under its action, channel_namespace "" whatever the channel', async () => {
    const raw = createMemoryEngine();
    const engine = withActionCounts(raw);
    const history = engine.history!;
    const before = new Map<string, number>();
    const actions = ['add_presence', 'remove_presence', 'presence', 'presence_stats', 'history', 'history_remove'];
    // Counted by the recovery and stream-top code, not by the wrapper (which cannot tell them from a history call).
    const notHere = ['history_recover', 'history_recover_cache', 'history_stream_top'];
    for (const a of notHere) before.set(a, await actionCount(a, ''));
    for (const a of actions) before.set(a, await actionCount(a, ''));
    const info = { client: 'c1', user: 'u1' };
    await engine.presence.add('ns:a', 'c1', info);
    await engine.presence.get('ns:a');
    await engine.presence.stats('ns:a');
    await engine.presence.remove('ns:a', 'c1', 'u1');
    const top = await history.read('ns:a', { limit: 0, metaTtlMs: 60_000 });
    await history.read('ns:a', { limit: -1, metaTtlMs: 60_000 });
    await history.read('ns:a', { limit: -1, since: top.position, metaTtlMs: 60_000 });
    await history.read('ns:a', { limit: 1, reverse: true, metaTtlMs: 60_000 });
    await history.remove('ns:a');
    // Four reads (stream top, all, since a position, the newest one): four `history`, as Centrifugo counts them.
    for (const a of actions) assert.equal((await actionCount(a, '')) - before.get(a)!, a === 'history' ? 4 : 1, a);
    for (const a of notHere) assert.equal((await actionCount(a, '')) - before.get(a)!, 0, a);
    // As in Centrifugo 6.9.1 the namespace is not a label value: no series carries 'ns'.
    for (const a of actions) assert.equal(await actionCount(a, 'ns'), 0, a);
    const plain = await actionCount('presence', '');
    await engine.presence.get('plain');
    assert.equal(await actionCount('presence', ''), plain + 1);
    // The wrapper keeps the engine's broker and controller.
    assert.equal(engine.broker, raw.broker);
    assert.equal(engine.controller, raw.controller);
    await engine.close();
  });
});
