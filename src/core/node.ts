// The node: composition of hub, fan-out, publisher and sessions; the NodeApi facade used by the HTTP API and
// the SessionAcceptor used by transports.
import { randomUUID } from 'node:crypto';
import { nodeName } from './node-name.js';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/types.js';
import type { GyreConfig } from '../config/types.js';
import { withActionCounts } from './engine-actions.js';
import { withMessageCounts } from './broker-messages.js';
import { clusterUserConnections, type UserConnections } from './user-connections.js';
import type { Engine } from '../engines/types.js';
import { NO_PROXIES } from '../proxy/none.js';
import type { ProxyRegistry } from '../proxy/types.js';
import { codecFor } from '../protocol/index.js';
import { Disconnects, Unsubscribe } from '../protocol/errors.js';
import { UnsubscribeCode } from '../protocol/codes.js';
import type { ClientInfo, Publication, StreamPosition } from '../protocol/types.js';
import type { EmulationOutcome, SessionAcceptor, SessionPort, Transport } from '../transports/types.js';
import { encodeEmulationRequest, type EmulationRequest } from '../protocol/emulation.js';
import { EMULATION_OP } from './emulation.js';
import { metrics } from '../metrics/registry.js';
import { ApiNode } from './api-node.js';
import { checkEngineCapabilities } from './capabilities.js';
import { dispatchCommand } from './commands/index.js';
import { ControlPlane } from './control/plane.js';
import type { CoreContext } from './context.js';
import { Fanout } from './fanout.js';
import { MapApi } from './map/api.js';
import { mapDelivery } from './map/delivery.js';
import { withMapMetrics } from './map/metered.js';
import { Hub } from './hub.js';
import { buildLiveParts, type LiveParts } from './live.js';
import { Session } from './session.js';
import { SharedPollManager } from './shared-poll/manager.js';
import { DEFAULT_CONCURRENCY_LIMIT } from './shared-poll/options.js';
import { sharedPollRefresher } from './shared-poll/refresh.js';
import { checkSharedPollPublish } from './shared-poll/publish.js';
import { encodePublishSurvey, SHARED_POLL_PUBLISH_OP } from './shared-poll/publish-survey.js';
import { drainMetrics, drainSessions, effectiveDrainWindow } from './shutdown.js';
import { answerSurvey } from './survey-handlers.js';
import { applyUserCommand } from './user-commands.js';
import type {
  ApiPublishOptions,
  ApiPublishResult,
  ApiSubscribeOptions,
  ApiTarget,
  NodeApi,
  NodeInfo,
  NodeOptions,
  SharedPollPublishRequest,
} from './types.js';

export interface NodeStats {
  clients: number;
  users: number;
  subscriptions: number;
  channels: number;
}

const closedPort: SessionPort = {
  handleFrame: () => undefined,
  handleTransportClose: () => undefined,
};

export class Node implements NodeApi, SessionAcceptor {
  readonly uid: string = randomUUID();
  readonly name: string;
  readonly startedAt = Date.now();
  readonly hub: Hub;
  readonly ctx: CoreContext;
  /** The cluster control plane (heartbeats, node registry, cross-node commands and surveys). */
  readonly cluster: ControlPlane;
  private readonly api: ApiNode;
  /** The map_* server API methods. */
  readonly map: MapApi;
  private readonly fanout: Fanout;
  private readonly engine: Engine;
  private readonly config: GyreConfig;
  private readonly logger: Logger;
  /** Shared poll channels polled by this node (docs/shared-poll.md). */
  readonly sharedPoll: SharedPollManager;
  private shuttingDownFlag = false;
  /** Config, resolver, publisher and token verifier; replaced as a whole by reconfigure(). */
  private live: LiveParts;
  private shutdownPromise: Promise<void> | undefined;

