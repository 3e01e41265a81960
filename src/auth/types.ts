// The token-verification seam used by the core (auth/jwt.ts implements it with jose).
// Raw JSON values (info, data) are returned as bytes of JSON text; b64info/b64data are decoded to bytes.

export type BoolOverride = Partial<
  Record<'presence' | 'join_leave' | 'force_push_join_leave' | 'force_recovery' | 'force_positioning', boolean>
>;

export interface TokenSubOptions {
  info?: Uint8Array;
  data?: Uint8Array;
  override?: BoolOverride;
}

export interface ConnectTokenClaims {
  /** User id ("" = anonymous). */
  sub: string;
  /** Unix seconds; absent ⇒ the token never expires. */
  exp?: number;
  iat?: number;
  info?: Uint8Array;
  channels?: string[];
  subs?: Record<string, TokenSubOptions>;
  meta?: unknown;
  /** Present ⇒ overrides connection expiration: > 0 expire then, 0 never. */
  expire_at?: number;
}

export interface SubscribeTokenClaims {
  sub: string;
  channel: string;
  exp?: number;
  iat?: number;
  info?: Uint8Array;
  data?: Uint8Array;
  override?: BoolOverride;
  expire_at?: number;
  /** Deprecated: must equal the connection's client id when set. */
  client?: string;
}

/** exp/nbf check failed (protocol: 109 on connect/subscribe, 3005 on refresh). */
export class TokenExpiredError extends Error {
  override readonly name = 'TokenExpiredError';
}
/** Bad format, bad signature, unknown alg, aud/iss mismatch, forbidden/missing claims. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export interface TokenVerifier {
  /** Throws TokenExpiredError or InvalidTokenError. With client.insecure, expiration is ignored. */
  verifyConnectToken(token: string): Promise<ConnectTokenClaims>;
  /**
   * The same check, done at once when it needs no I/O and no WebCrypto (an HMAC key, or no signature check): the
   * claims, or a Promise of them otherwise (RSA/ECDSA through jose, JWKS). Throws (or rejects) the same errors.
   */
  checkConnectToken(token: string): ConnectTokenClaims | Promise<ConnectTokenClaims>;
  /** Uses client.subscription_token.* when enabled, else client.token.*. Same errors. */
  verifySubscribeToken(token: string): Promise<SubscribeTokenClaims>;
}
