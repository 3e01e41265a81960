// Reading ioredis replies of scripts called with callBuffer: bulk strings arrive as Buffers, integers as numbers.

export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (Buffer.isBuffer(v)) return Number(v.toString());
  if (typeof v === 'string') return Number(v);
  return NaN;
}

export function toText(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString();
  if (typeof v === 'string') return v;
  return '';
}
