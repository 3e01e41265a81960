// The node/V8 flags the primary starts its workers with (`node.worker_node_args`, docs/workers.md, "Flags of the
// worker processes"). The primary forks the workers, so it decides their command line: the primary's own node
// flags (process.execArgv: `--import tsx`, an operator's `--max-old-space-size`…) come first, then the configured
// flags, minus any flag the operator set himself on the primary's command line or in NODE_OPTIONS (which the
// workers inherit): the operator's own value of a flag wins over Gyre's.
import { spawnSync } from 'node:child_process';

/** One flag's identity: `--max_semi_space_size=8`, `--max-semi-space-size 8` and `--no-max-semi-space-size` are one. */
export function flagName(arg: string): string {
  return arg.replace(/^--?/, '').split('=')[0]!.replace(/_/g, '-').replace(/^no-/, '');
}

/** The flags the operator gave the primary: its node command line and NODE_OPTIONS. */
export function operatorFlags(execArgv: readonly string[], nodeOptions: string | undefined): Set<string> {
  const all = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return new Set(all.filter((a) => a.startsWith('-')).map(flagName));
}

/** The workers' execArgv: the primary's own flags, then the configured ones the operator did not set himself. */
export function workerExecArgv(configured: readonly string[], execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const own = operatorFlags(execArgv, nodeOptions);
  return [...execArgv, ...configured.filter((a) => !own.has(flagName(a)))];
}

/**
 * Checks once, before any fork, that this node accepts the flags (a misspelt V8 flag would make every worker exit
 * at start with `bad option`): runs `node <flags> -e ''`. The message of node's refusal, or undefined.
 */
export function checkWorkerArgs(args: readonly string[]): string | undefined {
  if (args.length === 0) return undefined;
  const r = spawnSync(process.execPath, [...args, '-e', ''], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status === 0) return undefined;
  const why = `${r.stderr}`.trim().split('\n')[0] ?? '';
  return `node.worker_node_args: node refuses ${JSON.stringify(args.join(' '))}: ${why !== '' ? why : (r.error?.message ?? `exit ${String(r.status)}`)}`;
}
