// Installs and builds the official clients the compat tests run (test/harness/official-clients.ts), all at once,
// before the tests start: scripts/run-tests.mjs runs it so that a first build (downloads and compiles, over a
// minute on a cold machine) is not counted in a test file's time. A client whose toolchain is missing is
// reported and left to its tests to skip; a failed build is reported and left to its tests to fail with the
// same error. Always exits 0. Usage: node --import tsx test/harness/prepare-official-clients.ts
import { prepareGo, prepareJava, preparePython, PYTHON_VERSIONS, type Prepared } from './official-clients.js';

const started = Date.now();
const clients: [string, () => Promise<Prepared>][] = [
  ...PYTHON_VERSIONS.map((v): [string, () => Promise<Prepared>] => [`centrifuge-python ${v}`, () => preparePython(v)]),
  ['centrifuge-go', prepareGo],
  ['centrifuge-java', prepareJava],
];
const results = await Promise.allSettled(clients.map(([, prepare]) => prepare()));
const lines = results.map((r, i) => {
  const name = clients[i]![0];
  if (r.status === 'rejected') return `${name}: failed, its tests will fail: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`;
  return r.value.ok ? `${name}: ready` : `${name}: not prepared, its tests will skip: ${r.value.reason}`;
});
console.log(`> official clients prepared in ${((Date.now() - started) / 1000).toFixed(1)}s\n  ${lines.join('\n  ')}`);
