// Which configuration keys Gyre honours, refuses or only warns about (docs/config.md, "Keys Gyre does not
// implement"). Three sets decide it:
//   implemented:  the keys of Gyre's schema (schema.ts; KEY_TREE). Implementing a key = adding it there.
//   known:        every key Centrifugo v6 knows (centrifugo-keys.ts, generated from the real binary).
//   unknown:      everything else.
// A known key that Gyre does not implement is refused when its value would change behaviour, that is when it
// differs from Centrifugo's default and is not switched off by its own section (see `inert`). Unknown keys warn.

import { CENTRIFUGO_KEYS, CENTRIFUGO_VERSION, type CentrifugoKeyKind } from './centrifugo-keys.js';
import { durationFromConfig } from './duration.js';
import { KEY_TREE, type KeyNode, type LeafKind } from './keytree.js';

export { CENTRIFUGO_VERSION };

export interface UnsupportedKey {
  /** Dotted path with array indexes, as written by the user ("channel.namespaces[0].publish_proxy_enabled"). */
  readonly path: string;
  readonly value: unknown;
  /** Centrifugo's default for this key (what a value must equal to be accepted). */
  readonly defaultValue: unknown;
}

export interface KeyCheck {
  /** Paths of keys neither Gyre nor Centrifugo knows. */
  readonly unknown: string[];
  readonly unsupported: UnsupportedKey[];
}

interface LeafInfo {
  readonly kind: CentrifugoKeyKind;
  readonly defaultValue: unknown;
}

/** Centrifugo's leaves: kind and default, keyed by the node object of CENTRIFUGO_TREE. */
const leafInfo = new WeakMap<KeyNode, LeafInfo>();

type MutableObject = { kind: 'object'; fields: Map<string, KeyNode> };

function buildTree(): KeyNode {
  const root: MutableObject = { kind: 'object', fields: new Map() };
  /** Object nodes by path ("a.b[]" is the element of array a.b). */
  const objects = new Map<string, MutableObject>([['', root]]);
  for (const [path, kind, defaultValue] of CENTRIFUGO_KEYS) {
    const dot = path.lastIndexOf('.');
    const parentPath = dot < 0 ? '' : path.slice(0, dot);
    const name = path.slice(dot + 1);
    const parent = objects.get(parentPath);
    if (parent === undefined) throw new Error(`centrifugo-keys: ${path} listed before its parent`);
    let node: KeyNode;
    if (kind === 'object') {
      const obj: MutableObject = { kind: 'object', fields: new Map() };
      objects.set(path, obj);
      node = obj;
    } else if (kind === 'objects') {
      const element: MutableObject = { kind: 'object', fields: new Map() };
      objects.set(`${path}[]`, element);
      node = { kind: 'objects', element };
    } else {
      const leafKind: LeafKind = kind === 'map' ? 'unknown' : kind;
      node = { kind: leafKind };
      leafInfo.set(node, { kind, defaultValue });
    }
    parent.fields.set(name, node);
  }
  return root;
}

/** Every key Centrifugo knows, shaped like KEY_TREE (so env and flag parsing can resolve Centrifugo-only keys). */
export const CENTRIFUGO_TREE: KeyNode = buildTree();

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function asBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(1|t|true)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(0|f|false)$/i.test(v)) return false;
  return undefined;
}

/** True when `value` equals Centrifugo's default for the leaf (null/absent count as the default). */
export function isDefaultValue(value: unknown, info: LeafInfo): boolean {
  if (value === null || value === undefined) return true;
  const d = info.defaultValue;
  switch (info.kind) {
    case 'bool':
      return asBool(value) === d;
    case 'number':
      return (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '')) && Number(value) === d;
    case 'duration': {
      const a = durationFromConfig(value);
      const b = durationFromConfig(d);
      return a.ok && b.ok && a.ms === b.ms;
    }
    case 'string':
      return value === d;
    case 'strings': {
      const list = Array.isArray(d) ? (d as unknown[]) : [];
      return Array.isArray(value) && value.length === list.length && value.every((v, i) => v === list[i]);
    }
    case 'map':
      return isObject(value) && Object.keys(value).length === 0;
    case 'object':
    case 'objects':
      return false;
  }
}

function defaultOf(obj: KeyNode | undefined, key: string): unknown {
  if (obj?.kind !== 'object') return undefined;
  const child = obj.fields.get(key);
  return child === undefined ? undefined : leafInfo.get(child)?.defaultValue;
}

/** The sub-sections a section's `type` uses: its own name, and both parts of the Redis + NATS broker. */
function typeSections(type: unknown): readonly unknown[] {
  return type === 'redisnats' ? ['redis', 'nats'] : [type];
}

