// The official Python (centrifuge-python, from PyPI), Go (centrifuge-go, from the Go module proxy) and Java
// (centrifuge-java, from Maven Central; Protobuf only) clients against a real Gyre process: each connects,
// subscribes and receives a publication, in JSON and in Protobuf.
// centrifuge-python 0.6.0 sends an empty `Sec-WebSocket-Protocol:` line in JSON mode (websockets builds it from
// an empty list), which Gyre refused with 400 before it followed Centrifugo's upgrade rules; 0.7.0 is the
// current release. Installs and builds are cached (test/harness/official-clients.ts); a client is skipped, with
// the reason, only when its toolchain (python3, go, java/javac/mvn) is not installed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { prepareGo, prepareJava, preparePython, PYTHON_VERSIONS, startClient } from '../harness/official-clients.js';
import type { Prepared } from '../harness/official-clients.js';
import { connToken } from '../harness/tokens.js';
import { withTimeout } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

interface Target {
  name: string;
  kind: 'python' | 'go' | 'java';
  prepare: () => Promise<Prepared>;
  formats: readonly boolean[];
}

const BOTH = [false, true] as const;
const TARGETS: readonly Target[] = [
  ...PYTHON_VERSIONS.map((v) => ({ name: `centrifuge-python ${v}`, kind: 'python' as const, prepare: () => preparePython(v), formats: BOTH })),
  { name: 'centrifuge-go (go.mod pin)', kind: 'go', prepare: prepareGo, formats: BOTH },
  // centrifuge-java has no JSON mode.
  { name: 'centrifuge-java (pom.xml pin)', kind: 'java', prepare: prepareJava, formats: [true] },
];

describe('compat: official Python, Go and Java clients', () => {
  let gyre: GyreProcess;
  before(async () => {
    gyre = await startGyre(mergeConfig(baseConfig(), {}));
  });
  after(async () => {
    await gyre?.stop();
  });

  for (const target of TARGETS) {
    // Prepared lazily once per target, inside the first test (so an install failure is a test failure).
    let prepared: Promise<Prepared> | undefined;
    const prep = (): Promise<Prepared> => (prepared ??= target.prepare());
    for (const protobuf of target.formats) {
      const format = protobuf ? 'protobuf' : 'json';
      it(`${target.name}, ${format}: connects, subscribes, receives a publication`, async (t) => {
        const p = await prep();
        if (!p.ok) {
          t.skip(p.reason);
          return;
        }
        const channel = `open:${target.kind}-${target.name.replace(/[^0-9a-z]/gi, '')}-${format}`;
        const token = await connToken({ sub: `${target.kind}-user` });
        const run = startClient(target.kind, p, { url: gyre.url, token, channel, protobuf });
        try {
          await withTimeout(run.subscribed, 20_000, `${target.name} subscribed`);
          const data = { text: `hello ${format}`, n: 42, nested: { ok: true } };
          const res = await callApi(gyre.apiUrl, 'publish', { channel, data });
          assert.equal(res.status, 200, res.text);
          assert.ok(typeof res.body === 'object' && res.body !== null && !('error' in res.body), res.text);
          const got = await withTimeout(run.publication, 20_000, `${target.name} publication`);
          assert.deepEqual(JSON.parse(got), data);
        } finally {
          if (run.child.exitCode === null) run.child.kill('SIGKILL');
        }
      });
    }
  }
});
