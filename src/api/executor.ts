// One method per server API command (docs/protocol.md §6.3), calling the NodeApi facade. The only boundary of
// the API entry point: anything that is not an ApiError becomes 100, is logged and counted.
import type { Logger } from 'pino';
import type { ApiPublishOptions, ApiSubscribeOptions, NodeApi, NodeInfo } from '../core/types.js';
import { UnrecoverablePositionError } from '../engines/types.js';
import { metrics } from '../metrics/registry.js';
import { ApiError, ProtocolError } from '../protocol/errors.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import { ApiErrors, errorBody } from './errors.js';
import { rawField, rawOrBase64 } from './json.js';
import type { JsonObject, JsonOut } from './json.js';
import type { ApiCommand, BatchItem, BatchReq, BroadcastReq, PublishPayload, PublishReq, SubscribeReq } from './schemas.js';

const API_CODES = new Set([100, 102, 104, 107, 108, 112, 113]);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(s: string): Uint8Array {
  if (!BASE64.test(s)) throw ApiErrors.badRequest();
  return Buffer.from(s, 'base64');
}

/** The payload of a publish: `b64data` wins when set; empty or missing ⇒ 107. */
function payloadData(p: PublishPayload): Uint8Array {
  const data = p.b64data !== undefined && p.b64data !== '' ? decodeBase64(p.b64data) : p.data;
  if (data === undefined || data.byteLength === 0) throw ApiErrors.badRequest();
  return data;
}

function rawOrB64(raw: Uint8Array | undefined, b64: string | undefined): Uint8Array | undefined {
  if (b64 !== undefined && b64 !== '') return decodeBase64(b64);
  return raw;
}

function clientInfoJson(ci: ClientInfo): JsonObject {
  return {
    user: ci.user,
    client: ci.client,
    conn_info: ci.conn_info !== undefined && ci.conn_info.byteLength > 0 ? rawField(ci.conn_info) : undefined,
    chan_info: ci.chan_info !== undefined && ci.chan_info.byteLength > 0 ? rawField(ci.chan_info) : undefined,
  };
}

function publicationJson(pub: Publication): JsonObject {
  const d = rawOrBase64(pub.data);
  return {
    data: 'raw' in d ? d.raw : undefined,
    b64data: 'b64' in d ? d.b64 : undefined,
    info: pub.info !== undefined ? clientInfoJson(pub.info) : undefined,
    offset: pub.offset !== undefined && pub.offset > 0 ? pub.offset : undefined,
    tags: pub.tags !== undefined && Object.keys(pub.tags).length > 0 ? pub.tags : undefined,
  };
}

function nodeInfoJson(n: NodeInfo): JsonObject {
  return {
    uid: n.uid,
    name: n.name,
    version: n.version,
    num_clients: n.num_clients,
    num_users: n.num_users,
    num_channels: n.num_channels,
    uptime: n.uptime > 0 ? n.uptime : undefined,
    num_subs: n.num_subs,
  };
}

function requireChannel(channel: string): void {
  if (channel === '') throw ApiErrors.badRequest();
}

export class ApiExecutor {
  constructor(
    private readonly node: NodeApi,
    private readonly logger: Logger,
    private readonly protocol = 'http',
  ) {}

  /** Runs one command. Resolves with its result object; rejects only with ApiError. */
  async run(cmd: ApiCommand): Promise<JsonObject> {
    const started = process.hrtime.bigint();
    try {
      return await this.dispatch(cmd);
    } catch (err) {
      const apiErr = this.toApiError(err, cmd.method);
      metrics.apiCommandErrors.labels(this.protocol, cmd.method, String(apiErr.code)).inc();
      throw apiErr;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.apiCommandDuration.labels(this.protocol, cmd.method).observe(seconds);
    }
  }

  /** `{"replies":[{"publish":{…}},{"error":{…}}]}`, sequential unless `parallel`. */
  async batch(req: BatchReq): Promise<JsonObject> {
    let replies: JsonOut[];
    if (req.parallel) {
      replies = await Promise.all(req.commands.map((c) => this.batchItem(c)));
    } else {
      replies = [];
      for (const c of req.commands) replies.push(await this.batchItem(c));
    }
    // Centrifugo omits the empty list (protobuf JSON zero value): `{"commands":[]}` ⇒ `{}`.
    return replies.length > 0 ? { replies } : {};
  }

  /** One batch reply: `{"<method>":result}` or `{"error":…}`; never rejects. */
  async batchItem(item: BatchItem): Promise<JsonObject> {
    if (item === null) return { error: errorBody(ApiErrors.badRequest()) };
    if (item.method === 'unknown') return { error: errorBody(ApiErrors.notFound()) };
    try {
      return { [item.method]: await this.run(item) };
    } catch (err) {
      return { error: errorBody(err instanceof ApiError ? err : ApiErrors.internal()) };
    }
  }

