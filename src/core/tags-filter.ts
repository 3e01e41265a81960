// Publication tags filters (subscribe `tf`, docs/tags-filter.md): a tree of and/or/not nodes over leaf comparisons
// of one tag, checked once at subscribe time and then matched against each publication's tags. Rules as in
// centrifuge's internal/filter: the same operators, the same validation, decimal numeric comparisons.

export interface TagsFilter {
  op?: string;
  key?: string;
  cmp?: string;
  val?: string;
  vals?: string[];
  nodes?: TagsFilter[];
}

const VAL_CMPS: ReadonlySet<string> = new Set(['eq', 'neq', 'sw', 'ew', 'ct', 'gt', 'gte', 'lt', 'lte']);
const VALS_CMPS: ReadonlySet<string> = new Set(['in', 'nin']);
const EXISTS_CMPS: ReadonlySet<string> = new Set(['ex', 'nex']);
/** Deeper trees are refused (a subscribe request is small; this bounds the recursion). */
const MAX_DEPTH = 32;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string field: absent/null ⇒ '', anything else but a string ⇒ invalid. */
function strOf(o: Obj, k: string): string | null {
  const v = o[k];
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : null;
}

/**
 * The request's `tf` (a decoded JSON object or protobuf FilterNode) as a well-formed filter, or undefined when it
 * is not one (the subscribe then fails with 107 bad request, as in Centrifugo).
 */
export function parseTagsFilter(v: unknown, depth = 0): TagsFilter | undefined {
  if (!isObj(v) || depth > MAX_DEPTH) return undefined;
  const op = strOf(v, 'op');
  const key = strOf(v, 'key');
  const cmp = strOf(v, 'cmp');
  const val = strOf(v, 'val');
  if (op === null || key === null || cmp === null || val === null) return undefined;
  const rawVals = v['vals'];
  let vals: string[] = [];
  if (rawVals !== undefined && rawVals !== null) {
    if (!Array.isArray(rawVals) || !rawVals.every((x): x is string => typeof x === 'string')) return undefined;
    vals = rawVals;
  }
  const rawNodes = v['nodes'];
  const nodes: TagsFilter[] = [];
  if (rawNodes !== undefined && rawNodes !== null) {
    if (!Array.isArray(rawNodes)) return undefined;
    for (const n of rawNodes) {
      const child = parseTagsFilter(n, depth + 1);
      if (child === undefined) return undefined;
      nodes.push(child);
    }
  }
  switch (op) {
    case '':
      if (VAL_CMPS.has(cmp)) {
        if (val === '' || vals.length > 0) return undefined;
      } else if (VALS_CMPS.has(cmp)) {
        if (vals.length === 0 || val !== '') return undefined;
      } else if (EXISTS_CMPS.has(cmp)) {
        if (val !== '' || vals.length > 0) return undefined;
      } else {
        return undefined;
      }
      if (key === '' && !EXISTS_CMPS.has(cmp)) return undefined;
      return { op, key, cmp, val, vals: vals.slice() };
    case 'and':
    case 'or':
      return nodes.length === 0 ? undefined : { op, nodes };
    case 'not':
      return nodes.length === 1 ? { op, nodes } : undefined;
    default:
      return undefined;
  }
}

/** Whether a publication with `tags` passes `f` (a filter from parseTagsFilter). */
export function matchTags(f: TagsFilter, tags: Readonly<Record<string, string>> | undefined): boolean {
  switch (f.op ?? '') {
    case '': {
      const key = f.key ?? '';
      const has = tags !== undefined && Object.prototype.hasOwnProperty.call(tags, key);
      const v = has ? tags[key]! : '';
      const want = f.val ?? '';
      switch (f.cmp ?? '') {
        case 'eq':
          return has && v === want;
        case 'neq':
          return !has || v !== want;
        case 'in':
          return (f.vals ?? []).includes(v);
        case 'nin':
          return !(f.vals ?? []).includes(v);
        case 'ex':
          return has;
        case 'nex':
          return !has;
        case 'sw':
          return has && v.startsWith(want);
        case 'ew':
          return has && v.endsWith(want);
        case 'ct':
          return has && v.includes(want);
        case 'gt':
        case 'gte':
        case 'lt':
        case 'lte': {
          if (!has) return false;
          const c = compareDecimals(v, want);
          if (c === undefined) return false;
          if (f.cmp === 'gt') return c > 0;
          if (f.cmp === 'gte') return c >= 0;
          if (f.cmp === 'lt') return c < 0;
          return c <= 0;
        }
        default:
          return false;
      }
    }
    case 'and':
      return (f.nodes ?? []).every((n) => matchTags(n, tags));
    case 'or':
      return (f.nodes ?? []).some((n) => matchTags(n, tags));
    case 'not':
      return !matchTags(f.nodes![0]!, tags);
    default:
      return false;
  }
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

interface Decimal {
  negative: boolean;
  int: string;
  frac: string;
}

function parseDecimal(s: string): Decimal | undefined {
  const m = DECIMAL.exec(s);
  if (m === null) return undefined;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  if (intPart === '' && fracPart === '') return undefined;
  const int = intPart.replace(/^0+/, '');
  const frac = fracPart.replace(/0+$/, '');
  const zero = int === '' && frac === '';
  return { negative: m[1] === '-' && !zero, int, frac };
}

function compareMagnitude(a: Decimal, b: Decimal): number {
  if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -1 : 1;
  if (a.int !== b.int) return a.int < b.int ? -1 : 1;
  const n = Math.max(a.frac.length, b.frac.length);
  const fa = a.frac.padEnd(n, '0');
  const fb = b.frac.padEnd(n, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

/** Exact comparison of two decimal strings (`-12.50` = `-12.5`); undefined when either is not a decimal. */
export function compareDecimals(a: string, b: string): number | undefined {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (x === undefined || y === undefined) return undefined;
  if (x.negative !== y.negative) return x.negative ? -1 : 1;
  const c = compareMagnitude(x, y);
  return x.negative ? -c : c;
}
