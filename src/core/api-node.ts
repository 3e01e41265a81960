// The server-API half of the node (docs/protocol.md §6.3 semantics): each method maps protocol errors to ApiError.
// User-targeted methods (subscribe, unsubscribe, disconnect, refresh) go to the whole cluster through the control
// plane and are applied here by the same code that applies them from other nodes; `channels` is a survey of every
// node; `info` lists every live node.
import { ApiError, ProtocolError, Unsubscribe } from '../protocol/errors.js';
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
import { checkPublicationData } from './commands/publish.js';
import { CHANNELS_OP, decodeChannelsResult, encodeChannelsRequest } from './control/channels-survey.js';
import type { ControlTarget, NodeInfoMessage } from './control/messages.js';
import type { ControlPlane, UserCommand } from './control/plane.js';

const API_CODES = new Set([100, 102, 104, 107, 108, 112, 113]);

/** Centrifugo's subscription source number for a server API subscribe. */
const SUBSCRIPTION_SOURCE_SERVER_API = 10;

/** The control-plane target of an API request (Gyre's API always names a user). */
function target(t: ApiTarget): ControlTarget {
  return { user: t.user, client: t.client ?? '', session: t.session ?? '', allUsers: false, labelFilter: false };
}

function toApiError(err: unknown): unknown {
  if (err instanceof ProtocolError) return new ApiError(API_CODES.has(err.code) ? err.code : 100);
  if (err instanceof UnrecoverablePositionError) return new ApiError(112);
  return err;
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
    private readonly cluster: ControlPlane,
  ) {}

  private resolve(channel: string): ResolvedChannel {
    if (channel === '') throw new ApiError(107);
    try {
      return this.ctx.resolver.resolve(channel);
    } catch (err) {
      throw toApiError(err);
    }
  }

  /** Sends a user command to the cluster and applies it here; errors become ApiErrors. */
  private async broadcast(cmd: UserCommand): Promise<void> {
    try {
      await this.cluster.broadcast(cmd);
    } catch (err) {
      throw toApiError(err);
    }
  }

  async publish(channel: string, data: Uint8Array, opts: ApiPublishOptions): Promise<ApiPublishResult> {
    const r = this.resolve(channel);
    // Publications go to stream channels only (shared poll has shared_poll_publish), as Centrifugo answers.
    const type = r.options.subscription_type;
    if (type !== '' && type !== 'stream') throw new ApiError(107);
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
      ...(opts.delta === true ? { delta: true } : {}),
    });
    return res.position !== undefined ? { offset: res.position.offset, epoch: res.position.epoch } : {};
  }

  async subscribe(o: ApiSubscribeOptions): Promise<void> {
    const r = this.resolve(o.channel);
    // Server-side flags depend only on the namespace and the override, so this node resolves them for all.
    const flags = resolveSubscribeOptions({ r, user: o.user, insecure: this.ctx.config.client.insecure, override: o.override });
    await this.broadcast({
      kind: 'subscribe',
      ...target(o),
      channel: o.channel,
      presence: flags.presence,
      joinLeave: flags.joinLeave,
      pushJoinLeave: flags.pushJoinLeave,
      positioned: flags.positioned,
      recoverable: flags.recoverable,
      expireAt: o.expireAt ?? 0,
      source: SUBSCRIPTION_SOURCE_SERVER_API,
      ...(o.info !== undefined ? { chanInfo: o.info } : {}),
      ...(o.data !== undefined ? { data: o.data } : {}),
      ...(o.recoverSince !== undefined ? { recoverSince: o.recoverSince } : {}),
    });
  }

  async unsubscribe(t: ApiTarget & { channel: string }): Promise<void> {
    if (t.channel !== '') this.resolve(t.channel);
    const u = Unsubscribe.of(UnsubscribeCode.ServerUnsubscribe);
    await this.broadcast({ kind: 'unsubscribe', ...target(t), channel: t.channel, code: u.code, reason: u.reason });
  }

  async disconnect(t: ApiTarget & { whitelist?: string[]; code?: number; reason?: string }): Promise<void> {
    const code = t.code !== undefined && t.code > 0 ? t.code : DisconnectCode.ForceNoReconnect;
    const known = (disconnectReasons as Readonly<Record<number, string>>)[code];
    const reason = t.reason !== undefined && t.reason !== '' ? t.reason : (known ?? 'force disconnect');
    await this.broadcast({ kind: 'disconnect', ...target(t), whitelist: t.whitelist ?? [], code, reason });
  }

  async refresh(t: ApiTarget & { expired?: boolean; expireAt?: number; info?: Uint8Array }): Promise<void> {
    await this.broadcast({
      kind: 'refresh',
      ...target(t),
      expired: t.expired === true,
      expireAt: t.expireAt ?? 0,
      ...(t.info !== undefined ? { info: t.info } : {}),
    });
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

  /** Merged over every live node with a `channels` survey (this node answers directly). */
  async channels(pattern?: string): Promise<Record<string, { num_clients: number }>> {
    const outcome = await this.cluster.survey(CHANNELS_OP, encodeChannelsRequest(pattern ?? ''));
    if (!outcome.complete) {
      this.ctx.logger.error({ answered: outcome.answers.size }, 'channels: survey timed out');
      throw new ApiError(100);
    }
    const out: Record<string, { num_clients: number }> = {};
    for (const [uid, a] of outcome.answers) {
      let counts: Map<string, number>;
      try {
        if (a.code !== 0) throw new Error(`survey answer code ${a.code}`);
        counts = decodeChannelsResult(a.data);
      } catch (err) {
        this.ctx.logger.error({ err, node: uid }, 'channels: bad survey answer');
        throw new ApiError(100);
      }
      for (const [ch, n] of counts) out[ch] = { num_clients: (out[ch]?.num_clients ?? 0) + n };
    }
    return out;
  }

  /** Every live node with its counts (this node's are current, the others' from their last heartbeat). */
  info(): Promise<NodeInfo[]> {
    const self = this.nodeInfo();
    const out: NodeInfo[] = [];
    for (const n of this.cluster.nodes()) out.push(toApiNodeInfo(n.uid === self.uid ? self : n));
    if (!out.some((n) => n.uid === self.uid)) out.push(toApiNodeInfo(self));
    return Promise.resolve(out);
  }

  /** This node's heartbeat content. */
  nodeInfo(): NodeInfoMessage {
    const hub = this.ctx.hub;
    return {
      uid: this.id.uid,
      name: this.id.name,
      version: this.ctx.version,
      numClients: hub.numClients,
      numUsers: hub.numUsers,
      numChannels: hub.numChannels,
      numSubs: hub.numSubs,
      uptime: Math.floor((Date.now() - this.id.startedAt) / 1000),
    };
  }
}

function toApiNodeInfo(n: NodeInfoMessage): NodeInfo {
  return {
    uid: n.uid,
    name: n.name,
    version: n.version,
    num_clients: n.numClients,
    num_users: n.numUsers,
    num_channels: n.numChannels,
    num_subs: n.numSubs,
    uptime: n.uptime,
  };
}
