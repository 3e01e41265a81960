// One method per server API command (docs/protocol.md §6.3), calling the NodeApi facade, shared by the HTTP and
// GRPC APIs: results are codec-neutral (results.ts; payloads stay bytes). The only boundary of the API entry
// point: anything that is not an ApiError becomes 100, is logged and counted.
import type { Logger } from 'pino';
import type { ApiPublishOptions, ApiSubscribeOptions, NodeApi, NodeInfo } from '../core/types.js';
import { UnrecoverablePositionError } from '../engines/types.js';
import { observeApiCommand } from '../metrics/observe.js';
import { metrics } from '../metrics/registry.js';
import { ApiError, ProtocolError } from '../protocol/errors.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import { ApiErrors, errorBody } from './errors.js';
import { executeMap } from './map-executor.js';
import type { JsonObject } from './json.js';
import { batchReplyJson, resultJson } from './result-json.js';
import type { ApiOutcome, BatchOutcome, BroadcastResult, ChannelsResult, ClientInfoOut, NodeOut, PublicationOut, PublishResult } from './results.js';
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

function clientInfoOut(ci: ClientInfo): ClientInfoOut {
  return {
    user: ci.user,
    client: ci.client,
    conn_info: ci.conn_info !== undefined && ci.conn_info.byteLength > 0 ? ci.conn_info : undefined,
    chan_info: ci.chan_info !== undefined && ci.chan_info.byteLength > 0 ? ci.chan_info : undefined,
  };
}

function publicationOut(pub: Publication): PublicationOut {
  return {
    data: pub.data,
    info: pub.info !== undefined ? clientInfoOut(pub.info) : undefined,
    offset: pub.offset !== undefined && pub.offset > 0 ? pub.offset : undefined,
    tags: pub.tags !== undefined && Object.keys(pub.tags).length > 0 ? pub.tags : undefined,
  };
}

