import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, importPKCS8, type GenerateKeyPairResult, type JWTPayload } from 'jose';
import { defaultConfig } from '../../../src/config/defaults.js';
import type { ClientConfig } from '../../../src/config/types.js';
import { InvalidTokenError, JwtVerifier, TokenExpiredError, signHs256 } from '../../../src/auth/index.js';

const SECRET = 'test-secret';
const NOW = 1_700_000_000; // fixed clock, unix seconds
const clock = { now: () => NOW * 1000 };
const dec = new TextDecoder();

function clientCfg(patch: (c: ClientConfig) => void = () => {}): ClientConfig {
  const c = defaultConfig().client;
  c.token.hmac_secret_key = SECRET;
  patch(c);
  return c;
}

async function hs(payload: JWTPayload, secret = SECRET, alg = 'HS256'): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
}

async function rejects(p: Promise<unknown>, type: typeof InvalidTokenError | typeof TokenExpiredError): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    return true;
  });
}

describe('JwtVerifier: connection tokens (HMAC)', () => {
  const v = new JwtVerifier(clientCfg(), clock);

  it('verifies HS256/384/512 and maps claims', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const t = await hs(
        {
          sub: 'u1',
          exp: NOW + 60,
          iat: NOW,
          info: { name: 'Ann' },
          channels: ['a', 'b'],
          meta: { plan: 'pro' },
          expire_at: NOW + 30,
          subs: {
            'chat:1': { info: [1], b64data: 'aGk=', override: { presence: { value: true }, join_leave: { value: false } } },
          },
        },
        SECRET,
        alg,
      );
      const c = await v.verifyConnectToken(t);
      assert.equal(c.sub, 'u1');
      assert.equal(c.exp, NOW + 60);
      assert.equal(c.iat, NOW);
      assert.equal(dec.decode(c.info), '{"name":"Ann"}');
      assert.deepEqual(c.channels, ['a', 'b']);
      assert.deepEqual(c.meta, { plan: 'pro' });
      assert.equal(c.expire_at, NOW + 30);
      const s = c.subs?.['chat:1'];
      assert.equal(dec.decode(s?.info), '[1]');
      assert.equal(dec.decode(s?.data), 'hi');
      assert.deepEqual(s?.override, { presence: true, join_leave: false });
    }
  });

  it('b64info wins over info; anonymous sub is ""; no exp ⇒ no exp claim', async () => {
    const c = await v.verifyConnectToken(await hs({ info: { a: 1 }, b64info: 'AAEC' }));
    assert.deepEqual([...(c.info ?? [])], [0, 1, 2]);
    assert.equal(c.sub, '');
    assert.equal('exp' in c, false);
  });

  it('expired and not-yet-valid ⇒ TokenExpiredError', async () => {
    await rejects(v.verifyConnectToken(await hs({ sub: 'u', exp: NOW - 1 })), TokenExpiredError);
    await rejects(v.verifyConnectToken(await hs({ sub: 'u', exp: NOW })), TokenExpiredError);
    await rejects(v.verifyConnectToken(await hs({ sub: 'u', nbf: NOW + 10 })), TokenExpiredError);
  });

  it('client.insecure ignores expiration', async () => {
    const insecure = new JwtVerifier(clientCfg((c) => (c.insecure = true)), clock);
    const c = await insecure.verifyConnectToken(await hs({ sub: 'u', exp: NOW - 100, nbf: NOW + 100 }));
    assert.equal(c.sub, 'u');
  });

  it('wrong key, malformed token, unknown alg, missing key ⇒ InvalidTokenError', async () => {
    await rejects(v.verifyConnectToken(await hs({ sub: 'u' }, 'other-secret')), InvalidTokenError);
    await rejects(v.verifyConnectToken('not.a.jwt'), InvalidTokenError);
    await rejects(v.verifyConnectToken(''), InvalidTokenError);
    const pkcs8 = readFileSync(new URL('../../fixtures/auth/rsa-test-key.pem', import.meta.url), 'utf8');
    const rs = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'RS256' }).sign(await importPKCS8(pkcs8, 'RS256'));
    await rejects(v.verifyConnectToken(rs), InvalidTokenError); // no rsa key configured
    const ps = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'PS256' }).sign(await importPKCS8(pkcs8, 'PS256'));
    await rejects(v.verifyConnectToken(ps), InvalidTokenError);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u"}').toString('base64url')}.`;
    await rejects(v.verifyConnectToken(none), InvalidTokenError);
  });

  it('signHs256 tokens verify with the same secret and fail with another', async () => {
    const t = signHs256({ sub: 'bulk', exp: NOW + 60 }, SECRET);
    assert.equal((await v.verifyConnectToken(t)).sub, 'bulk');
    await rejects(v.verifyConnectToken(signHs256({ sub: 'bulk' }, 'other-secret')), InvalidTokenError);
  });

  it('protected header: not JSON, not an object, crit/b64, non-string alg ⇒ InvalidTokenError (no jose involved)', async () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64url');
    const good = await hs({ sub: 'u' });
    const parts = good.split('.');
    const body = parts[1] ?? '';
    const sig = parts[2] ?? '';
    for (const header of ['{"alg":"HS256"', '[1,2]', '"HS256"', '{"alg":"HS256","crit":["exp"]}', '{"alg":"HS256","b64":false}', '{"alg":256}']) {
      await rejects(v.verifyConnectToken(`${b64(header)}.${body}.${sig}`), InvalidTokenError);
    }
    await rejects(v.verifyConnectToken(`e*J.${body}.${sig}`), InvalidTokenError); // not base64url
    await rejects(v.verifyConnectToken(`.${body}.${sig}`), InvalidTokenError); // empty header
    // A header with extra members (typ, kid) is fine.
    const typed = await new SignJWT({ sub: 'u2' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'k1' }).sign(new TextEncoder().encode(SECRET));
    assert.equal((await v.verifyConnectToken(typed)).sub, 'u2');
  });

  it('a protected header already read is not trusted beyond its alg: signature, claims and refusals are checked every time', async () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64url');
    const good = await hs({ sub: 'first' });
    const parts = good.split('.');
    const header = parts[0] ?? '';
    const sig = parts[2] ?? '';
    assert.equal((await v.verifyConnectToken(good)).sub, 'first');
    // Same header text: another payload under the old signature, a wrong key, an expired token.
    await rejects(v.verifyConnectToken(`${header}.${b64('{"sub":"second"}')}.${sig}`), InvalidTokenError);
    await rejects(v.verifyConnectToken(await hs({ sub: 'second' }, 'other-secret')), InvalidTokenError);
    await rejects(v.verifyConnectToken(await hs({ sub: 'second', exp: NOW - 1 })), TokenExpiredError);
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'second' }))).sub, 'second');
    // A refused header stays refused (it is not remembered as read).
    const signed = `${b64('{"alg":"HS256","crit":["exp"]}')}.${b64('{"sub":"u"}')}`;
    const crit = `${signed}.${createHmac('sha256', SECRET).update(signed).digest('base64url')}`;
    await rejects(v.verifyConnectToken(crit), InvalidTokenError);
    await rejects(v.verifyConnectToken(crit), InvalidTokenError);
    // More distinct headers than are remembered: each still gives its own alg.
    for (let i = 0; i < 80; i++) {
      const t = await new SignJWT({ sub: `k${i}` }).setProtectedHeader({ alg: i % 2 === 0 ? 'HS256' : 'HS384', kid: `k${i}` }).sign(new TextEncoder().encode(SECRET));
      assert.equal((await v.verifyConnectToken(t)).sub, `k${i}`);
    }
  });

  it('wrong claim types and a channel claim ⇒ InvalidTokenError', async () => {
    for (const bad of [
      { channel: 'x' },
      { sub: 5 },
      { channels: 'a' },
      { channels: [1] },
      { subs: [] },
      { subs: { a: { override: { presence: true } } } },
      { b64info: 'not base64!' },
      { b64info: 'AAE' },
      { expire_at: '1' },
      { exp: 'soon' },
    ]) {
      await rejects(v.verifyConnectToken(await hs(bad as JWTPayload)), InvalidTokenError);
    }
  });

  it('previous HMAC key is accepted until valid_until', async () => {
    const rotating = (until: number) =>
      new JwtVerifier(
        clientCfg((c) => {
          c.token.hmac_secret_key = 'new';
          c.token.hmac_previous_secret_key = 'old';
          c.token.hmac_previous_secret_key_valid_until = until;
        }),
        clock,
      );
    const old = await hs({ sub: 'u' }, 'old');
    assert.equal((await rotating(0).verifyConnectToken(old)).sub, 'u');
    assert.equal((await rotating(NOW + 10).verifyConnectToken(old)).sub, 'u');
    await rejects(rotating(NOW - 10).verifyConnectToken(old), InvalidTokenError);
    assert.equal((await rotating(NOW - 10).verifyConnectToken(await hs({ sub: 'n' }, 'new'))).sub, 'n');
  });

  it('aud / iss are checked only when configured (exact or regex)', async () => {
    const plain = await hs({ sub: 'u' });
    assert.equal((await v.verifyConnectToken(plain)).sub, 'u');
    const aud = new JwtVerifier(clientCfg((c) => (c.token.audience = 'gyre')), clock);
    assert.equal((await aud.verifyConnectToken(await hs({ sub: 'u', aud: ['x', 'gyre'] }))).sub, 'u');
    await rejects(aud.verifyConnectToken(await hs({ sub: 'u', aud: 'other' })), InvalidTokenError);
    await rejects(aud.verifyConnectToken(plain), InvalidTokenError);
    const audRe = new JwtVerifier(clientCfg((c) => (c.token.audience_regex = '^app-[0-9]+$')), clock);
    assert.equal((await audRe.verifyConnectToken(await hs({ sub: 'u', aud: 'app-7' }))).sub, 'u');
    await rejects(audRe.verifyConnectToken(await hs({ sub: 'u', aud: 'app-x' })), InvalidTokenError);
    const iss = new JwtVerifier(clientCfg((c) => (c.token.issuer = 'auth.example')), clock);
    assert.equal((await iss.verifyConnectToken(await hs({ sub: 'u', iss: 'auth.example' }))).sub, 'u');
    await rejects(iss.verifyConnectToken(await hs({ sub: 'u', iss: 'evil' })), InvalidTokenError);
    const issRe = new JwtVerifier(clientCfg((c) => (c.token.issuer_regex = '^https://[a-z]+\\.example$')), clock);
    assert.equal((await issRe.verifyConnectToken(await hs({ sub: 'u', iss: 'https://id.example' }))).sub, 'u');
    await rejects(issRe.verifyConnectToken(await hs({ sub: 'u', iss: 'https://id.evil' })), InvalidTokenError);
  });

  it('user_id_claim overrides sub', async () => {
    const custom = new JwtVerifier(clientCfg((c) => (c.token.user_id_claim = 'user.id')), clock);
    assert.equal((await custom.verifyConnectToken(await hs({ sub: 'ignored', user: { id: 'deep' } }))).sub, 'deep');
    assert.equal((await custom.verifyConnectToken(await hs({ user: { id: 42 } }))).sub, '42');
    assert.equal((await custom.verifyConnectToken(await hs({ sub: 'x' }))).sub, '');
  });

  it('insecure_skip_token_signature_verify decodes without verifying', async () => {
    const skip = new JwtVerifier(clientCfg((c) => (c.insecure_skip_token_signature_verify = true)), clock);
    assert.equal((await skip.verifyConnectToken(await hs({ sub: 'u' }, 'whatever'))).sub, 'u');
    await rejects(skip.verifyConnectToken(await hs({ sub: 'u', exp: NOW - 1 }, 'x')), TokenExpiredError);
    await rejects(skip.verifyConnectToken('garbage'), InvalidTokenError);
  });
});

