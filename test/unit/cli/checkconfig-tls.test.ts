// `gyre checkconfig` reads TLS certificates and keys as `serve` does: a missing or non-PEM one is a config
// error naming the key (exit 1), a good pair passes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../src/cli/index.js';
import { io } from '../../../src/cli/common.js';
import { haveOpenssl, makeTestCerts } from '../../harness/certs.js';
import type { TestCerts } from '../../harness/certs.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed (it makes the test certificates)';

async function checkconfig(file: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const saved = { ...io };
  io.stdout = () => {};
  io.stderr = (s) => {
    stderr += s;
  };
  try {
    return { code: await runCli(['node', 'gyre', 'checkconfig', '-c', file]), stderr };
  } finally {
    Object.assign(io, saved);
  }
}

describe('checkconfig with http_server.tls', { skip }, () => {
  let certs: TestCerts;
  before(() => {
    certs = makeTestCerts();
  });
  after(() => certs?.remove());

  function write(name: string, tls: Record<string, unknown>): string {
    const file = join(certs.dir, name);
    writeFileSync(file, JSON.stringify({ http_server: { tls: { enabled: true, ...tls } } }));
    return file;
  }

  it('passes with a readable certificate and its key', async () => {
    const r = await checkconfig(write('ok.json', { cert_pem: certs.files.serverCert, key_pem: certs.files.serverKey }));
    assert.equal(r.code, 0, r.stderr);
  });

  it('fails on a missing certificate file, naming the key', async () => {
    const r = await checkconfig(write('bad.json', { cert_pem: join(certs.dir, 'nope.pem'), key_pem: certs.files.serverKey }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /http_server\.tls\.cert_pem/);
  });

  it('fails on a key that does not match the certificate', async () => {
    const r = await checkconfig(write('mismatch.json', { cert_pem: certs.files.serverCert, key_pem: certs.files.clientKey }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /http_server\.tls\.cert_pem/);
  });
});
