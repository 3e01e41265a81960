// Clients on every worker of a `--workers 2` node that shares an engine with another node: the kernel picks the
// worker of each connection, so clients are connected until `info` (read through the other node) shows each
// worker holding one. Used by the worker tests on Redis and on NATS.
import assert from 'node:assert/strict';
import { callApi, type ClientPool } from '../harness/clients.js';
import { waitFor } from '../harness/wait.js';
import { subscribedClient, type ServerNode } from '../redis/scenarios.js';

export interface NodeInfo {
  uid: string;
  name: string;
  num_clients: number;
}

export async function info(n: ServerNode): Promise<NodeInfo[]> {
  const r = await callApi(n.apiUrl, 'info', {});
  return (r.body as { result: { nodes: NodeInfo[] } }).result.nodes;
}

export type Subscribed = Awaited<ReturnType<typeof subscribedClient>>;

/** The names `info` shows for the 2 workers of a node configured as `name` (docs/workers.md, "Node names"). */
export function workerNames(name: string): string[] {
  return [`${name}-w1`, `${name}-w2`];
}

/**
 * Subscribes users `${prefix}${i}` to `ch` through `workers` (the node configured as `workerName`, whose workers
 * are named after it) until both workers hold one, at most 16; `other` is the node whose `info` is read.
 */
export async function clientsOnBothWorkers(
  pool: ClientPool,
  workers: ServerNode,
  other: ServerNode,
  workerName: string,
  prefix: string,
  ch: string,
): Promise<Subscribed[]> {
  const names = new Set(workerNames(workerName));
  const onWorkers: Subscribed[] = [];
  // Info counts arrive with the 3 s heartbeats: once they add up to the clients connected, the view is current.
  for (let i = 0; i < 16; i++) {
    onWorkers.push(await subscribedClient(pool, workers, `${prefix}${i}`, ch));
    const nodes = await waitFor(
      async () => {
        const seen = (await info(other)).filter((n) => names.has(n.name));
        return seen.length === 2 && seen.reduce((a, n) => a + n.num_clients, 0) === onWorkers.length ? seen : false;
      },
      { what: 'worker counts caught up', timeoutMs: 10_000, intervalMs: 250 },
    );
    if (nodes.every((n) => n.num_clients >= 1)) break;
  }
  const spread = (await info(other)).filter((n) => names.has(n.name));
  assert.ok(spread.every((n) => n.num_clients >= 1), `a client on each worker: ${JSON.stringify(spread)}`);
  return onWorkers;
}
