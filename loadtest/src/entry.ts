// Where generator threads and child processes load their code from. Compiled JavaScript starts in a few
// hundred ms; TypeScript through tsx costs ~1–2 s per thread (the loader is per thread). So when this module
// runs as TypeScript, a sibling under dist/ is used if it is fresh (every source it may load, loadtest/src
// and src/protocol, is older than its compiled file; `node scripts/ensure-build.mjs` or `npm run build`
// refreshes it), and tsx only otherwise.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type EntryMode = 'compiled' | 'dist' | 'tsx';

export interface Entry {
  /** The module to load (a .js file, or a .ts file that needs tsx). */
  url: URL;
  mode: EntryMode;
}

const SELF = import.meta.url;
const SELF_IS_TS = SELF.endsWith('.ts');
/** loadtest/src → repository root (both for sources and for dist/loadtest/src). */
const SRC_DIR = dirname(fileURLToPath(SELF));
const ROOT = join(SRC_DIR, '..', '..');

let distFresh: boolean | null = null;

function tsFiles(dir: string, out: string[], depth = 0): void {
  if (depth > 6 || !existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) tsFiles(p, out, depth + 1);
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
}

/** True when every loadtest/src and src/protocol source has a newer compiled file under dist/. */
export function isDistFresh(root = ROOT): boolean {
  if (root === ROOT && distFresh !== null) return distFresh;
  const sources: string[] = [];
  tsFiles(join(root, 'loadtest', 'src'), sources);
  tsFiles(join(root, 'src', 'protocol'), sources);
  let fresh = sources.length > 0;
  for (const ts of sources) {
    const js = join(root, 'dist', relative(root, ts)).replace(/\.ts$/, '.js');
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(ts).mtimeMs) {
      fresh = false;
      break;
    }
  }
  if (root === ROOT) distFresh = fresh;
  return fresh;
}

/** The entry module `name` (e.g. 'worker', 'proc-child') of the generator, compiled when possible. */
export function entryFor(name: string): Entry {
  if (!SELF_IS_TS) return { url: new URL(`./${name}.js`, SELF), mode: 'compiled' };
  if (isDistFresh()) return { url: pathToFileURL(join(ROOT, 'dist', 'loadtest', 'src', `${name}.js`)), mode: 'dist' };
  return { url: new URL(`./${name}.ts`, SELF), mode: 'tsx' };
}

/** A worker-thread URL for `entry`: the module itself, or a bootstrap that registers tsx first. */
export function workerThreadUrl(entry: Entry): URL {
  if (entry.mode !== 'tsx') return entry.url;
  const tsx = import.meta.resolve('tsx/esm/api');
  const src = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry.url.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(src)}`);
}

/** Node flags for a child process that runs `entry`. */
export function childExecArgv(entry: Entry): string[] {
  return entry.mode === 'tsx' ? ['--import', 'tsx'] : [];
}