  constructor(opts: NodeOptions) {
    this.config = opts.config;
    // Every use of the broker goes through this one (node message counts, ./broker-messages.ts).
    this.engine = withMessageCounts(opts.engine);
    this.logger = opts.logger;
    this.name = nodeName(opts.config.node.name, opts.config.http_server.port, opts.workerSlot);
    this.hub = new Hub(this.engine.broker, (err, channel) => {
      metrics.internalErrors.inc({ entry: 'engine' });
      this.logger.error({ err, channel }, 'broker subscription change failed');
    });
    const codecs = { json: codecFor('json'), protobuf: codecFor('protobuf') };
    const isShuttingDown = (): boolean => this.shuttingDownFlag;
    this.live = buildLiveParts(opts.config, this.engine.broker, opts.tokenVerifier, opts.proxies ?? NO_PROXIES);
    const live = (): LiveParts => this.live;
    const limit = opts.config.shared_poll?.concurrency_limit ?? 0;
    this.sharedPoll = new SharedPollManager({
      refresher: sharedPollRefresher(() => live().proxies),
      concurrencyLimit: limit > 0 ? limit : DEFAULT_CONCURRENCY_LIMIT,
      logger: opts.logger,
      insufficientState: (subs) => {
        for (const sp of subs) sp.session.unsubscribeWith(sp.sub, Unsubscribe.of(UnsubscribeCode.InsufficientState));
      },
    });
    this.ctx = {
      get config(): GyreConfig {
        return live().config;
      },
      engine: withActionCounts(this.engine),
      mapBroker: opts.mapBroker !== undefined ? withMapMetrics(opts.mapBroker) : undefined,
      hub: this.hub,
      get resolver() {
        return live().resolver;
      },
      get publisher() {
        return live().publisher;
      },
      get tokenVerifier() {
        return live().tokenVerifier;
      },
      get proxies() {
        return live().proxies;
      },
      logger: opts.logger,
      version: opts.version,
      nodeId: this.uid,
      codecs,
      dispatch: dispatchCommand,
      sharedPoll: this.sharedPoll,
      get shuttingDown(): boolean {
        return isShuttingDown();
      },
    };
    this.fanout = new Fanout(this.hub, codecs.json, codecs.protobuf);
    const ctx = this.ctx;
    this.cluster = new ControlPlane({
      uid: this.uid,
      controller: opts.engine.controller,
      logger: opts.logger,
      handlers: {
        nodeInfo: () => this.api.nodeInfo(),
        apply: (cmd) => applyUserCommand(ctx, cmd),
        survey: (op, data) => answerSurvey(ctx, op, data),
      },
      ...opts.control,
    });
    this.api = new ApiNode(this.ctx, this, this.cluster);
    this.map = new MapApi(this.ctx);
  }

  /** Checks the namespaces against the engine (ConfigError when one does not fit), then starts the engine parts. */
  async start(): Promise<void> {
    checkEngineCapabilities(this.config, this.engine);
    await this.engine.broker.start(this.fanout);
    this.ctx.mapBroker?.start(mapDelivery(this.fanout));
    await this.cluster.start();
  }

  get shuttingDown(): boolean {
    return this.shuttingDownFlag;
  }

  get connectedClients(): number {
    return this.hub.numClients;
  }

  /**
   * Config reload: new commands of every session (connected or not) use `config` (namespaces, channel options,
   * limits) and `tokenVerifier`. Keys that only matter at start-up are the caller's business (config/diff.ts).
   * Throws ConfigError, changing nothing, when a namespace does not fit the engine.
   */
  reconfigure(config: Readonly<GyreConfig>, tokenVerifier: TokenVerifier, proxies?: ProxyRegistry): void {
    checkEngineCapabilities(config, this.engine); // ConfigError, before anything changes
    this.live = buildLiveParts(config, this.engine.broker, tokenVerifier, proxies ?? this.live.proxies);
  }

  accept(transport: Transport): SessionPort {
    if (this.shuttingDownFlag) {
      transport.close(Disconnects.shutdown());
      return closedPort;
    }
    return new Session(this.ctx, transport);
  }

