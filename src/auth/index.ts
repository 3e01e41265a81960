// Public surface of auth/: the TokenVerifier seam and its jose implementation.

export { JwtVerifier, createTokenVerifier, publicKeyFromPem } from './jwt.js';
export type { JwtVerifierOptions, JwtClientConfig } from './jwt.js';
export { connectClaims, subscribeClaims } from './claims.js';
export { signHs256 } from './sign.js';
export * from './types.js';
