// The JWKS endpoint template safety check (src/config/validate-jwks.ts): a named group that fills a {{placeholder}}
// must be an explicit list of fixed values, and the regexes may hold no character class once a template is used;
// insecure_skip_jwks_endpoint_safety_check lets such a config start. Each case is also started on real Centrifugo
// 6.9.1 (when installed), which must accept or refuse it the same way.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/index.js';
import { findCentrifugo, startCentrifugo } from '../../harness/centrifugo.js';

const ENDPOINT = 'https://auth.example/{{tenant}}/jwks';

/** [case, token section, refused key (undefined = accepted)] */
const CASES: ReadonlyArray<readonly [string, Record<string, unknown>, string | undefined]> = [
  ['a bracket class', { jwks_public_endpoint: ENDPOINT, issuer_regex: '^https://(?<tenant>[a-z]+)\\.example$' }, 'issuer_regex'],
  ["Go's (?P<name>) spelling, a list", { jwks_public_endpoint: ENDPOINT, issuer_regex: '^https://(?P<tenant>acme|globex)\\.example$' }, undefined],
  ["Go's (?P<name>) spelling, a class", { jwks_public_endpoint: ENDPOINT, issuer_regex: '^https://(?P<tenant>[a-z]+)\\.example$' }, 'issuer_regex'],
  ['a list of values', { jwks_public_endpoint: ENDPOINT, issuer_regex: '^https://(?<tenant>acme|globex)\\.example$' }, undefined],
  ['a wildcard', { jwks_public_endpoint: ENDPOINT, issuer_regex: '^https://(?<tenant>.+)\\.example$' }, 'issuer_regex'],
  ['a dot among values', { jwks_public_endpoint: ENDPOINT, issuer_regex: '^(?<tenant>acme|glo.ex)$' }, 'issuer_regex'],
  ['a shorthand class in another group', { jwks_public_endpoint: ENDPOINT, issuer_regex: '^(?<tenant>acme)-(?<n>\\d+)$' }, 'issuer_regex'],
  ['a wide group no placeholder uses', { jwks_public_endpoint: ENDPOINT, issuer_regex: '^(?<tenant>acme)-(?<rest>.*)$' }, undefined],
  ['an optional part', { jwks_public_endpoint: ENDPOINT, issuer_regex: '^(?<tenant>acme(-eu|-us)?)$' }, 'issuer_regex'],
  ['nested fixed alternatives', { jwks_public_endpoint: ENDPOINT, issuer_regex: '^(?<tenant>acme(-eu|-us))$' }, undefined],
  ['the audience regex', { jwks_public_endpoint: ENDPOINT, audience_regex: '^(?<tenant>\\w+)$' }, 'audience_regex'],
  ['no placeholder in the endpoint', { jwks_public_endpoint: 'https://auth.example/jwks', issuer_regex: '^(?<tenant>.+)$' }, undefined],
  [
    'the insecure escape hatch',
    { jwks_public_endpoint: ENDPOINT, issuer_regex: '^(?<tenant>[a-z]+)$', insecure_skip_jwks_endpoint_safety_check: true },
    undefined,
  ],
];

const dir = mkdtempSync(join(tmpdir(), 'gyre-jwks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function gyreRefusal(token: Record<string, unknown>, i: number): string | undefined {
  const file = join(dir, `c${i}.json`);
  writeFileSync(file, JSON.stringify({ client: { token } }));
  try {
    loadConfig({ file, env: {} });
    return undefined;
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.path;
  }
}

describe('JWKS endpoint template safety', () => {
  CASES.forEach(([name, token, refused], i) => {
    it(`${refused === undefined ? 'accepts' : 'refuses'} ${name}`, () => {
      assert.equal(gyreRefusal(token, i), refused === undefined ? undefined : `client.token.${refused}`);
      // The same rule for subscription tokens.
      const file = join(dir, `s${i}.json`);
      writeFileSync(file, JSON.stringify({ client: { subscription_token: { enabled: true, ...token } } }));
      let path: string | undefined;
      try {
        loadConfig({ file, env: {} });
      } catch (e) {
        path = (e as ConfigError).path;
      }
      assert.equal(path, refused === undefined ? undefined : `client.subscription_token.${refused}`);
    });
  });

  it('decides every case as real Centrifugo does', { skip: findCentrifugo() === undefined ? 'the centrifugo binary is not installed' : false }, async () => {
    const verdicts = await Promise.all(
      CASES.map(([, token]) =>
        startCentrifugo({ client: { token } }).then(
          async (p) => {
            await p.stop();
            return true;
          },
          () => false,
        ),
      ),
    );
    CASES.forEach(([name, , refused], i) => assert.equal(verdicts[i], refused === undefined, name));
  });
});
