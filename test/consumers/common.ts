// What the consumer e2e tests share: a Gyre restarted on the same port (so the official client reconnects to
// the new process and recovers from Redis), a subscription that records every publication, and the check that
// interleaved streams (row or record i on channel `<prefix><i % 2>`) arrived each once and in order.
import assert from 'node:assert/strict';
import type { PublicationContext, Subscription } from 'centrifuge';
import { collect, type ClientPool } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { nextEvent, sleep, waitFor } from '../harness/wait.js';

export interface Feed {
  sub: Subscription;
  pubs: PublicationContext[];
}

/** Gyre listening on `port` (in the config file, so a restart keeps it); its URLs point at that port. */
export async function startGyreOnPort(port: number, config: Record<string, unknown>): Promise<GyreProcess> {
  const proc = await startGyre(
    { ...config, http_server: { port, address: '127.0.0.1' } },
    { portInFile: true, probeUrl: `http://127.0.0.1:${port}/health` },
  );
  const base = `http://127.0.0.1:${port}`;
  return { ...proc, port, baseUrl: base, apiUrl: `${base}/api`, url: `ws://127.0.0.1:${port}/connection/websocket` };
}

/** A connected official client subscribed to `channel`, recording its publications. */
export async function subscribeFeed(pool: ClientPool, url: string, channel: string): Promise<Feed> {
  const { client } = await pool.connected(url, { sub: 'consumer-reader' });
  const sub = client.newSubscription(channel);
  const pubs = collect<PublicationContext>(sub, 'publication');
  const subscribed = nextEvent(sub, 'subscribed');
  sub.subscribe();
  await subscribed;
  return { sub, pubs };
}

/** Waits until feed p has N/2 publications, then checks they are {n: p}, {n: p + 2}, … each once, in order. */
export async function expectEachOnceInOrder(feeds: readonly Feed[], n: number, prefix: string): Promise<void> {
  for (const [p, f] of feeds.entries()) {
    await waitFor(() => f.pubs.length >= n / 2, { what: `all publications on ${prefix}${p} (have ${f.pubs.length})`, timeoutMs: 60_000 });
  }
  await sleep(500); // a duplicate would arrive now
  for (const [p, f] of feeds.entries()) {
    assert.deepEqual(
      f.pubs.map((x) => (x.data as { n: number }).n),
      Array.from({ length: n / 2 }, (_, k) => 2 * k + p),
      `${prefix}${p}: each once, in order`,
    );
  }
}
