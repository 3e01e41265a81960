// Command-line flags of bench/table.ts (kept apart so that they can be unit-tested without running anything).
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { isPeerName, PEERS, REPO_ROOT, type PeerName } from './servers.js';

export interface TableArgs {
  readonly runs: number;
  readonly quick: boolean;
  readonly peers: readonly PeerName[];
  readonly workloadIds: readonly string[] | null;
  readonly out: string;
  readonly workers: number;
  readonly maxMinutes: number;
}

export function parseTableArgs(argv: readonly string[]): TableArgs {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, dflt: number, max: number): number => {
    const v = get(name);
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer in 1..${max}`);
    return n;
  };
  const only = get('only');
  const peers = only === undefined ? [...PEERS] : only.split(',').map((s) => s.trim());
  for (const p of peers) if (!isPeerName(p)) throw new Error(`unknown peer "${p}" (known: ${PEERS.join(', ')})`);
  const wl = get('workloads');
  return {
    runs: int('runs', 3, 10),
    quick: argv.includes('--quick'),
    // Keep the canonical order whatever order --only lists them in.
    peers: PEERS.filter((p) => peers.includes(p)),
    workloadIds: wl === undefined ? null : wl.split(',').map((s) => s.trim()),
    out: resolve(get('out') ?? join(REPO_ROOT, 'bench/results')),
    workers: int('workers', Math.min(4, availableParallelism()), 16),
    maxMinutes: int('max-minutes', 180, 24 * 60),
  };
}

