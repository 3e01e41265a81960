// The official centrifuge-js client on one emulation transport (http_stream or sse) in Node: fetch and ReadableStream
// are Node's own, EventSource comes from the `eventsource` package. The scenario every emulation test runs: connect,
// subscribe, publish, history, presence, then recovery of what was published while the client was away.
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import { EventSource } from 'eventsource';
import { callApi } from '../harness/clients.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';

export type EmulationTransport = 'http_stream' | 'sse';

export interface EmulationEndpoints {
  /** Base URL of the node the stream goes to (http://127.0.0.1:PORT). */
  stream: string;
  /** Base URL `/emulation` posts go to (another node in the cluster tests). */
  emulation: string;
  /** Server API used to publish while the client is away. */
  apiUrl: string;
}

/** The JSON client, or with `protobuf` the official protobuf build (http_stream only: SSE is JSON only). */
export function emulationClient(transport: EmulationTransport, ep: EmulationEndpoints, token: string, protobuf = false): Centrifuge {
  const Ctor = protobuf ? (CentrifugeProtobuf as unknown as typeof Centrifuge) : Centrifuge;
  return new Ctor([{ transport, endpoint: `${ep.stream}/connection/${transport}` }], {
    token,
    emulationEndpoint: `${ep.emulation}/emulation`,
    fetch: globalThis.fetch,
    readableStream: ReadableStream,
    eventsource: EventSource,
    minReconnectDelay: 50,
    maxReconnectDelay: 300,
    timeout: 8000,
  });
}

/** Runs the whole scenario on `channel` (a namespace with history, recovery and presence for subscribers). */
export async function runEmulationScenario(
  transport: EmulationTransport,
  ep: EmulationEndpoints,
  channel: string,
  user: string,
  protobuf = false,
): Promise<void> {
  const client = emulationClient(transport, ep, await connToken({ sub: user, expIn: 3600 }), protobuf);
  // Protobuf clients carry payloads as bytes: the same JSON, encoded.
  const payload = (n: number): unknown => (protobuf ? new TextEncoder().encode(JSON.stringify({ n })) : { n });
  const numberOf = (data: unknown): number =>
    protobuf ? (JSON.parse(new TextDecoder().decode(data as Uint8Array)) as { n: number }).n : (data as { n: number }).n;
  try {
    const connected = nextEvent<{ client: string; transport: string }>(client, 'connected');
    client.connect();
    const c = await connected;
    assert.equal(c.transport, transport);

    const sub = client.newSubscription(channel);
    const got: number[] = [];
    sub.on('publication', (p: PublicationContext) => got.push(numberOf(p.data)));
    const subscribed = nextEvent<SubscribedContext>(sub, 'subscribed');
    sub.subscribe();
    const first = await subscribed;
    assert.equal(first.recoverable, true);

    await sub.publish(payload(1));
    await waitFor(() => got.includes(1), { what: 'own publication back over the stream' });

    const history = await sub.history({ limit: 10 });
    assert.deepEqual(history.publications.map((p) => numberOf(p.data)), [1]);
    const presence = await sub.presence();
    assert.ok(c.client in presence.clients, 'own client in presence');
    assert.equal(presence.clients[c.client]?.user, user);

    // Away: two publications through the server API, then back with recovery.
    const disconnected = nextEvent(client, 'disconnected');
    client.disconnect();
    await disconnected;
    for (const n of [2, 3]) {
      const r = await callApi(ep.apiUrl, 'publish', { channel, data: { n } });
      assert.equal(r.status, 200, r.text);
    }
    const resubscribed = nextEvent<SubscribedContext>(sub, 'subscribed');
    client.connect();
    const again = await resubscribed;
    assert.equal(again.wasRecovering, true);
    assert.equal(again.recovered, true);
    await waitFor(() => got.length >= 3, { what: 'recovered publications' });
    assert.deepEqual(got, [1, 2, 3]);
  } finally {
    client.disconnect();
  }
}
