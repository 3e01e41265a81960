// The name a node shows in `info` and the admin UI (docs/workers.md, "Node names"). Centrifugo's default is
// hostname_port, so several nodes on one host have distinct names; node.name replaces it. A worker process
// (node.workers > 1) is a node of its own, named after its slot: "<name>-w<slot>", slots 1..N, so each worker's
// name is distinct and a restarted worker, which takes its slot again, keeps it.
import { hostname } from 'node:os';

export function nodeName(configured: string, port: number, workerSlot?: number): string {
  const base = configured !== '' ? configured : `${hostname()}_${port}`;
  return workerSlot === undefined ? base : `${base}-w${workerSlot}`;
}