describe('JwtVerifier: RSA and ECDSA', () => {
  it('verifies RS* with an SPKI PEM and ES* with the matching curve', async () => {
    // One RSA key pair serves all three RS algorithms; the fixture key plays the forger.
    // node:crypto KeyObjects are not bound to one hash, unlike WebCrypto keys.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forger = createPrivateKey(readFileSync(new URL('../../fixtures/auth/rsa-test-key.pem', import.meta.url), 'utf8'));
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const v = new JwtVerifier(clientCfg((c) => (c.token.rsa_public_key = pem)), clock);
    for (const alg of ['RS256', 'RS384', 'RS512']) {
      const t = await new SignJWT({ sub: alg }).setProtectedHeader({ alg }).sign(privateKey);
      assert.equal((await v.verifyConnectToken(t)).sub, alg);
      const forged = await new SignJWT({ sub: alg }).setProtectedHeader({ alg }).sign(forger);
      await rejects(v.verifyConnectToken(forged), InvalidTokenError);
    }
    for (const alg of ['ES256', 'ES384', 'ES512']) {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const pem = await exportSPKI(publicKey);
      const v = new JwtVerifier(clientCfg((c) => (c.token.ecdsa_public_key = pem)), clock);
      const t = await new SignJWT({ sub: alg }).setProtectedHeader({ alg }).sign(privateKey);
      assert.equal((await v.verifyConnectToken(t)).sub, alg);
      // an HS token still works with the HMAC key next to it
      assert.equal((await v.verifyConnectToken(await hs({ sub: 'h' }))).sub, 'h');
      // an ES token signed by another key is rejected
      const other = await generateKeyPair(alg);
      const forged = await new SignJWT({ sub: alg }).setProtectedHeader({ alg }).sign(other.privateKey);
      await rejects(v.verifyConnectToken(forged), InvalidTokenError);
    }
  });

  it('accepts an X.509 certificate as rsa_public_key', async () => {
    const dir = new URL('../../fixtures/auth/', import.meta.url);
    const cert = readFileSync(new URL('rsa-test-cert.pem', dir), 'utf8');
    const key = await importPKCS8(readFileSync(new URL('rsa-test-key.pem', dir), 'utf8'), 'RS256');
    const v = new JwtVerifier(clientCfg((c) => (c.token.rsa_public_key = cert)), clock);
    const t = await new SignJWT({ sub: 'cert' }).setProtectedHeader({ alg: 'RS256' }).sign(key);
    assert.equal((await v.verifyConnectToken(t)).sub, 'cert');
  });

  it('rejects a bad PEM at construction', () => {
    assert.throws(() => new JwtVerifier(clientCfg((c) => (c.token.rsa_public_key = 'nope'))), /rsa_public_key/);
  });
});

