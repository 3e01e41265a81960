// The server-API half of the node (protocol.md §6.3 semantics): each method maps protocol errors to ApiError.
import { ApiError, Disconnect, ProtocolError, Unsubscribe } from '../protocol/errors.js';
import { DisconnectCode, UnsubscribeCode, disconnectReasons } from '../protocol/codes.js';
import type { ClientInfo, Publication, StreamPosition } from '../protocol/types.js';
import { UnrecoverablePositionError } from '../engines/types.js';
import type {
  ApiPublishOptions,
  ApiPublishResult,
  ApiSubscribeOptions,
  ApiTarget,
  NodeApi,
  NodeInfo,
} from './types.js';
import type { ResolvedChannel } from './channels.js';
import type { CoreContext } from './context.js';
import { resolveSubscribeOptions } from './permissions.js';
import { SessionState, type Session } from './session.js';
import { establish, isSubscriptionGone } from './subscribe-flow.js';
import { checkPublicationData } from './commands/publish.js';
import { ttlSeconds } from './commands/common.js';

const API_CODES = new Set([100, 102, 104, 107, 108, 112, 113]);

function toApiError(err: unknown): unknown {
  if (err instanceof ProtocolError) return new ApiError(API_CODES.has(err.code) ? err.code : 100);
  if (err instanceof UnrecoverablePositionError) return new ApiError(112);
  return err;
}

/** Glob (gobwas-like subset: `*`, `?`) to an anchored regex. */
export function globToRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 's');
}

export interface NodeIdentity {
  uid: string;
  name: string;
  startedAt: number;
}

export class ApiNode implements NodeApi {
  constructor(
    private readonly ctx: CoreContext,
    private readonly id: NodeIdentity,
  ) {}

  private resolve(channel: string): ResolvedChannel {
    if (channel === '') throw new ApiError(107);
    try {
      return this.ctx.resolver.resolve(channel);
    } catch (err) {
      throw toApiError(err);
    }
  }

  private targets(t: ApiTarget): Session[] {
    const out: Session[] = [];
    const set = this.ctx.hub.userSessions(t.user);
    if (set === undefined) return out;
    for (const s of set) {
      if (s.state !== SessionState.Connected) continue;
      if (t.client !== undefined && t.client !== '' && s.id !== t.client) continue;
      // Session ids exist only for emulation/unidirectional transports, which Gyre does not serve yet.
      if (t.session !== undefined && t.session !== '') continue;
      out.push(s);
    }
    return out;
  }

  async publish(channel: string, data: Uint8Array, opts: ApiPublishOptions): Promise<ApiPublishResult> {
    const r = this.resolve(channel);
    try {
      checkPublicationData(this.ctx.config, r.options, data);
    } catch (err) {
      throw toApiError(err);
    }
    const res = await this.ctx.publisher.publish(channel, data, {
      options: r.options,
      ...(opts.tags !== undefined ? { tags: opts.tags } : {}),
      ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
      ...(opts.skipHistory === true ? { skipHistory: true } : {}),
    });
    return res.position !== undefined ? { offset: res.position.offset, epoch: res.position.epoch } : {};
  }

  async subscribe(o: ApiSubscribeOptions): Promise<void> {
    const r = this.resolve(o.channel);
    const insecure = this.ctx.config.client.insecure;
    for (const s of this.targets(o)) {
      if (s.subs.has(o.channel)) continue;
      const flags = resolveSubscribeOptions({ r, user: s.user, insecure, override: o.override });
      try {
        const est = await establish(s, {
          r,
          serverSide: true,
          flags,
          recover: o.recoverSince !== undefined,
          offset: o.recoverSince?.offset ?? 0,
          epoch: o.recoverSince?.epoch ?? '',
          rejectUnrecovered: false,
          expireAt: o.expireAt ?? 0,
          clientExpires: false,
          ...(o.info !== undefined ? { chanInfo: o.info } : {}),
          ...(o.data !== undefined ? { data: o.data } : {}),
        });
        const res = est.result;
        s.sendPush(
          {
            channel: o.channel,
            subscribe: {
              ...(res.recoverable === true ? { recoverable: true } : {}),
              ...(res.epoch !== undefined ? { epoch: res.epoch } : {}),
              ...(res.offset !== undefined ? { offset: res.offset } : {}),
              ...(res.positioned === true ? { positioned: true } : {}),
              ...(res.data !== undefined ? { data: res.data } : {}),
            },
          },
          'subscribe',
        );
        for (const pub of est.recovered) s.deliver(s.codec.encodePublicationPush(o.channel, pub));
        est.complete();
      } catch (err) {
        if (isSubscriptionGone(err)) continue;
        if (err instanceof ProtocolError && err.code === 105) continue; // subscribed meanwhile
        if (err instanceof Disconnect) {
          s.close(err);
          continue;
        }
        throw toApiError(err);
      }
    }
  }