  private toApiError(err: unknown, method: string): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof ProtocolError && API_CODES.has(err.code) && err.code !== 100) return new ApiError(err.code);
    if (err instanceof UnrecoverablePositionError) return new ApiError(112);
    this.logger.error({ err, method }, 'server API command failed');
    metrics.internalErrors.labels('api').inc();
    return ApiErrors.internal();
  }

  private dispatch(cmd: ApiCommand): Promise<JsonObject> {
    switch (cmd.method) {
      case 'publish':
        return this.publish(cmd.req);
      case 'broadcast':
        return this.broadcast(cmd.req);
      case 'subscribe':
        return this.subscribe(cmd.req);
      case 'unsubscribe': {
        const { user, channel, client, session } = cmd.req;
        return this.node.unsubscribe({ user, channel, ...opt('client', client), ...opt('session', session) }).then(empty);
      }
      case 'disconnect': {
        const { user, client, session, whitelist, disconnect } = cmd.req;
        const t: Parameters<NodeApi['disconnect']>[0] = { user, ...opt('client', client), ...opt('session', session) };
        if (whitelist.length > 0) t.whitelist = whitelist;
        if (disconnect !== undefined && disconnect.code > 0) {
          t.code = disconnect.code;
          if (disconnect.reason !== '') t.reason = disconnect.reason;
        }
        return this.node.disconnect(t).then(empty);
      }
      case 'refresh': {
        const r = cmd.req;
        const t: Parameters<NodeApi['refresh']>[0] = { user: r.user, ...opt('client', r.client), ...opt('session', r.session) };
        if (r.expired) t.expired = true;
        if (r.expire_at > 0) t.expireAt = r.expire_at;
        const info = rawOrB64(r.info, r.b64info);
        if (info !== undefined) t.info = info;
        return this.node.refresh(t).then(empty);
      }
      case 'presence':
        requireChannel(cmd.req.channel);
        return this.node.presence(cmd.req.channel).then((p) => {
          const presence: Record<string, JsonOut> = {};
          for (const [id, ci] of Object.entries(p)) presence[id] = clientInfoJson(ci);
          return { presence };
        });
      case 'presence_stats':
        requireChannel(cmd.req.channel);
        return this.node.presenceStats(cmd.req.channel).then((s) => ({ num_clients: s.num_clients, num_users: s.num_users }));
      case 'history': {
        const r = cmd.req;
        requireChannel(r.channel);
        const opts: Parameters<NodeApi['history']>[1] = { limit: r.limit };
        if (r.since !== undefined) opts.since = r.since;
        if (r.reverse) opts.reverse = true;
        return this.node.history(r.channel, opts).then((h) => ({
          publications: h.publications.map(publicationJson),
          epoch: h.epoch,
          offset: h.offset,
        }));
      }
      case 'history_remove':
        requireChannel(cmd.req.channel);
        return this.node.historyRemove(cmd.req.channel).then(empty);
      case 'channels':
        return this.node.channels(cmd.req.pattern === '' ? undefined : cmd.req.pattern).then((chs) => {
          const channels: Record<string, JsonOut> = {};
          for (const [name, c] of Object.entries(chs)) channels[name] = c.num_clients > 0 ? { num_clients: c.num_clients } : {};
          return { channels };
        });
      case 'info':
        return this.node.info().then((nodes) => ({ nodes: nodes.map(nodeInfoJson) }));
      case 'rpc':
        // No server-side RPC extensions exist: a named method is simply not found.
        return Promise.reject(cmd.req.method === '' ? ApiErrors.badRequest() : ApiErrors.notFound());
    }
  }

  private async publish(r: PublishReq): Promise<JsonObject> {
    requireChannel(r.channel);
    const data = payloadData(r);
    const res = await this.node.publish(r.channel, data, publishOptions(r));
    return publishResultJson(res);
  }

  private async broadcast(r: BroadcastReq): Promise<JsonObject> {
    if (r.channels.length === 0) throw ApiErrors.badRequest();
    const data = payloadData(r);
    const opts = publishOptions(r);
    const responses = await Promise.all(
      r.channels.map(async (channel): Promise<JsonObject> => {
        if (channel === '') return { error: errorBody(ApiErrors.badRequest()) };
        try {
          return { result: publishResultJson(await this.node.publish(channel, data, opts)) };
        } catch (err) {
          return { error: errorBody(this.toApiError(err, 'broadcast')) };
        }
      }),
    );
    return { responses };
  }

  private async subscribe(r: SubscribeReq): Promise<JsonObject> {
    requireChannel(r.channel);
    const o: ApiSubscribeOptions = { user: r.user, channel: r.channel, ...opt('client', r.client), ...opt('session', r.session) };
    const info = rawOrB64(r.info, r.b64info);
    if (info !== undefined) o.info = info;
    const data = rawOrB64(r.data, r.b64data);
    if (data !== undefined) o.data = data;
    if (r.recover_since !== undefined) o.recoverSince = r.recover_since;
    if (r.expire_at > 0) o.expireAt = r.expire_at;
    if (r.override !== undefined) o.override = r.override;
    await this.node.subscribe(o);
    return {};
  }
}

function empty(): JsonObject {
  return {};
}

function opt<K extends string>(key: K, value: string): Partial<Record<K, string>> {
  return value === '' ? {} : ({ [key]: value } as Record<K, string>);
}

function publishOptions(p: PublishPayload): ApiPublishOptions {
  const o: ApiPublishOptions = {};
  if (p.skip_history) o.skipHistory = true;
  if (p.tags !== undefined && Object.keys(p.tags).length > 0) o.tags = p.tags;
  if (p.idempotency_key !== '') o.idempotencyKey = p.idempotency_key;
  if (p.delta) o.delta = true;
  return o;
}

function publishResultJson(res: { offset?: number; epoch?: string }): JsonObject {
  return {
    offset: res.offset !== undefined && res.offset > 0 ? res.offset : undefined,
    epoch: res.epoch !== undefined && res.epoch !== '' ? res.epoch : undefined,
  };
}