  async emulate(req: EmulationRequest): Promise<EmulationOutcome> {
    if (!this.cluster.registry.has(req.node)) return 'node_not_found';
    try {
      const outcome = await this.cluster.survey(EMULATION_OP, encodeEmulationRequest(req), req.node);
      return outcome.answers.has(req.node) ? 'ok' : 'failed';
    } catch (err) {
      this.logger.warn({ err, node: req.node }, 'emulation request not delivered');
      return 'failed';
    }
  }

  /** Closes every session with 3001 (paced, jittered, bounded), then the engine. Idempotent. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    // From here on readiness answers 503 and new upgrades are refused with 503 (transports/admission.ts).
    this.shuttingDownFlag = true;
    drainMetrics.draining.set(1);
    const sd = this.config.shutdown;
    // Pre-drain delay: load balancers and Kubernetes endpoints need a moment to stop sending new clients here.
    if (sd.pre_drain_delay > 0) await new Promise((resolve) => setTimeout(resolve, sd.pre_drain_delay));
    await this.cluster.close(); // the others drop this node from `info` and surveys at once
    const sessions = [...this.hub.sessions.values()];
    const windowMs = effectiveDrainWindow(sd.drain_duration, sd.timeout, sd.pre_drain_delay);
    this.logger.info({ clients: sessions.length, windowMs }, 'draining clients');
    await drainSessions(sessions, { windowMs });
    this.sharedPoll.close();
    try {
      await this.ctx.mapBroker?.close();
      await this.engine.close();
    } catch (err) {
      this.logger.error({ err }, 'engine close failed');
    }
  }

  /** Values for the gauges (refreshed by the metrics endpoint on scrape). */
  stats(): NodeStats {
    return {
      clients: this.hub.numClients,
      users: this.hub.numUsers,
      subscriptions: this.hub.numSubs,
      channels: this.hub.numChannels,
    };
  }

  /** Every live node's connections of `user` (the admin Connections page). */
  userConnections(user: string): Promise<UserConnections> {
    return clusterUserConnections(this.cluster, this.logger, user);
  }

  // ---- NodeApi (delegated)

  publish(channel: string, data: Uint8Array, opts: ApiPublishOptions): Promise<ApiPublishResult> {
    return this.api.publish(channel, data, opts);
  }
  subscribe(opts: ApiSubscribeOptions): Promise<void> {
    return this.api.subscribe(opts);
  }
  unsubscribe(target: ApiTarget & { channel: string }): Promise<void> {
    return this.api.unsubscribe(target);
  }
  disconnect(target: ApiTarget & { whitelist?: string[]; code?: number; reason?: string }): Promise<void> {
    return this.api.disconnect(target);
  }
  refresh(target: ApiTarget & { expired?: boolean; expireAt?: number; info?: Uint8Array }): Promise<void> {
    return this.api.refresh(target);
  }
  presence(channel: string): Promise<Record<string, ClientInfo>> {
    return this.api.presence(channel);
  }
  presenceStats(channel: string): Promise<{ num_clients: number; num_users: number }> {
    return this.api.presenceStats(channel);
  }
  history(
    channel: string,
    opts: { limit: number; since?: StreamPosition; reverse?: boolean },
  ): Promise<{ publications: Publication[]; epoch: string; offset: number }> {
    return this.api.history(channel, opts);
  }
  historyRemove(channel: string): Promise<void> {
    return this.api.historyRemove(channel);
  }
  channels(pattern?: string): Promise<Record<string, { num_clients: number }>> {
    return this.api.channels(pattern);
  }
  info(): Promise<NodeInfo[]> {
    return this.api.info();
  }
  /** Checked here, then applied on every node (this one included) through a cluster survey. */
  async sharedPollPublish(req: SharedPollPublishRequest): Promise<void> {
    checkSharedPollPublish(this.live.resolver, req);
    try {
      await this.cluster.survey(SHARED_POLL_PUBLISH_OP, encodePublishSurvey(req));
    } catch (err) {
      // The control bus failed: this node's trackers still get it (a repeat is skipped by its version).
      this.logger.warn({ err, channel: req.channel }, 'shared poll publish not sent to the cluster');
      this.sharedPoll.publish(req.channel, req.key, req.version, req.epoch, req.data);
    }
  }
}

