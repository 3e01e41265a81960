// Summarises a V8 .heapsnapshot: count and self size per constructor name (objects, closures, strings…),
// so per-connection costs can be read off by dividing by the number of connections held.
//   node --import tsx bench/profile/heapsnapshot-top.ts FILE.heapsnapshot [connections] [N]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: heapsnapshot-top.ts FILE [connections] [N]');
const conns = Number(process.argv[3] ?? 1);
const topN = Number(process.argv[4] ?? 40);
const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = s.snapshot.meta.node_fields;
const types = s.snapshot.meta.node_types[0] as string[];
const nf = fields.length;
const iType = fields.indexOf('type');
const iName = fields.indexOf('name');
const iSize = fields.indexOf('self_size');
const agg = new Map<string, { count: number; size: number }>();
let total = 0;
for (let i = 0; i < s.nodes.length; i += nf) {
  const type = types[s.nodes[i + iType]!] ?? '?';
  const name = s.strings[s.nodes[i + iName]!] ?? '?';
  const size = s.nodes[i + iSize]!;
  const key = type === 'object' || type === 'closure' ? `${type}:${name}` : type === 'string' || type === 'concatenated string' || type === 'sliced string' ? 'string' : `${type}:${name.slice(0, 40)}`;
  const a = agg.get(key) ?? { count: 0, size: 0 };
  a.count++;
  a.size += size;
  agg.set(key, a);
  total += size;
}
console.log(`total self size ${(total / 1024 / 1024).toFixed(1)} MB; per connection ${(total / conns / 1024).toFixed(2)} KB`);
console.log('   count  per-conn     bytes  bytes/conn  name');
for (const [k, a] of [...agg].sort((x, y) => y[1].size - x[1].size).slice(0, topN)) {
  console.log(`${String(a.count).padStart(8)} ${(a.count / conns).toFixed(2).padStart(9)} ${String(a.size).padStart(9)} ${(a.size / conns).toFixed(0).padStart(11)}  ${k}`);
}
