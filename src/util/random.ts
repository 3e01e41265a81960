// Small random helpers (no dependencies). Not for secrets: ids that must be unguessable use node:crypto.
import { randomBytes } from 'node:crypto';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `n` random ASCII letters `[a-zA-Z]` (stream epochs: 8 letters). */
export function randomLetters(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) {
    // 256 % 52 != 0: the slight bias is irrelevant for epochs.
    s += LETTERS[(bytes[i] ?? 0) % LETTERS.length];
  }
  return s;
}

/** A random integer in [min, max). */
export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min));
}
