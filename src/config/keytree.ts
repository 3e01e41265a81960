// The tree of the config keys Gyre implements with the kind of each leaf, derived once from the zod schema. Used
// to map env vars and CLI flags onto key paths, coerce their string values, tell implemented keys from the rest
// (support.ts) and render durations back to strings (defaultconfig).

import type { z } from 'zod';
import { configSchema, durationKinds } from './schema.js';

export type LeafKind = 'bool' | 'number' | 'string' | 'duration' | 'strings' | 'unknown';

export type KeyNode =
  | { readonly kind: 'object'; readonly fields: ReadonlyMap<string, KeyNode> }
  | { readonly kind: 'objects'; readonly element: KeyNode }
  | { readonly kind: LeafKind };

type Core = z.core.$ZodType;

function walk(schema: Core): KeyNode {
  if (durationKinds.has(schema)) return { kind: 'duration' };
  const def = schema._zod.def;
  // zod's own list of schema kinds: the ones the config schema uses are mapped, everything else is 'unknown'.
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
      return walk((def as z.core.$ZodDefaultDef).innerType);
    case 'pipe': {
      const p = def as z.core.$ZodPipeDef;
      // preprocess(fn, target): the input side is a transform, the real type is the output side.
      return p.in._zod.def.type === 'transform' ? walk(p.out) : walk(p.in);
    }
    case 'object': {
      const fields = new Map<string, KeyNode>();
      for (const [k, v] of Object.entries((def as z.core.$ZodObjectDef).shape)) fields.set(k, walk(v));
      return { kind: 'object', fields };
    }
    case 'array': {
      const el = walk((def as z.core.$ZodArrayDef).element);
      if (el.kind === 'object') return { kind: 'objects', element: el };
      return { kind: el.kind === 'string' ? 'strings' : 'unknown' };
    }
    case 'boolean':
      return { kind: 'bool' };
    case 'number':
      return { kind: 'number' };
    case 'string':
    case 'enum':
      return { kind: 'string' };
    default:
      return { kind: 'unknown' };
  }
}

export const KEY_TREE: KeyNode = walk(configSchema);

/** The node at a dotted path ("client.token.hmac_secret_key"), or undefined. Array items are not addressed. */
export function nodeAt(path: string, root: KeyNode = KEY_TREE): KeyNode | undefined {
  let node: KeyNode | undefined = root;
  for (const part of path.split('.')) {
    if (node === undefined || node.kind !== 'object') return undefined;
    node = node.fields.get(part);
  }
  return node;
}

/** Every leaf path with its kind, in schema order. */
export function leafPaths(node: KeyNode = KEY_TREE, prefix = ''): Array<[string, KeyNode]> {
  if (node.kind !== 'object') return [[prefix, node]];
  const out: Array<[string, KeyNode]> = [];
  for (const [k, child] of node.fields) out.push(...leafPaths(child, prefix === '' ? k : `${prefix}.${k}`));
  return out;
}
