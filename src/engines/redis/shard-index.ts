// Which Redis shard a channel lives on: jump consistent hash (Lamping & Veach) over the 64-bit FNV-1a hash of
// the channel name, computed exactly as centrifuge's consistentIndex does (float64 step included), so a
// Gyre node and a Centrifugo node configured with the same shard list pick the same shard for every channel.

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;
const JUMP_MUL = 2862933555777941757n;
const TWO_31 = 2147483648;
const enc = new TextEncoder();

export function fnv1a64(s: string): bigint {
  const bytes = enc.encode(s);
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    h ^= BigInt(bytes[i]!);
    h = (h * FNV_PRIME) & MASK64;
  }
  return h;
}

/** Bucket in [0, numBuckets) for `s`; numBuckets >= 1. */
export function consistentIndex(s: string, numBuckets: number): number {
  if (numBuckets <= 1) return 0;
  let key = fnv1a64(s);
  let b = -1;
  let j = 0;
  while (j < numBuckets) {
    b = j;
    key = (key * JUMP_MUL + 1n) & MASK64;
    j = Math.trunc((b + 1) * (TWO_31 / (Number(key >> 33n) + 1)));
  }
  return b;
}