describe('JwtVerifier: subscription tokens', () => {
  it('uses client.token.* unless subscription_token is enabled', async () => {
    const v = new JwtVerifier(clientCfg(), clock);
    const c = await v.verifySubscribeToken(
      await hs({ sub: 'u', channel: 'news', info: 'i', b64data: 'AQ==', override: { force_recovery: { value: true } }, client: 'c1', expire_at: 0 }),
    );
    assert.equal(c.channel, 'news');
    assert.equal(c.sub, 'u');
    assert.equal(dec.decode(c.info), '"i"');
    assert.deepEqual([...(c.data ?? [])], [1]);
    assert.deepEqual(c.override, { force_recovery: true });
    assert.equal(c.client, 'c1');
    assert.equal(c.expire_at, 0);
    await rejects(v.verifySubscribeToken(await hs({ sub: 'u' })), InvalidTokenError);
    await rejects(v.verifySubscribeToken(await hs({ sub: 'u', channel: 'x', exp: NOW - 5 })), TokenExpiredError);
    await rejects(v.verifySubscribeToken(await hs({ sub: 'u', channel: 'x', b64data: '@@' })), InvalidTokenError);

    const separate = new JwtVerifier(
      clientCfg((cfg) => {
        cfg.subscription_token.enabled = true;
        cfg.subscription_token.hmac_secret_key = 'sub-secret';
      }),
      clock,
    );
    assert.equal((await separate.verifySubscribeToken(await hs({ sub: 'u', channel: 'x' }, 'sub-secret'))).channel, 'x');
    await rejects(separate.verifySubscribeToken(await hs({ sub: 'u', channel: 'x' })), InvalidTokenError);
    // connection tokens still use client.token
    assert.equal((await separate.verifyConnectToken(await hs({ sub: 'u' }))).sub, 'u');
  });
});