  unsubscribe(t: ApiTarget & { channel: string }): Promise<void> {
    if (t.channel !== '') this.resolve(t.channel);
    const u = Unsubscribe.of(UnsubscribeCode.ServerUnsubscribe);
    for (const s of this.targets(t)) {
      if (t.channel === '') {
        for (const sub of [...s.subs.values()]) s.unsubscribeWith(sub, u);
      } else {
        const sub = s.subs.get(t.channel);
        if (sub !== undefined) s.unsubscribeWith(sub, u);
      }
    }
    return Promise.resolve();
  }

  disconnect(t: ApiTarget & { whitelist?: string[]; code?: number; reason?: string }): Promise<void> {
    const code = t.code !== undefined && t.code > 0 ? t.code : DisconnectCode.ForceNoReconnect;
    const known = (disconnectReasons as Readonly<Record<number, string>>)[code];
    const reason = t.reason !== undefined && t.reason !== '' ? t.reason : (known ?? 'force disconnect');
    const d = new Disconnect(code, reason);
    const whitelist = new Set(t.whitelist ?? []);
    for (const s of this.targets(t)) if (!whitelist.has(s.id)) s.close(d);
    return Promise.resolve();
  }

  refresh(t: ApiTarget & { expired?: boolean; expireAt?: number; info?: Uint8Array }): Promise<void> {
    for (const s of this.targets(t)) {
      if (t.expired === true) {
        s.close(Disconnect.of(DisconnectCode.Expired));
        continue;
      }
      // Centrifugo semantics: a missing/0 expire_at removes the expiration; a past one expires the connection;
      // info is replaced only together with a new future expiration.
      const expireAt = t.expireAt ?? 0;
      if (expireAt > 0 && expireAt <= Math.floor(Date.now() / 1000)) {
        s.close(Disconnect.of(DisconnectCode.Expired));
        continue;
      }
      s.expireAt = expireAt;
      if (expireAt > 0 && t.info !== undefined && t.info.byteLength > 0) s.connInfo = t.info;
      s.timers.armExpire();
      s.sendPush(
        { refresh: s.expireAt > 0 ? { expires: true, ttl: ttlSeconds(s.expireAt) } : {} },
        'refresh',
      );
    }
    return Promise.resolve();
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    const r = this.resolve(channel);
    if (!r.options.presence) throw new ApiError(108);
    const map = await this.ctx.engine.presence.get(channel);
    const out: Record<string, ClientInfo> = {};
    for (const [k, v] of map) out[k] = v;
    return out;
  }

  async presenceStats(channel: string): Promise<{ num_clients: number; num_users: number }> {
    const r = this.resolve(channel);
    if (!r.options.presence) throw new ApiError(108);
    const st = await this.ctx.engine.presence.stats(channel);
    return { num_clients: st.numClients, num_users: st.numUsers };
  }

  async history(
    channel: string,
    opts: { limit: number; since?: StreamPosition; reverse?: boolean },
  ): Promise<{ publications: Publication[]; epoch: string; offset: number }> {
    const r = this.resolve(channel);
    const history = this.ctx.engine.history;
    if (!r.hasHistory || history === undefined) throw new ApiError(108);
    if (opts.reverse === true && opts.since !== undefined && opts.since.offset === 0) throw new ApiError(107);
    try {
      const res = await history.read(channel, {
        limit: opts.limit < 0 ? -1 : opts.limit,
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        ...(opts.reverse === true ? { reverse: true } : {}),
        metaTtlMs: this.ctx.publisher.metaTtl(r.options),
      });
      return { publications: res.publications, epoch: res.position.epoch, offset: res.position.offset };
    } catch (err) {
      throw toApiError(err);
    }
  }

  async historyRemove(channel: string): Promise<void> {
    const r = this.resolve(channel);
    const history = this.ctx.engine.history;
    if (!r.hasHistory || history === undefined) throw new ApiError(108);
    await history.remove(channel);
  }

  channels(pattern?: string): Promise<Record<string, { num_clients: number }>> {
    const re = pattern !== undefined && pattern !== '' ? globToRegExp(pattern) : undefined;
    const out: Record<string, { num_clients: number }> = {};
    for (const [channel, entry] of this.ctx.hub.channels) {
      if (re !== undefined && !re.test(channel)) continue;
      out[channel] = { num_clients: entry.subs.length };
    }
    return Promise.resolve(out);
  }

  info(): Promise<NodeInfo[]> {
    const hub = this.ctx.hub;
    return Promise.resolve([
      {
        uid: this.id.uid,
        name: this.id.name,
        version: this.ctx.version,
        num_clients: hub.numClients,
        num_users: hub.numUsers,
        num_channels: hub.numChannels,
        num_subs: hub.numSubs,
        uptime: Math.floor((Date.now() - this.id.startedAt) / 1000),
      },
    ]);
  }
}