function nodeOut(n: NodeInfo): NodeOut {
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

  /** Runs one command. Resolves with its tagged result; rejects only with ApiError. */
  async execute(cmd: ApiCommand): Promise<ApiOutcome> {
    const started = process.hrtime.bigint();
    try {
      return await this.dispatch(cmd);
    } catch (err) {
      const apiErr = this.toApiError(err, cmd.method);
      metrics.apiCommandErrors.labels(this.protocol, cmd.method, String(apiErr.code)).inc();
      throw apiErr;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      observeApiCommand(this.protocol, cmd.method, seconds);
    }
  }

  /** Runs one command; resolves with its result as a JSON object (HTTP API); rejects only with ApiError. */
  async run(cmd: ApiCommand): Promise<JsonObject> {
    return resultJson(await this.execute(cmd));
  }

  /** One batch reply, an outcome or an error; never rejects. */
  async batchOutcome(item: BatchItem): Promise<BatchOutcome> {
    if (item === null) return { method: 'error', error: ApiErrors.badRequest() };
    if (item.method === 'unknown') return { method: 'error', error: ApiErrors.notFound() };
    try {
      return await this.execute(item);
    } catch (err) {
      return { method: 'error', error: err instanceof ApiError ? err : ApiErrors.internal() };
    }
  }

  /** The outcomes of a batch's commands in order, run one after another unless `parallel`. */
  async batchOutcomes(req: BatchReq): Promise<BatchOutcome[]> {
    if (req.parallel) return Promise.all(req.commands.map((c) => this.batchOutcome(c)));
    const out: BatchOutcome[] = [];
    for (const c of req.commands) out.push(await this.batchOutcome(c));
    return out;
  }

  /** `{"replies":[{"publish":{…}},{"error":{…}}]}`, sequential unless `parallel`. */
  async batch(req: BatchReq): Promise<JsonObject> {
    const replies = (await this.batchOutcomes(req)).map(batchReplyJson);
    // Centrifugo omits the empty list (protobuf JSON zero value): `{"commands":[]}` ⇒ `{}`.
    return replies.length > 0 ? { replies } : {};
  }

  /** One batch reply as JSON: `{"<method>":result}` or `{"error":…}`; never rejects. */
  async batchItem(item: BatchItem): Promise<JsonObject> {
    return batchReplyJson(await this.batchOutcome(item));
  }

  private toApiError(err: unknown, method: string): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof ProtocolError && API_CODES.has(err.code) && err.code !== 100) return new ApiError(err.code);
    if (err instanceof UnrecoverablePositionError) return new ApiError(112);
    this.logger.error({ err, method }, 'server API command failed');
    metrics.internalErrors.labels('api').inc();
    return ApiErrors.internal();
  }

  private async dispatch(cmd: ApiCommand): Promise<ApiOutcome> {
    switch (cmd.method) {
      case 'publish':
        return { method: cmd.method, result: await this.publish(cmd.req) };
      case 'broadcast':
        return { method: cmd.method, result: await this.broadcast(cmd.req) };
      case 'subscribe':
        await this.subscribe(cmd.req);
        return { method: cmd.method, result: {} };
      case 'unsubscribe': {
        const { user, channel, client, session } = cmd.req;
        await this.node.unsubscribe({ user, channel, ...opt('client', client), ...opt('session', session) });
        return { method: cmd.method, result: {} };
      }
      case 'disconnect': {
        const { user, client, session, whitelist, disconnect } = cmd.req;
        const t: Parameters<NodeApi['disconnect']>[0] = { user, ...opt('client', client), ...opt('session', session) };
        if (whitelist.length > 0) t.whitelist = whitelist;
        if (disconnect !== undefined && disconnect.code > 0) {
          t.code = disconnect.code;
          if (disconnect.reason !== '') t.reason = disconnect.reason;
        }
        await this.node.disconnect(t);
        return { method: cmd.method, result: {} };
      }
      case 'refresh': {
        const r = cmd.req;
        const t: Parameters<NodeApi['refresh']>[0] = { user: r.user, ...opt('client', r.client), ...opt('session', r.session) };
        if (r.expired) t.expired = true;
        if (r.expire_at > 0) t.expireAt = r.expire_at;
        const info = rawOrB64(r.info, r.b64info);
        if (info !== undefined) t.info = info;
        await this.node.refresh(t);
        return { method: cmd.method, result: {} };
      }
      case 'presence': {
        requireChannel(cmd.req.channel);
        const p = await this.node.presence(cmd.req.channel);
        const presence: Record<string, ClientInfoOut> = {};
        for (const [id, ci] of Object.entries(p)) presence[id] = clientInfoOut(ci);
        return { method: cmd.method, result: { presence } };
      }
      case 'presence_stats': {
        requireChannel(cmd.req.channel);
        const s = await this.node.presenceStats(cmd.req.channel);
        return { method: cmd.method, result: { num_clients: s.num_clients, num_users: s.num_users } };
      }
      case 'history': {
        const r = cmd.req;
        requireChannel(r.channel);
        const opts: Parameters<NodeApi['history']>[1] = { limit: r.limit };
        if (r.since !== undefined) opts.since = r.since;
        if (r.reverse) opts.reverse = true;
        const h = await this.node.history(r.channel, opts);
        return { method: cmd.method, result: { publications: h.publications.map(publicationOut), epoch: h.epoch, offset: h.offset } };
      }
      case 'history_remove':
        requireChannel(cmd.req.channel);
        await this.node.historyRemove(cmd.req.channel);
        return { method: cmd.method, result: {} };
      case 'channels': {
        const chs = await this.node.channels(cmd.req.pattern === '' ? undefined : cmd.req.pattern);
        const channels: ChannelsResult['channels'] = {};
        for (const [name, c] of Object.entries(chs)) channels[name] = c.num_clients > 0 ? { num_clients: c.num_clients } : {};
        return { method: cmd.method, result: { channels } };
      }
      case 'info':
        return { method: cmd.method, result: { nodes: (await this.node.info()).map(nodeOut) } };
      case 'rpc':
        // No server-side RPC extensions exist: a named method is simply not found.
        throw cmd.req.method === '' ? ApiErrors.badRequest() : ApiErrors.notFound();
      case 'map_publish':
      case 'map_remove':
      case 'map_read_state':
      case 'map_read_stream':
      case 'map_stats':
      case 'map_clear':
        return executeMap(this.node, cmd);
      case 'shared_poll_publish': {
        const r = cmd.req;
        if (this.node.sharedPollPublish === undefined) throw ApiErrors.notAvailable();
        const data = rawOrB64(r.data, r.b64data) ?? new Uint8Array(0);
        await this.node.sharedPollPublish({ channel: r.channel, key: r.key, version: r.version, epoch: r.epoch, data });
        return { method: cmd.method, result: {} };
      }
    }
  }

  private async publish(r: PublishReq): Promise<PublishResult> {
    requireChannel(r.channel);
    const data = payloadData(r);
    const res = await this.node.publish(r.channel, data, publishOptions(r));
    return publishResult(res);
  }

  private async broadcast(r: BroadcastReq): Promise<BroadcastResult> {
    if (r.channels.length === 0) throw ApiErrors.badRequest();
    const data = payloadData(r);
    const opts = publishOptions(r);
    const responses = await Promise.all(
      r.channels.map(async (channel): Promise<BroadcastResult['responses'][number]> => {
        if (channel === '') return { error: errorBody(ApiErrors.badRequest()) };
        try {
          return { result: publishResult(await this.node.publish(channel, data, opts)) };
        } catch (err) {
          return { error: errorBody(this.toApiError(err, 'broadcast')) };
        }
      }),
    );
    return { responses };
  }

  private async subscribe(r: SubscribeReq): Promise<void> {
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
  }
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

function publishResult(res: { offset?: number; epoch?: string }): PublishResult {
  return {
    offset: res.offset !== undefined && res.offset > 0 ? res.offset : undefined,
    epoch: res.epoch !== undefined && res.epoch !== '' ? res.epoch : undefined,
  };
}
