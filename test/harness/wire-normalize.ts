// Normalises a recorded wire trace so two servers' traces compare exactly: volatile values (connection ids,
// epochs, tokens, node ids, versions, TTLs, times) are renamed consistently in order of first appearance
// (`<client-1>`, `<epoch-2>` …), so equality of identities, structure and order is still checked. Tokens
// become `<jwt>` (two tokens signed in the same second with the same claims are identical strings).
import type { TraceEntry } from './wire-driver.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JWT = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const JWT_G = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;

class Renamer {
  private readonly maps = new Map<string, Map<string, string>>();
  name(kind: string, value: string): string {
    let m = this.maps.get(kind);
    if (m === undefined) {
      m = new Map();
      this.maps.set(kind, m);
    }
    let v = m.get(value);
    if (v === undefined) {
      v = `<${kind}-${m.size + 1}>`;
      m.set(value, v);
    }
    return v;
  }
  has(kind: string, value: string): boolean {
    return this.maps.get(kind)?.has(value) ?? false;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys whose numeric value varies run to run (seconds left, clocks). */
const VOLATILE_NUMBERS = new Set(['ttl', 'time', 'uptime', 'expire_at', 'iat', 'exp']);

function str(r: Renamer, s: string): string {
  if (s === '') return s;
  if (JWT.test(s)) return '<jwt>';
  if (UUID.test(s)) return r.name('client', s);
  if (r.has('client', s)) return r.name('client', s);
  return s;
}

function walk(r: Renamer, v: unknown, key: string, parentKey: string): unknown {
  if (Array.isArray(v)) return v.map((x) => walk(r, x, key, parentKey));
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // Maps keyed by client id (presence) get their keys renamed too.
      const nk = key === 'presence' && isRecord(x) ? str(r, k) : k;
      out[nk] = walk(r, x, k, key);
    }
    return out;
  }
  if (typeof v === 'number' && VOLATILE_NUMBERS.has(key)) return `<${key}>`;
  // Node counters in `info` are periodic snapshots in Centrifugo (they lag behind the real state).
  if (typeof v === 'number' && parentKey === 'nodes' && key.startsWith('num_')) return '<n>';
  if (typeof v === 'string') {
    if (key === 'epoch' && v !== '') return r.name('epoch', v);
    if (key === 'version' && v !== '') return '<version>';
    if (parentKey === 'nodes' && key === 'name') return '<node-name>';
    if (key === 'uid' && v !== '') return r.name('node', v);
    if (key === 'client' && v !== '') return r.name('client', v);
    return str(r, v);
  }
  return v;
}

function text(r: Renamer, s: string): string {
  return s.replace(JWT_G, '<jwt>').replace(UUID_G, (m) => r.name('client', m));
}

/** Normalised deep copy of one scenario's trace. */
export function normalizeTrace(trace: readonly TraceEntry[]): TraceEntry[] {
  const r = new Renamer();
  return trace.map((e): TraceEntry => {
    switch (e.op) {
      case 'send-raw':
        return { ...e, text: text(r, e.text) };
      case 'send':
        return { ...e, msgs: e.msgs.map((m) => walk(r, m, '', '')) };
      case 'recv':
        return { ...e, msgs: e.msgs.map((m) => walk(r, m, '', '')) };
      case 'http':
        return {
          ...e,
          body: typeof e.body === 'string' ? text(r, e.body) : walk(r, e.body, '', ''),
          response: typeof e.response === 'string' ? text(r, e.response) : walk(r, e.response, '', ''),
        };
      case 'close':
        return { ...e, reason: text(r, e.reason) };
      case 'open':
        return e;
    }
  });
}

/** One line per entry, for readable diffs in assertion messages. */
export function renderTrace(trace: readonly TraceEntry[]): string[] {
  return trace.map((e) => {
    switch (e.op) {
      case 'open':
        return `${e.conn} open${e.error !== undefined ? ` FAILED ${e.error}` : ''}`;
      case 'send':
        return `${e.conn} → ${e.msgs.map((m) => JSON.stringify(m)).join(' ⏎ ')}`;
      case 'send-raw':
        return `${e.conn} → raw ${JSON.stringify(e.text)}`;
      case 'recv':
        return `${e.conn} ← ${e.msgs.map((m) => JSON.stringify(m)).join(' ⏎ ')}`;
      case 'close':
        return `${e.conn} closed ${e.code} ${JSON.stringify(e.reason)}`;
      case 'http':
        return `HTTP ${e.path} ${JSON.stringify(e.headers)} ${JSON.stringify(e.body)} → ${e.status} ${e.contentType} ${JSON.stringify(e.response)}`;
    }
  });
}

/** Line diff (LCS) of two rendered traces: only differing lines with a little context, "" when equal. */
export function diffTraces(expected: readonly string[], actual: readonly string[], context = 2): string {
  const n = expected.length;
  const m = actual.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = expected[i] === actual[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const ops: Array<{ tag: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      ops.push({ tag: ' ', line: expected[i++] ?? '' });
      j++;
    } else if (j < m && (i >= n || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) {
      ops.push({ tag: '+', line: actual[j++] ?? '' });
    } else {
      ops.push({ tag: '-', line: expected[i++] ?? '' });
    }
  }
  if (ops.every((o) => o.tag === ' ')) return '';
  const keep = ops.map((o, k) => ops.slice(Math.max(0, k - context), k + context + 1).some((x) => x.tag !== ' '));
  const out: string[] = ['--- expected (Centrifugo)  +++ actual (Gyre)'];
  let skipped = false;
  ops.forEach((o, k) => {
    if (keep[k] === true) {
      out.push(`${o.tag} ${o.line}`);
      skipped = false;
    } else if (!skipped) {
      out.push('  …');
      skipped = true;
    }
  });
  return out.join('\n');
}