/**
 * Whether key `k` of a section is switched off by the section itself, so that no value of it changes behaviour:
 * - the section has `enabled` and it is false (sse.handler_prefix while sse.enabled is false);
 * - the section has `disabled` and it is true;
 * - the section has `type` and k is the sub-section of another type (engine.redis.* while engine.type is memory;
 *   broker.redis.* and broker.nats.* are both in use under broker.type redisnats);
 * - a sibling `<p>_enabled` is false and k starts with `<p>_` (publish_proxy_name while publish_proxy_enabled is
 *   false).
 * The switches take their value from the input, or Centrifugo's default when absent.
 */
function inert(k: string, section: Raw, cf: KeyNode): boolean {
  if (cf.kind !== 'object') return false;
  const value = (key: string): unknown => (key in section ? section[key] : defaultOf(cf, key));
  if (k !== 'enabled' && cf.fields.has('enabled') && asBool(value('enabled')) === false) return true;
  if (k !== 'disabled' && cf.fields.has('disabled') && asBool(value('disabled')) === true) return true;
  if (cf.fields.has('type') && cf.fields.get(k)?.kind === 'object' && !typeSections(value('type')).includes(k)) return true;
  for (const sibling of cf.fields.keys()) {
    if (!sibling.endsWith('_enabled') || sibling === k) continue;
    const prefix = sibling.slice(0, -'enabled'.length);
    if (k.startsWith(prefix) && asBool(value(sibling)) === false) return true;
  }
  return false;
}

function join(prefix: string, k: string): string {
  return prefix === '' ? k : `${prefix}.${k}`;
}

/** Walks a raw (file-shaped, merged) config against Gyre's schema and Centrifugo's key tree at once. */
function walk(raw: unknown, gyre: KeyNode | undefined, cf: KeyNode | undefined, path: string, out: KeyCheck): void {
  if (gyre !== undefined) {
    // Implemented (or inside an implemented section): the schema checks the values.
    if (gyre.kind === 'object' && isObject(raw)) {
      for (const [k, v] of Object.entries(raw)) {
        const g = gyre.fields.get(k);
        const c = cf?.kind === 'object' ? cf.fields.get(k) : undefined;
        if (g === undefined && c !== undefined && cf !== undefined && inert(k, raw, cf)) continue;
        if (g === undefined && c === undefined) out.unknown.push(join(path, k));
        else walk(v, g, c, join(path, k), out);
      }
    } else if (gyre.kind === 'objects' && Array.isArray(raw)) {
      const element = cf?.kind === 'objects' ? cf.element : undefined;
      raw.forEach((item: unknown, i) => walk(item, gyre.element, element, `${path}[${i}]`, out));
    }
    return;
  }
  if (cf === undefined) return;
  // Known to Centrifugo, not implemented by Gyre: accepted only at its default.
  const info = leafInfo.get(cf);
  if (info !== undefined) {
    if (!isDefaultValue(raw, info)) out.unsupported.push({ path, value: raw, defaultValue: info.defaultValue });
    return;
  }
  if (raw === null || raw === undefined) return;
  if (cf.kind === 'object' && isObject(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      const c = cf.fields.get(k);
      if (c === undefined) out.unknown.push(join(path, k));
      else if (!inert(k, raw, cf)) walk(v, undefined, c, join(path, k), out);
    }
  } else if (cf.kind === 'objects' && Array.isArray(raw)) {
    raw.forEach((item: unknown, i) => walk(item, undefined, cf.element, `${path}[${i}]`, out));
  } else {
    out.unsupported.push({ path, value: raw, defaultValue: cf.kind === 'objects' ? [] : {} });
  }
}

/** Classifies every key of a raw config: unknown to both (warn) or known to Centrifugo only and set (refuse). */
export function checkKeys(raw: Raw): KeyCheck {
  const out: KeyCheck = { unknown: [], unsupported: [] };
  walk(raw, KEY_TREE, CENTRIFUGO_TREE, '', out);
  return out;
}

/** The message for a refused key (without the path). */
export function unsupportedReason(u: UnsupportedKey): string {
  return `not supported by Gyre yet (a Centrifugo v${CENTRIFUGO_VERSION} key; remove it or leave it at Centrifugo's default ${JSON.stringify(u.defaultValue)})`;
}

function leaves(node: KeyNode, prefix: string, out: string[]): void {
  if (node.kind === 'object') for (const [k, child] of node.fields) leaves(child, join(prefix, k), out);
  else if (node.kind === 'objects') leaves(node.element, `${prefix}[]`, out);
  else out.push(prefix);
}

/** Leaf paths ("a.b", "a.list[].c") of a key tree. */
export function leafKeyPaths(node: KeyNode): string[] {
  const out: string[] = [];
  leaves(node, '', out);
  return out;
}

/** Gyre's own keys (in the schema, unknown to Centrifugo): each is also a command-line flag. */
export function gyreExtensionKeys(): string[] {
  const known = new Set(leafKeyPaths(CENTRIFUGO_TREE));
  return leafKeyPaths(KEY_TREE).filter((p) => !known.has(p));
}
