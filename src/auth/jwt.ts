// TokenVerifier (docs/protocol.md §3.2–3.3, §3.6): HMAC / RSA / ECDSA static keys chosen by the header alg, or a JWKS
// endpoint; exp/nbf ⇒ TokenExpiredError (ignored with client.insecure); aud/iss checked when configured.
// RSA, ECDSA and JWKS go through jose. HS* is verified with node:crypto directly: connect storms are mostly HMAC
// tokens, and a synchronous createHmac is far cheaper than jose's per-call WebCrypto key import.

import { createHmac, createPublicKey, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { compactVerify, decodeJwt, errors } from 'jose';
import type { ClientConfig, TokenConfig } from '../config/types.js';
import { connectClaims, isObject, subscribeClaims, type JsonObject } from './claims.js';
import { JwksSource } from './jwks.js';
import { parseJson } from '../protocol/json-scan.js';
import { goRegExp } from '../util/go-regex.js';
import {
  InvalidTokenError,
  TokenExpiredError,
  type ConnectTokenClaims,
  type SubscribeTokenClaims,
  type TokenVerifier,
} from './types.js';

export interface JwtVerifierOptions {
  /** Clock in ms (tests). */
  now?: () => number;
  /** JWKS HTTP timeout; default 1000 ms. */
  jwksTimeoutMs?: number;
}

export type JwtClientConfig = Pick<
  ClientConfig,
  'token' | 'subscription_token' | 'insecure' | 'insecure_skip_token_signature_verify'
>;

const STATIC_ALGS = new Set(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512']);
const JWKS_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Claims kept as bytes (opaque): `info`/`data` at the top level and inside `subs.<channel>`. */
const TOKEN_RAW_KEYS: ReadonlySet<string> = new Set(['info', 'data']);
const encoder = new TextEncoder();

interface KeySet {
  /** Raw HMAC secrets: createHmac with a Buffer key is ~25 % cheaper per call than with a KeyObject. */
  readonly hmac: Buffer | undefined;
  readonly hmacPrevious: Buffer | undefined;
  readonly hmacPreviousUntil: number; // unix seconds, 0 = no limit
  readonly rsa: KeyObject | undefined;
  readonly ecdsa: KeyObject | undefined;
  readonly jwks: JwksSource | undefined;
  readonly audience: string;
  readonly audienceRegex: RegExp | undefined;
  readonly issuer: string;
  readonly issuerRegex: RegExp | undefined;
  readonly userIdClaim: string;
}

/** PEM public key (SPKI or PKCS#1) or an X.509 certificate. Throws on bad configuration. */
export function publicKeyFromPem(pem: string, what: string): KeyObject {
  try {
    if (pem.includes('BEGIN CERTIFICATE')) return new X509Certificate(pem).publicKey;
    return createPublicKey(pem);
  } catch (e) {
    throw new Error(`${what}: cannot parse PEM public key: ${(e as Error).message}`);
  }
}

function keySet(t: TokenConfig, section: string, timeoutMs: number): KeySet {
  const audienceRegex = t.audience_regex !== '' ? goRegExp(t.audience_regex) : undefined;
  const issuerRegex = t.issuer_regex !== '' ? goRegExp(t.issuer_regex) : undefined;
  return {
    hmac: t.hmac_secret_key !== '' ? Buffer.from(encoder.encode(t.hmac_secret_key)) : undefined,
    hmacPrevious:
      t.hmac_previous_secret_key !== '' ? Buffer.from(encoder.encode(t.hmac_previous_secret_key)) : undefined,
    hmacPreviousUntil: t.hmac_previous_secret_key_valid_until,
    rsa: t.rsa_public_key !== '' ? publicKeyFromPem(t.rsa_public_key, `${section}.rsa_public_key`) : undefined,
    ecdsa: t.ecdsa_public_key !== '' ? publicKeyFromPem(t.ecdsa_public_key, `${section}.ecdsa_public_key`) : undefined,
    jwks:
      t.jwks_public_endpoint !== ''
        ? new JwksSource({ endpoint: t.jwks_public_endpoint, issuerRegex, audienceRegex, timeoutMs })
        : undefined,
    audience: t.audience,
    audienceRegex,
    issuer: t.issuer,
    issuerRegex,
    userIdClaim: t.user_id_claim,
  };
}

function invalid(reason: string): never {
  throw new InvalidTokenError(reason);
}

const HMAC_HASH: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const B64URL = /^[A-Za-z0-9_-]*$/;

/** JWS compact HMAC check. Returns the payload bytes, or undefined when the signature does not match. */
function verifyHmac(token: string, hash: string, key: Buffer): Uint8Array | undefined {
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  if (first <= 0 || token.indexOf('.', first + 1) !== last) invalid('malformed token');
  const sigText = token.slice(last + 1);
  const payloadText = token.slice(first + 1, last);
  if (!B64URL.test(sigText) || !B64URL.test(payloadText)) invalid('malformed token');
  const sig = Buffer.from(sigText, 'base64url');
  const expected = createHmac(hash, key).update(token.slice(0, last)).digest();
  if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return undefined;
  return Buffer.from(payloadText, 'base64url');
}

/**
 * Protected headers already read, by their base64url text: a node's tokens nearly all share one or two headers
 * (`{"alg":"HS256","typ":"JWT"}`), so a connect storm decodes and parses each once, not once per connection. Only
 * headers that passed every check are kept; bounded, since the text comes from clients.
 */
const knownHeaders = new Map<string, string>();
const KNOWN_HEADERS_MAX = 64;

/**
 * The JWS protected header's `alg`, read without jose: a connect storm verifies one header per connection, and
 * jose's generic decoder validates far more than the three fields that matter here. Throws InvalidTokenError.
 */
export function headerAlg(token: string): string {
  const dot = token.indexOf('.');
  if (dot <= 0) invalid('malformed token: no protected header');
  const text = token.slice(0, dot);
  const known = knownHeaders.get(text);
  if (known !== undefined) return known;
  const alg = parseHeaderAlg(text);
  if (knownHeaders.size >= KNOWN_HEADERS_MAX) knownHeaders.clear();
  knownHeaders.set(text, alg);
  return alg;
}

function parseHeaderAlg(text: string): string {
  if (!B64URL.test(text)) invalid('malformed token: protected header is not base64url');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return invalid('malformed token: protected header is not JSON');
  }
  if (!isObject(header)) return invalid('malformed token: protected header is not a JSON object');
  if (header['crit'] !== undefined || header['b64'] !== undefined) invalid('unsupported JWS header parameters');
  const alg = header['alg'];
  if (alg !== undefined && typeof alg !== 'string') invalid('malformed token: "alg" must be a string');
  return alg ?? '';
}

/** JWKS transport trouble is not the token's fault: surface it as a plain Error (the caller maps it to internal). */
function mapError(e: unknown): never {
  if (e instanceof InvalidTokenError || e instanceof TokenExpiredError) throw e;
  if (e instanceof errors.JWKSTimeout) throw new Error('jwks: fetch timed out', { cause: e });
  if (e instanceof errors.JOSEError) {
    if (e.code === 'ERR_JOSE_GENERIC' || e.code === 'ERR_JWKS_INVALID') throw new Error(`jwks: ${e.message}`, { cause: e });
    throw new InvalidTokenError(e.message);
  }
  if (e instanceof TypeError) throw new Error(`jwks: ${e.message}`, { cause: e });
  throw e;
}

/** The verified payload bytes as claims. Parsed from the bytes so that `info`/`data` claims keep their exact bytes (claims.ts bytesClaim). */
function payloadOf(bytes: Uint8Array): JsonObject {
  const result = parseJson(bytes, 0, bytes.length, { opaqueKeys: TOKEN_RAW_KEYS, rawDepth: 3 });
  if (!result.ok) return invalid('token payload is not JSON');
  const parsed = result.value;
  if (!isObject(parsed)) return invalid('token payload is not a JSON object');
  return parsed;
}

export class JwtVerifier implements TokenVerifier {
  private readonly connectKeys: KeySet;
  private readonly subscribeKeys: KeySet;
  private readonly now: () => number;

  constructor(
    private readonly client: Readonly<JwtClientConfig>,
    opts: JwtVerifierOptions = {},
  ) {
    const timeout = opts.jwksTimeoutMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.connectKeys = keySet(client.token, 'client.token', timeout);
    this.subscribeKeys = client.subscription_token.enabled
      ? keySet(client.subscription_token, 'client.subscription_token', timeout)
      : this.connectKeys;
  }

  async verifyConnectToken(token: string): Promise<ConnectTokenClaims> {
    return this.checkConnectToken(token);
  }

  checkConnectToken(token: string): ConnectTokenClaims | Promise<ConnectTokenClaims> {
    const payload = this.verify(token, this.connectKeys);
    const claim = this.connectKeys.userIdClaim;
    return payload instanceof Promise ? payload.then((p) => connectClaims(p, claim)) : connectClaims(payload, claim);
  }

  async verifySubscribeToken(token: string): Promise<SubscribeTokenClaims> {
    const payload = await this.verify(token, this.subscribeKeys);
    return subscribeClaims(payload, this.subscribeKeys.userIdClaim);
  }

  /** The checked payload: at once for HMAC keys and without a signature check, a Promise for jose's algorithms. */
  private verify(token: string, keys: KeySet): JsonObject | Promise<JsonObject> {
    let payload: JsonObject;
    if (this.client.insecure_skip_token_signature_verify) {
      try {
        payload = decodeJwt(token);
      } catch (e) {
        invalid(`malformed token: ${(e as Error).message}`);
      }
    } else {
      const signed = this.verifySignature(token, keys);
      if (signed instanceof Promise) return signed.then((p) => this.checkClaims(p, keys));
      payload = signed;
    }
    return this.checkClaims(payload, keys);
  }

  private checkClaims(payload: JsonObject, keys: KeySet): JsonObject {
    this.checkTime(payload);
    this.checkAudienceIssuer(payload, keys);
    return payload;
  }

  private verifySignature(token: string, keys: KeySet): JsonObject | Promise<JsonObject> {
    const alg = headerAlg(token);
    // HMAC with a static key: node:crypto, synchronously (a connect storm's common case).
    const hash = keys.jwks === undefined && STATIC_ALGS.has(alg) ? HMAC_HASH[alg] : undefined;
    if (hash === undefined) return this.verifyWithJose(token, alg, keys);
    let bytes: Uint8Array;
    try {
      bytes = this.verifyHs(token, hash, keys);
    } catch (e) {
      return mapError(e);
    }
    return payloadOf(bytes);
  }

  private async verifyWithJose(token: string, alg: string, keys: KeySet): Promise<JsonObject> {
    let bytes: Uint8Array;
    try {
      if (keys.jwks !== undefined) {
        bytes = (await compactVerify(token, keys.jwks.forToken(token), { algorithms: JWKS_ALGS })).payload;
      } else {
        bytes = await this.verifyStatic(token, alg, keys);
      }
    } catch (e) {
      return mapError(e);
    }
    return payloadOf(bytes);
  }

  private async verifyStatic(token: string, alg: string, keys: KeySet): Promise<Uint8Array> {
    if (!STATIC_ALGS.has(alg)) invalid(`unsupported token algorithm ${JSON.stringify(alg)}`);
    const hash = HMAC_HASH[alg];
    if (hash !== undefined) return this.verifyHs(token, hash, keys);
    const key = alg.startsWith('RS') ? keys.rsa : keys.ecdsa;
    if (key === undefined) invalid(`no key configured for algorithm ${alg}`);
    return (await compactVerify(token, key, { algorithms: [alg] })).payload;
  }

  private verifyHs(token: string, hash: string, keys: KeySet): Uint8Array {
    if (keys.hmac === undefined) invalid('no HMAC key configured');
    const payload = verifyHmac(token, hash, keys.hmac);
    if (payload !== undefined) return payload;
    const until = keys.hmacPreviousUntil;
    if (keys.hmacPrevious !== undefined && (until === 0 || this.now() / 1000 < until)) {
      const previous = verifyHmac(token, hash, keys.hmacPrevious);
      if (previous !== undefined) return previous;
    }
    return invalid('signature verification failed');
  }

  private checkTime(payload: JsonObject): void {
    const exp = payload['exp'];
    const nbf = payload['nbf'];
    if (exp !== undefined && exp !== null && typeof exp !== 'number') invalid('claim "exp" must be a number');
    if (nbf !== undefined && nbf !== null && typeof nbf !== 'number') invalid('claim "nbf" must be a number');
    if (this.client.insecure) return;
    const nowSec = this.now() / 1000;
    if (typeof exp === 'number' && nowSec >= exp) throw new TokenExpiredError('token is expired');
    if (typeof nbf === 'number' && nowSec < nbf) throw new TokenExpiredError('token is not valid yet (nbf)');
  }

  private checkAudienceIssuer(payload: JsonObject, keys: KeySet): void {
    if (keys.audience !== '' || keys.audienceRegex !== undefined) {
      const aud = payload['aud'];
      const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : [];
      if (keys.audience !== '' && !list.includes(keys.audience)) invalid('invalid audience');
      const re = keys.audienceRegex;
      if (re !== undefined && !list.some((a) => re.test(a))) invalid('invalid audience');
    }
    if (keys.issuer !== '' || keys.issuerRegex !== undefined) {
      const iss = payload['iss'];
      if (typeof iss !== 'string') invalid('invalid issuer');
      if (keys.issuer !== '' && iss !== keys.issuer) invalid('invalid issuer');
      if (keys.issuerRegex !== undefined && !keys.issuerRegex.test(iss)) invalid('invalid issuer');
    }
  }
}

export function createTokenVerifier(client: Readonly<JwtClientConfig>, opts: JwtVerifierOptions = {}): TokenVerifier {
  return new JwtVerifier(client, opts);
}