describe('JwtVerifier: JWKS', () => {
  let server: Server;
  let url = '';
  let base = '';
  let jwks: unknown = { keys: [] };
  let privateKey: GenerateKeyPairResult['privateKey'];

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = await exportJWK(pair.publicKey);
    jwks = { keys: [{ ...jwk, kid: 'k1' }] };
    server = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers (timeout test)
      if (req.url !== '/jwks' && req.url !== '/acme/jwks') {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    url = `${base}/jwks`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('verifies by kid and ignores static keys', async () => {
    const v = new JwtVerifier(clientCfg((c) => (c.token.jwks_public_endpoint = url)), clock);
    const t = await new SignJWT({ sub: 'jw' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
    assert.equal((await v.verifyConnectToken(t)).sub, 'jw');
    const unknownKid = await new SignJWT({ sub: 'jw' }).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).sign(privateKey);
    await rejects(v.verifyConnectToken(unknownKid), InvalidTokenError);
    await rejects(v.verifyConnectToken(await hs({ sub: 'u' })), InvalidTokenError);
  });

  it('fills {{placeholders}} of the endpoint from issuer_regex named groups', async () => {
    const v = new JwtVerifier(
      clientCfg((c) => {
        c.token.jwks_public_endpoint = `${base}/{{tenant}}/jwks`;
        c.token.issuer_regex = '^https://(?<tenant>[a-z]+)\\.example$';
      }),
      clock,
    );
    const sign = (iss: string) => new SignJWT({ sub: 't', iss }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
    assert.equal((await v.verifyConnectToken(await sign('https://acme.example'))).sub, 't');
    // another tenant resolves to a URL that has no key set (404): not the token's fault ⇒ plain Error
    await assert.rejects(v.verifyConnectToken(await sign('https://other.example')), (e: unknown) => {
      assert.ok(e instanceof Error && !(e instanceof InvalidTokenError) && !(e instanceof TokenExpiredError));
      return true;
    });
    // no iss ⇒ the placeholder cannot be filled ⇒ invalid
    const noIss = await new SignJWT({ sub: 't' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
    await rejects(v.verifyConnectToken(noIss), InvalidTokenError);
  });

  it("reads Go's (?P<name>) named groups too", async () => {
    const v = new JwtVerifier(
      clientCfg((c) => {
        c.token.jwks_public_endpoint = `${base}/{{tenant}}/jwks`;
        c.token.issuer_regex = '^https://(?P<tenant>acme|globex)\\.example$';
      }),
      clock,
    );
    const t = await new SignJWT({ sub: 'g', iss: 'https://acme.example' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
    assert.equal((await v.verifyConnectToken(t)).sub, 'g');
  });

  it('an unreachable JWKS endpoint is an internal error, not an invalid token', async () => {
    const v = new JwtVerifier(clientCfg((c) => (c.token.jwks_public_endpoint = `${base}/hang`)), { ...clock, jwksTimeoutMs: 50 });
    const t = await new SignJWT({ sub: 'jw' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
    await assert.rejects(v.verifyConnectToken(t), (e: unknown) => {
      assert.ok(e instanceof Error && !(e instanceof InvalidTokenError) && !(e instanceof TokenExpiredError));
      assert.match(e.message, /^jwks:/);
      return true;
    });
  });
});
