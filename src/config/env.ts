// CENTRIFUGO_* / GYRE_* environment variables → a nested override object (docs/config.md).
// The name after the prefix is the upper-cased key path with "." → "_"; the ambiguity of "_" is resolved by
// walking the known key tree (Gyre's schema first, then Centrifugo's keys, which support.ts then refuses unless at
// their default). GYRE_ wins over CENTRIFUGO_ for the same key. Empty values count as unset.

import { ConfigError } from './errors.js';
import { KEY_TREE, type KeyNode } from './keytree.js';
import { CENTRIFUGO_TREE } from './support.js';

export const ENV_PREFIXES = ['CENTRIFUGO_', 'GYRE_'] as const;

/**
 * Variables under our prefixes that are not config: Kubernetes service links, our own test switch, and the
 * GYRE_WORKER_SLOT that the --workers primary sets in each fork (src/cluster/messages.ts).
 */
function ignoredUnknown(rest: string): boolean {
  return (
    /(^|_)PORT(_|$)/.test(rest) ||
    /(^|_)SERVICE(_|$)/.test(rest) ||
    rest.startsWith('VAR_') ||
    rest === 'TEST' ||
    rest === 'WORKER_SLOT'
  );
}

/** Resolves a lower-cased env suffix to a key path (array of segments) and its node, or undefined. */
export function resolveEnvKey(rest: string, node: KeyNode = KEY_TREE): { path: string[]; node: KeyNode } | undefined {
  if (node.kind !== 'object') return undefined;
  for (const [k, child] of node.fields) {
    if (rest === k) return { path: [k], node: child };
    if (child.kind === 'object' && rest.startsWith(`${k}_`)) {
      const sub = resolveEnvKey(rest.slice(k.length + 1), child);
      if (sub !== undefined) return { path: [k, ...sub.path], node: sub.node };
    }
  }
  return undefined;
}

/** Converts a string (env var or CLI flag) to the value type a leaf expects; throws a message on bad input. */
export function coerceString(value: string, node: KeyNode): unknown {
  switch (node.kind) {
    case 'bool': {
      if (/^(1|t|true)$/i.test(value)) return true;
      if (/^(0|f|false)$/i.test(value)) return false;
      throw new Error(`invalid boolean ${JSON.stringify(value)} (use true/1/false/0)`);
    }
    case 'number':
      if (/^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
      return value; // non-numeric: the schema decides (e.g. RFC 3339 dates) and reports errors with the key path
    case 'strings':
      return value.split(/\s+/).filter((s) => s !== '');
    case 'objects': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw new Error('expected a JSON array of objects');
      }
      if (!Array.isArray(parsed)) throw new Error('expected a JSON array of objects');
      return parsed;
    }
    case 'object':
      throw new Error('a section cannot be set as a whole; set its keys');
    case 'duration':
    case 'string':
    case 'unknown':
      return value;
  }
}

export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = target;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i] as string;
    const next = cur[seg];
    if (next !== null && typeof next === 'object' && !Array.isArray(next)) cur = next as Record<string, unknown>;
    else {
      const fresh: Record<string, unknown> = {};
      cur[seg] = fresh;
      cur = fresh;
    }
  }
  cur[path[path.length - 1] as string] = value;
}

export interface NamespaceEnvOverride {
  /** The variable, for messages. */
  readonly variable: string;
  /** Lower-cased "<name>_<option>" after "channel_namespaces_". */
  readonly rest: string;
  readonly value: string;
}

export interface EnvOverrides {
  readonly values: Record<string, unknown>;
  readonly namespaceOverrides: NamespaceEnvOverride[];
  readonly warnings: string[];
}

export function readEnv(env: NodeJS.ProcessEnv): EnvOverrides {
  const values: Record<string, unknown> = {};
  const namespaceOverrides: NamespaceEnvOverride[] = [];
  const warnings: string[] = [];
  for (const prefix of ENV_PREFIXES) {
    const names = Object.keys(env)
      .filter((n) => n.startsWith(prefix))
      .sort();
    for (const variable of names) {
      const value = env[variable];
      if (value === undefined || value === '') continue;
      const rest = variable.slice(prefix.length);
      const lower = rest.toLowerCase();
      const hit = resolveEnvKey(lower) ?? resolveEnvKey(lower, CENTRIFUGO_TREE);
      if (hit === undefined) {
        if (lower.startsWith('channel_namespaces_')) {
          namespaceOverrides.push({ variable, rest: lower.slice('channel_namespaces_'.length), value });
        } else if (!ignoredUnknown(rest)) {
          warnings.push(`unknown environment variable ${variable}`);
        }
        continue;
      }
      let coerced: unknown;
      try {
        coerced = coerceString(value, hit.node);
      } catch (e) {
        throw new ConfigError('invalid_env', hit.path.join('.'), `${variable}: ${(e as Error).message}`);
      }
      setPath(values, hit.path, coerced);
    }
  }
  return { values, namespaceOverrides, warnings };
}
