// `node.workers` → a process count: 'auto' is one worker per CPU the process may use.
import { availableParallelism } from 'node:os';

export function resolveWorkers(v: number | 'auto', cpus: () => number = availableParallelism): number {
  return v === 'auto' ? Math.max(1, cpus()) : v;
}
