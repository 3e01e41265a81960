// History streams in centrifuge's layout: a Redis STREAM per channel whose entry ids are the offsets and whose
// field `d` holds the Publication protobuf, plus a meta hash with the epoch (`e`) and the top offset (`s`).
// Appends go through one Lua script together with the PUB/SUB publish (./scripts.ts), so offsets and delivery
// order agree; a read of a missing stream creates its meta, and so its epoch, as Centrifugo does.
import { UnrecoverablePositionError } from '../types.js';
import type { HistoryReadOptions, HistoryReadResult, HistoryStore } from '../types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import { randomLetters } from '../../util/random.js';
import { decodePublication, encodePublication } from './wire.js';
import { publishWithHistory, readHistory, runScript } from './scripts.js';
import { RedisReplyError, toNumber, toText } from './reply.js';
import type { RedisShard, RedisShards } from './shards.js';

/** Centrifugo's default lifetime of an idempotent publish result (seconds). */
export const IDEMPOTENT_RESULT_TTL_S = 300;

export interface AppendRequest {
  payload: Uint8Array;
  size: number;
  ttlMs: number;
  metaTtlMs: number;
  idempotencyKey: string | undefined;
  /** PUB/SUB channel to publish to in the same script ('' = append only). */
  pubsubChannel: string;
  /** Publish in the `__d1` frame, with the stream's previous publication (delta compression). */
  useDelta?: boolean;
}

export class RedisHistory implements HistoryStore {
  constructor(
    private readonly shards: RedisShards,
    private readonly newEpoch: () => string = () => randomLetters(8),
  ) {}

  /** Runs the append(+publish) script on the channel's shard. */
  async appendRaw(
    shard: RedisShard,
    channel: string,
    r: AppendRequest,
  ): Promise<{ position: StreamPosition; suppressed: boolean }> {
    const k = shard.keys;
    const key = r.idempotencyKey ?? '';
    const reply = await shard.run('publish_history', (c) =>
      runScript(
        c,
        publishWithHistory,
        [k.stream(channel), k.streamMeta(channel), k.result(channel, key)],
        [
          r.payload,
          r.size,
          Math.max(1, Math.round(r.ttlMs)),
          r.pubsubChannel,
          r.metaTtlMs > 0 ? Math.max(1, Math.round(r.metaTtlMs)) : 0,
          this.newEpoch(),
          key !== '' ? String(IDEMPOTENT_RESULT_TTL_S) : '',
          r.useDelta === true ? '1' : '',
        ],
      ),
    );
    if (!Array.isArray(reply) || reply.length < 3) throw new RedisReplyError('wrong Redis reply to publish');
    const offset = toNumber(reply[0]);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RedisReplyError('wrong Redis reply offset');
    return { position: { offset, epoch: toText(reply[1]) }, suppressed: toNumber(reply[2]) === 1 };
  }

  append(
    channel: string,
    pub: Publication,
    opts: { size: number; ttlMs: number; metaTtlMs: number; idempotencyKey?: string },
  ): Promise<{ position: StreamPosition; suppressed: boolean }> {
    const info: ClientInfo | undefined = pub.info;
    return this.appendRaw(this.shards.of(channel), channel, {
      payload: encodePublication(pub.data, info, pub.tags, Date.now()),
      size: opts.size,
      ttlMs: opts.ttlMs,
      metaTtlMs: opts.metaTtlMs,
      idempotencyKey: opts.idempotencyKey,
      pubsubChannel: '',
    });
  }

  async read(channel: string, opts: HistoryReadOptions): Promise<HistoryReadResult> {
    const shard = this.shards.of(channel);
    const k = shard.keys;
    let include = opts.limit !== 0;
    let start = 0;
    const since = opts.since;
    if (since !== undefined) {
      if (opts.reverse === true) {
        start = since.offset - 1;
        if (start <= 0) include = false;
      } else {
        start = since.offset + 1;
      }
    }
    const reply = await shard.run('history_read', (c) =>
      runScript(
        c,
        readHistory,
        [k.stream(channel), k.streamMeta(channel)],
        [
          include ? '1' : '0',
          String(start),
          opts.limit > 0 ? String(opts.limit) : '0',
          opts.reverse === true ? '1' : '0',
          opts.metaTtlMs > 0 ? String(Math.max(1, Math.round(opts.metaTtlMs))) : '0',
          this.newEpoch(),
        ],
      ),
    );
    if (!Array.isArray(reply) || reply.length < 2) throw new RedisReplyError('wrong Redis reply to history');
    const top = toNumber(reply[0]);
    const position: StreamPosition = { offset: Number.isSafeInteger(top) ? top : 0, epoch: toText(reply[1]) };
    if (since !== undefined && since.epoch !== '' && since.epoch !== position.epoch) {
      throw new UnrecoverablePositionError(position);
    }
    const publications: Publication[] = [];
    const entries: unknown = reply[2];
    if (include && Array.isArray(entries)) {
      for (const entry of entries as unknown[]) publications.push(entryToPublication(entry));
    }
    return { publications, position };
  }

  async remove(channel: string): Promise<void> {
    const shard = this.shards.of(channel);
    await shard.run('history_remove', (c) => c.del(shard.keys.stream(channel)));
  }
}

/** One XRANGE entry `[id, [field, value, ...]]` → Publication with its offset (the id before '-'). */
function entryToPublication(entry: unknown): Publication {
  if (!Array.isArray(entry) || entry.length !== 2) throw new RedisReplyError('wrong stream entry');
  const id = toText(entry[0]);
  const fields: unknown = entry[1];
  const dash = id.indexOf('-');
  const offset = Number(dash > 0 ? id.slice(0, dash) : id);
  if (!Number.isSafeInteger(offset)) throw new RedisReplyError(`unexpected stream id ${id}`);
  if (!Array.isArray(fields)) throw new RedisReplyError('wrong stream entry fields');
  const list = fields as unknown[];
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (toText(list[i]) !== 'd') continue;
    const value = list[i + 1];
    if (!Buffer.isBuffer(value)) break;
    const { pub } = decodePublication(value);
    pub.offset = offset;
    return pub;
  }
  throw new RedisReplyError('no publication data in stream entry');
}
