// Presence in centrifuge's layout: per channel a hash client id → ClientInfo protobuf and a zset client id →
// expiry time (unix seconds), both with a key TTL; with presence_user_mapping also a per-user zset and a
// user → connection count hash for cheap stats. Expiry scores carry milliseconds as a fraction, which
// Centrifugo's integer-second comparisons read correctly.
import type { PresenceManager, PresenceStats } from '../types.js';
import type { ClientInfo } from '../../protocol/types.js';
import { RedisReplyError, toNumber, toText } from './reply.js';
import { presenceAdd, presenceGet, presenceRemove, presenceStats, runScript } from './scripts.js';
import type { RedisShard, RedisShards } from './shards.js';
import { decodeClientInfo, encodeClientInfo } from './wire.js';

export interface RedisPresenceOptions {
  presenceTtlMs: number;
  userMapping: boolean;
}

const nowSeconds = (): string => (Date.now() / 1000).toFixed(3);

export class RedisPresenceManager implements PresenceManager {
  constructor(
    private readonly shards: RedisShards,
    private readonly opts: RedisPresenceOptions,
  ) {}

  private keys4(shard: RedisShard, ch: string): string[] {
    const k = shard.keys;
    return [k.presenceExpire(ch), k.presenceData(ch), k.presenceUserExpire(ch), k.presenceUserClients(ch)];
  }

  async add(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    const shard = this.shards.of(channel);
    const ttl = Math.max(1, Math.round(this.opts.presenceTtlMs));
    const expireAt = ((Date.now() + ttl) / 1000).toFixed(3);
    await shard.run('presence_add', (c) =>
      runScript(c, presenceAdd, this.keys4(shard, channel), [
        ttl,
        expireAt,
        clientId,
        encodeClientInfo(info),
        info.user,
        this.opts.userMapping ? '1' : '0',
      ]),
    );
  }

  async remove(channel: string, clientId: string, userId: string): Promise<void> {
    const shard = this.shards.of(channel);
    await shard.run('presence_remove', (c) =>
      runScript(c, presenceRemove, this.keys4(shard, channel), [clientId, userId, this.opts.userMapping ? '1' : '0']),
    );
  }

  async get(channel: string): Promise<Map<string, ClientInfo>> {
    const shard = this.shards.of(channel);
    const k = shard.keys;
    const reply = await shard.run('presence', (c) =>
      runScript(c, presenceGet, [k.presenceExpire(channel), k.presenceData(channel)], [nowSeconds()]),
    );
    if (!Array.isArray(reply) || reply.length % 2 !== 0) throw new RedisReplyError('wrong Redis reply to presence');
    const out = new Map<string, ClientInfo>();
    const list = reply as unknown[];
    for (let i = 0; i < list.length; i += 2) {
      const value = list[i + 1];
      if (!Buffer.isBuffer(value)) throw new RedisReplyError('wrong presence value');
      out.set(toText(list[i]), decodeClientInfo(value));
    }
    return out;
  }

  async stats(channel: string): Promise<PresenceStats> {
    if (this.opts.userMapping) {
      const shard = this.shards.of(channel);
      const reply = await shard.run('presence_stats', (c) =>
        runScript(c, presenceStats, this.keys4(shard, channel), [nowSeconds()]),
      );
      if (!Array.isArray(reply) || reply.length !== 2) throw new RedisReplyError('wrong Redis reply to presence stats');
      return { numClients: toNumber(reply[0]), numUsers: toNumber(reply[1]) };
    }
    const all = await this.get(channel);
    const users = new Set<string>();
    for (const info of all.values()) users.add(info.user);
    return { numClients: all.size, numUsers: users.size };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
