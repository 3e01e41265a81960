// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file, top N.
//   node --import tsx bench/profile/cpuprofile-top.ts FILE.cpuprofile [N] [INCL_RE] [CALLEES_RE]
//   env FROM_S: count only samples taken at least that many seconds after the profile started (skips start-up)
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: cpuprofile-top.ts FILE [N]');
const topN = Number(process.argv[3] ?? 40);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map<number, ProfileNode>();
for (const n of p.nodes) byId.set(n.id, n);
const selfUs = new Map<number, number>();
const fromUs = Number(process.env['FROM_S'] ?? 0) * 1e6;
let clockUs = 0;
for (let i = 0; i < p.samples.length; i++) {
  const id = p.samples[i]!;
  clockUs += p.timeDeltas[i] ?? 0;
  if (clockUs < fromUs) continue;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
}
const short = (u: string): string => u.replace(/^file:\/\/.*?\/(node_modules|dist|src)\//, '$1/');
const fn = new Map<string, number>();
const files = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const f = short(n.callFrame.url) || n.callFrame.functionName;
  files.set(f, (files.get(f) ?? 0) + us);
  total += us;
}
const show = (m: Map<string, number>, title: string): void => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, topN)) {
    console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
};
// Inclusive time: each sample is charged once to every distinct function on its stack.
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (n: ProfileNode): string => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const incl = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + us);
  }
}
show(fn, 'self time by function');
if (process.argv[4] !== undefined) {
  const re = new RegExp(process.argv[4]);
  show(new Map([...incl].filter(([k]) => re.test(k))), `inclusive time, functions matching ${re}`);
}
show(files, 'self time by file');

// Children of one function (5th argument, a regex on "name file:line"): inclusive time per direct callee.
if (process.argv[5] !== undefined) {
  const re = new RegExp(process.argv[5]);
  const inclNode = new Map<number, number>();
  const visit = (id: number): number => {
    const n = byId.get(id)!;
    let t = selfUs.get(id) ?? 0;
    for (const c of n.children ?? []) t += visit(c);
    inclNode.set(id, t);
    return t;
  };
  const roots = p.nodes.filter((n) => !parent.has(n.id));
  for (const r of roots) visit(r.id);
  const kids = new Map<string, number>();
  let own = 0;
  for (const n of p.nodes) {
    if (!re.test(keyOf(n))) continue;
    own += selfUs.get(n.id) ?? 0;
    for (const c of n.children ?? []) {
      const k = keyOf(byId.get(c)!);
      kids.set(k, (kids.get(k) ?? 0) + (inclNode.get(c) ?? 0));
    }
  }
  kids.set('(self)', own);
  show(kids, `callees of ${re}`);
}
