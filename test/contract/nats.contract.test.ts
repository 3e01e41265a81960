// Runs the broker and controller contracts against the NATS broker engine on a real nats-server, plus what is
// NATS-specific: a server restart is survived and reported as possibly missed publications.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createEngine } from '../../src/app-engines.js';
import { ConfigError } from '../../src/config/errors.js';
import { configSchema } from '../../src/config/schema.js';
import { checkEngineCapabilities } from '../../src/core/capabilities.js';
import type { GyreConfig, NatsBrokerConfig } from '../../src/config/types.js';
import { createNatsEngine, NatsConnectionError } from '../../src/engines/nats/index.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { runBrokerContract } from './broker.contract.js';
import { RecordingHandler, str, text, uniqueChannel, waitFor } from './contract-util.js';
import { runControllerContract } from './controller.contract.js';

const available = await natsAvailable();
const NO_HISTORY = { historySize: 0, historyTtlMs: 0, historyMetaTtlMs: 0 };
const NO_HISTORY_REASON = "the NATS broker has no history (Centrifugo's answers 'not available'); namespaces with history are refused at start";
const NO_IDEMPOTENCY_REASON = "the NATS broker keeps no idempotency results (Centrifugo's NATS broker ignores the key too)";

function cfg(url: string): NatsBrokerConfig {
  return configSchema.parse({ broker: { enabled: true, type: 'nats', nats: { url, prefix: 'gyretest' } } }).broker.nats;
}

describe('nats engine', { skip: available ? false : 'nats-server is not installed' }, () => {
  let nats: NatsServer | undefined;
  before(async () => {
    nats = await startNats();
  });
  after(() => nats?.stop());

  runBrokerContract(
    'nats',
    () => {
      const e = createNatsEngine(cfg(nats!.url));
      return Promise.resolve({ broker: e.broker, close: () => e.close() });
    },
    {
      'publish with history assigns sequential offsets in one epoch': NO_HISTORY_REASON,
      'concurrent publishes are delivered in offset order': NO_HISTORY_REASON,
      'skipHistory publishes without offset and stores nothing': NO_HISTORY_REASON,
      'unsubscribed channel still gets history appended': NO_HISTORY_REASON,
      'history trimmed to historySize keeps the newest': NO_HISTORY_REASON,
      'idempotency key suppresses a duplicate and returns the first result': NO_IDEMPOTENCY_REASON,
      'idempotency key works without history': NO_IDEMPOTENCY_REASON,
    },
  );

  runControllerContract(
    'nats',
    async (nodes) => {
      const engines = Array.from({ length: nodes }, () => createNatsEngine(cfg(nats!.url)));
      await Promise.all(engines.map((e) => e.link.open()));
      return {
        controllers: engines.map((e) => e.controller),
        close: async () => {
          await Promise.all(engines.map((e) => e.close()));
        },
      };
    },
    3,
  );

  it('declares no history, so the start-up check refuses history namespaces', () => {
    const e = createNatsEngine(cfg(nats!.url));
    assert.equal(e.broker.capabilities.history, false);
    assert.equal(e.history, undefined);
  });

  it('a namespace with history is refused at start when the broker is NATS (config error naming the key)', async () => {
    const config = configSchema.parse({
      broker: { enabled: true, type: 'nats', nats: { url: nats!.url } },
      channel: { namespaces: [{ name: 'plain' }, { name: 'h', history_size: 10, history_ttl: '60s' }] },
    }) as GyreConfig;
    const engine = await createEngine(config, pino({ level: 'silent' }));
    try {
      assert.equal(engine.name, 'nats+memory');
      assert.throws(
        () => checkEngineCapabilities(config, engine),
        (err: unknown) => err instanceof ConfigError && err.path === 'channel.namespaces[1].history_size',
      );
    } finally {
      await engine.close();
    }
  });

  it('wildcard channels are refused with bad request (107), as Centrifugo does', async () => {
    const e = createNatsEngine(cfg(nats!.url));
    try {
      await e.broker.start(new RecordingHandler());
      await assert.rejects(e.broker.subscribe(['news.*']), (err: unknown) => (err as { code?: number }).code === 107);
      await assert.rejects(e.broker.publish('a.>', text('x'), NO_HISTORY), (err: unknown) => (err as { code?: number }).code === 107);
    } finally {
      await e.close();
    }
  });

  it('a NATS restart is survived: publishing meanwhile fails, subscriptions come back, subscribed channels are reported as lost', async () => {
    const sub = createNatsEngine(cfg(nats!.url), { reconnectWaitMs: 100 });
    const pub = createNatsEngine(cfg(nats!.url), { reconnectWaitMs: 100 });
    const lost: string[][] = [];
    const h = new (class extends RecordingHandler {
      onSubscriptionLost(chs: readonly string[]): void {
        lost.push([...chs]);
      }
    })();
    try {
      await sub.broker.start(h);
      await pub.broker.start(new RecordingHandler());
      const ch = uniqueChannel();
      await sub.broker.subscribe([ch]);
      await pub.broker.publish(ch, text('before'), NO_HISTORY);
      await waitFor(() => h.pubs(ch).length === 1, 2000, 'publication before the restart');
      await nats!.kill();
      await waitFor(() => !sub.link.up, 5000, 'disconnect noticed');
      assert.equal(sub.health().ok, false);
      await waitFor(() => !pub.link.up, 5000, 'publisher disconnect noticed');
      await assert.rejects(pub.broker.publish(ch, text('during'), NO_HISTORY), NatsConnectionError, 'a publish during the outage is an error');
      await nats!.restart();
      await waitFor(() => lost.length > 0, 10_000, 'subscription-lost report');
      assert.deepEqual(lost[0], [ch]);
      assert.equal(sub.health().ok, true);
      await waitFor(() => pub.link.up, 10_000, 'publisher reconnected');
      // Publications flow again once the resubscription reached the server: retry until one arrives (bounded).
      const deadline = Date.now() + 5000;
      while (h.pubs(ch).length < 2 && Date.now() < deadline) {
        await pub.broker.publish(ch, text('after'), NO_HISTORY);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(h.pubs(ch).length >= 2, 'a publication after the restart arrived');
      assert.equal(str(h.pubs(ch)[1]!.pub.data), 'after');
    } finally {
      await Promise.all([sub.close(), pub.close()]);
    }
  });
});
