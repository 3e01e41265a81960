// Summarises a sampling heap profile (.heapprofile, from heap-sample-preload.mjs or DevTools): bytes allocated
// per function (self), and per function with its callers (the allocating stack, `--stacks`), both divided by
// `connects` to read them per connection.
//   node --import tsx bench/profile/heapprofile-top.ts FILE... [--connects N] [--top N] [--stacks DEPTH]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Node {
  callFrame: CallFrame;
  selfSize: number;
  id: number;
  children: Node[];
}
interface Profile {
  head: Node;
  samples: { size: number; nodeId: number }[];
}

const args = process.argv.slice(2);
const opt = (n: string, d: number): number => {
  const i = args.indexOf(n);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const files = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')));
const connects = opt('--connects', 1);
const top = opt('--top', 40);
const depth = opt('--stacks', 0);

const frameName = (f: CallFrame): string => {
  const file = f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, '');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
};

const self = new Map<string, number>();
const stacks = new Map<string, number>();
let total = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  // selfSize is the sampled bytes attributed to each node (its samples' sizes).
  const walk = (n: Node, path: string[]): void => {
    const name = frameName(n.callFrame);
    const here = [...path, name];
    if (n.selfSize > 0) {
      total += n.selfSize;
      self.set(name, (self.get(name) ?? 0) + n.selfSize);
      if (depth > 0) {
        const key = here.slice(-depth).reverse().join(' <- ');
        stacks.set(key, (stacks.get(key) ?? 0) + n.selfSize);
      }
    }
    for (const c of n.children) walk(c, here);
  };
  walk(p.head, []);
}

const row = (bytes: number, name: string): string =>
  `${(bytes / connects).toFixed(0).padStart(8)} B/connect ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${name}`;
process.stdout.write(`total ${(total / 1e6).toFixed(1)} MB sampled, ${(total / connects).toFixed(0)} B per connect\n`);
for (const [name, b] of [...self].sort((a, z) => z[1] - a[1]).slice(0, top)) process.stdout.write(`${row(b, name)}\n`);
if (depth > 0) {
  process.stdout.write(`\nallocating stacks (${depth} frames, innermost first)\n`);
  for (const [name, b] of [...stacks].sort((a, z) => z[1] - a[1]).slice(0, top)) process.stdout.write(`${row(b, name)}\n`);
}
