// The Lua scripts of the Redis engine and the EVALSHA runner. The scripts keep centrifuge's data layout
// (stream entry id = offset, field `d` = Publication protobuf; meta hash `e` epoch / `s` top offset; result
// hash `e`/`s`; presence hash + expiry zset) so Centrifugo nodes read what Gyre writes and the other way
// round. TTLs are set with PEXPIRE in milliseconds (Centrifugo uses whole seconds; the keys are the same).
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

function script(name: string, lua: string): LuaScript {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Append + publish in one step (atomic per channel). KEYS: stream, meta, result. ARGV: payload, size, ttl ms,
 * PUB/SUB channel ('' = do not publish), meta ttl ms ('0' = none), epoch for a new stream, result ttl seconds
 * ('' = no idempotency key), use delta '1'|''. Returns {offset, epoch, suppressed 0|1}. With delta the message
 * is centrifuge's `__d1` frame carrying the stream's last Publication before this one (none when the stream is
 * new or expired), read under the same script so it is exactly the publication before this offset.
 */
export const publishWithHistory = script(
  'publish_history',
  `
local stream, meta, result = KEYS[1], KEYS[2], KEYS[3]
local payload, size, ttl, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local meta_ttl, new_epoch, result_ttl, use_delta = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
if result_ttl ~= '' then
  local cached = redis.call('hmget', result, 'e', 's')
  if cached[1] then
    return {cached[2] or '0', cached[1], 1}
  end
end
local epoch = redis.call('hget', meta, 'e')
if not epoch then
  epoch = new_epoch
  redis.call('hset', meta, 'e', epoch)
end
local offset = redis.call('hincrby', meta, 's', 1)
if meta_ttl ~= '0' then
  redis.call('pexpire', meta, meta_ttl)
end
local prev = ''
if offset == 1 then
  -- A new epoch: drop a stream left over from an evicted meta hash.
  redis.call('del', stream)
elseif use_delta == '1' then
  local last = redis.call('xrevrange', stream, '+', '-', 'COUNT', 1)
  if #last > 0 then
    local fields = last[1][2]
    for i = 1, #fields, 2 do
      if fields[i] == 'd' then
        prev = fields[i + 1]
        break
      end
    end
  end
end
redis.call('xadd', stream, 'MAXLEN', size, offset, 'd', payload)
redis.call('pexpire', stream, ttl)
if channel ~= '' then
  if use_delta == '1' then
    redis.call('publish', channel, '__d1:' .. offset .. ':' .. epoch .. ':' .. #prev .. ':' .. prev .. ':' .. #payload .. ':' .. payload)
  else
    redis.call('publish', channel, '__p1:' .. offset .. ':' .. epoch .. '__' .. payload)
  end
end
if result_ttl ~= '' then
  redis.call('hset', result, 'e', epoch, 's', offset)
  redis.call('expire', result, result_ttl)
end
return {offset, epoch, 0}
`,
);

/**
 * Publish without history under an idempotency key. KEYS: result. ARGV: payload, PUB/SUB channel, result ttl
 * seconds. Returns 1 when an earlier publish with the key is remembered (nothing published), else 0.
 */
export const publishIdempotent = script(
  'publish_idempotent',
  `
if redis.call('hexists', KEYS[1], 'e') == 1 then
  return 1
end
if ARGV[2] ~= '' then
  redis.call('publish', ARGV[2], ARGV[1])
end
redis.call('hset', KEYS[1], 'e', '')
redis.call('expire', KEYS[1], ARGV[3])
return 0
`,
);

/**
 * Stream read. KEYS: stream, meta. ARGV: include publications '0'|'1', start offset ('0' = from the edge),
 * limit ('0' = no limit), reverse '0'|'1', meta ttl ms ('0' = none), epoch for a new stream.
 * Returns {top offset, epoch, entries|nil}; a read of a missing stream creates its meta (and epoch).
 */
export const readHistory = script(
  'history_read',
  `
local stream, meta = KEYS[1], KEYS[2]
local include, since, limit, reverse, meta_ttl, new_epoch = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local m = redis.call('hmget', meta, 'e', 's')
local epoch, top = m[1], m[2]
if not epoch then
  epoch = new_epoch
  top = 0
  redis.call('hset', meta, 'e', epoch)
end
if not top then
  top = 0
end
if meta_ttl ~= '0' then
  redis.call('pexpire', meta, meta_ttl)
end
local entries = nil
if include ~= '0' then
  if reverse == '0' then
    if limit ~= '0' then
      entries = redis.call('xrange', stream, since, '+', 'COUNT', limit)
    else
      entries = redis.call('xrange', stream, since, '+')
    end
  else
    local from = top
    if since ~= '0' then
      from = since
    end
    if limit ~= '0' then
      entries = redis.call('xrevrange', stream, from, '-', 'COUNT', limit)
    else
      entries = redis.call('xrevrange', stream, from, '-')
    end
  end
end
return {top, epoch, entries}
`,
);

/**
 * Presence upsert. KEYS: expiry zset, data hash, user zset, user hash. ARGV: ttl ms, expires-at (unix seconds,
 * fractional), client id, ClientInfo protobuf, user id, user mapping '0'|'1'.
 */
export const presenceAdd = script(
  'presence_add',
  `
local fresh = false
if ARGV[6] ~= '0' then
  fresh = redis.call('hexists', KEYS[2], ARGV[3]) == 0
end
redis.call('hset', KEYS[2], ARGV[3], ARGV[4])
redis.call('pexpire', KEYS[2], ARGV[1])
redis.call('zadd', KEYS[1], ARGV[2], ARGV[3])
redis.call('pexpire', KEYS[1], ARGV[1])
if ARGV[6] ~= '0' then
  if fresh then
    redis.call('hincrby', KEYS[4], ARGV[5], 1)
  end
  redis.call('pexpire', KEYS[4], ARGV[1])
  redis.call('zadd', KEYS[3], ARGV[2], ARGV[5])
  redis.call('pexpire', KEYS[3], ARGV[1])
end
return 0
`,
);

/** Presence removal. KEYS as presenceAdd. ARGV: client id, user id, user mapping '0'|'1'. */
export const presenceRemove = script(
  'presence_remove',
  `
local existed = false
if ARGV[3] ~= '0' then
  existed = redis.call('hexists', KEYS[2], ARGV[1]) == 1
end
redis.call('hdel', KEYS[2], ARGV[1])
redis.call('zrem', KEYS[1], ARGV[1])
if existed then
  if redis.call('hincrby', KEYS[4], ARGV[2], -1) <= 0 then
    redis.call('zrem', KEYS[3], ARGV[2])
    redis.call('hdel', KEYS[4], ARGV[2])
  end
end
return 0
`,
);

/** Presence read: expire stale clients, return the hash. KEYS: expiry zset, data hash. ARGV: now (unix s). */
export const presenceGet = script(
  'presence_get',
  `
local stale = redis.call('zrangebyscore', KEYS[1], '0', ARGV[1])
if #stale > 0 then
  for i = 1, #stale do
    redis.call('hdel', KEYS[2], stale[i])
  end
  redis.call('zremrangebyscore', KEYS[1], '0', ARGV[1])
end
return redis.call('hgetall', KEYS[2])
`,
);

/** Presence stats from the user mapping. KEYS as presenceAdd. ARGV: now (unix s). Returns {clients, users}. */
export const presenceStats = script(
  'presence_stats',
  `
local now = ARGV[1]
local stale = redis.call('zrangebyscore', KEYS[1], '0', now)
if #stale > 0 then
  for i = 1, #stale do
    redis.call('hdel', KEYS[2], stale[i])
  end
  redis.call('zremrangebyscore', KEYS[1], '0', now)
end
local staleUsers = redis.call('zrangebyscore', KEYS[3], '0', now)
if #staleUsers > 0 then
  for i = 1, #staleUsers do
    redis.call('hdel', KEYS[4], staleUsers[i])
  end
  redis.call('zremrangebyscore', KEYS[3], '0', now)
end
return {redis.call('hlen', KEYS[2]), redis.call('hlen', KEYS[4])}
`,
);

/**
 * A plain PUBLISH pinned to the Redis Cluster node that owns KEYS[1]'s slot (the key is only read for routing).
 * ARGV: PUB/SUB channel, payload. A bare PUBLISH has no key, so a Cluster client sends it to any node, and two
 * publishes to one channel through different nodes can reach subscribers in either order.
 */
export const publishPinned = script(
  'publish_pinned',
  `
redis.call('publish', ARGV[1], ARGV[2])
return 0
`,
);

export type CommandClient = Redis | Cluster;

/** ioredis defines a Buffer-replying variant of every command at runtime; its typings omit these two. */
interface BufferScripting {
  evalshaBuffer(...args: (string | Buffer | number)[]): Promise<unknown>;
  evalBuffer(...args: (string | Buffer | number)[]): Promise<unknown>;
}

/** EVALSHA, then EVAL once when the server does not know the script yet (after a restart or failover). */
export async function runScript(
  client: CommandClient,
  s: LuaScript,
  keys: readonly string[],
  args: readonly (string | Uint8Array | number)[],
): Promise<unknown> {
  const argv = args.map((a): string | Buffer | number =>
    a instanceof Uint8Array && !Buffer.isBuffer(a) ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : a,
  );
  const c = client as unknown as BufferScripting;
  try {
    return await c.evalshaBuffer(s.sha, keys.length, ...keys, ...argv);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
      return await c.evalBuffer(s.lua, keys.length, ...keys, ...argv);
    }
    throw err;
  }
}
