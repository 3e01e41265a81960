// Composition root: the only module that knows every piece (concrete engines via app-engines.ts). config → engine
// (checked against the namespaces) → token verifier → Node →
// HTTP server(s) with the WebSocket transport, server API, health and metrics endpoints → async consumers; the GRPC
// API and uni_grpc on their own ports. The main server listens through a front that answers WebSocket upgrades without Node's http
// machinery.
import { MemoryMapBroker } from './engines/memory/map-broker.js';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { AdminHandler } from './admin/http.js';
import { LiveSampler } from './admin/live.js';
import { UiAssets } from './admin/ui-assets.js';
import { ApiHandler } from './api/handler.js';
import { GrpcApiServer } from './grpc/api-service.js';
import { grpcCredentials } from './grpc/server.js';
import { UniGrpcServer } from './grpc/uni-stream.js';
import { createEngine, engineFactories, workerEngineFactories } from './app-engines.js';
import { resolveWorkers } from './cluster/count.js';
import { installShareCap, type ShareCap } from './cluster/share-cap.js';
import { ListenCopies } from './cluster/listen-copies.js';
import { primaryOwnsMainSocket } from './cluster/main-socket.js';
import type { WorkerLink } from './cluster/worker.js';
import { createTokenVerifier } from './auth/jwt.js';
import { closeConsumers, createConsumers, startConsumers } from './consumers/index.js';
import type { GyreConfig } from './config/types.js';
import { Node } from './core/node.js';
import { createProxies } from './proxy/registry.js';
import type { ProxyRegistry } from './proxy/types.js';
import { healthHandler } from './http/health.js';
import { metricsHandler } from './http/metrics.js';
import { Router, sendText } from './http/router.js';
import { closeFront, closeServer, createHttpServer, listen, listenFamily } from './http/server.js';
import { serverTls } from './http/tls.js';
import { rejectionLogFor } from './util/rejection-log.js';
import { readSomaxconn } from './metrics/host-tcp.js';
import { metrics, registry } from './metrics/registry.js';
import { enableRecoveredPublications } from './metrics/observe.js';
import { setMetricsLogger } from './metrics/update-errors.js';
import { HttpFront } from './http/front.js';
import { rejectUpgrade } from './transports/upgrade.js';
import { WebSocketHandler } from './transports/websocket.js';
import { admissionLimits } from './transports/admission.js';
import { RateBucket } from './transports/rate-bucket.js';
import { mountHttpTransports, type HttpTransports } from './app-transports.js';
import { UpgradeRouter } from './transports/upgrade-router.js';
import { FdWatch, installFdWatch, readFdLimits } from './metrics/fds.js';
import { readinessHandler } from './http/health.js';
import { VERSION } from './version.js';

export interface RunningServer {
  /** This node's id (the control plane's uid). */
  nodeId: string;
  /** Bound port of the main (external) server. */
  port: number;
  /** Bound port of the internal server (API, health, metrics); equals `port` when there is one server. */
  internalPort: number;
  node: Node;
  /**
   * Config reload (src/cli/reload.ts hands over a config whose restart-only keys are unchanged): token verifier,
   * namespaces and channel options, client limits, Origin check, API key. Throws, changing nothing, when the new
   * token keys cannot be used or a namespace does not fit the engine (ConfigError). No connection is dropped.
   */
  reconfigure(config: Readonly<GyreConfig>): void;
  /** Graceful stop: stop accepting, 3001 to every client, close the engine and the servers. Idempotent. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Set in a worker process (`node.workers` > 1): the memory engine is the primary's, /metrics is merged. */
  worker?: WorkerLink | undefined;
  /** Handshakes per second measured by the start-up warm-up: the admission guard's prior (transports/admission.ts). */
  handshakeRate?: number | undefined;
}

export async function startServer(config: Readonly<GyreConfig>, opts: StartOptions): Promise<RunningServer> {
  const { logger, worker } = opts;
  const version = VERSION;
  metrics.build.labels(`${version} Gyre`).set(1);
  setMetricsLogger(logger);
  // Certificates are read (and a bad one refused) before anything starts.
  const tls = serverTls(config.http_server);
  const grpcApiCreds = config.grpc_api.enabled ? grpcCredentials(config.grpc_api.tls, 'grpc_api.tls') : undefined;
  const uniGrpcCreds = config.uni_grpc.enabled ? grpcCredentials(config.uni_grpc.tls, 'uni_grpc.tls') : undefined;

  const engine = await createEngine(config, logger, worker !== undefined ? workerEngineFactories(logger) : engineFactories);
  const tokenVerifier = createTokenVerifier(config.client);
  let proxies: ProxyRegistry;
  try {
    proxies = createProxies(config);
  } catch (err) {
    await engine.close().catch(() => undefined);
    throw err;
  }
  const mapBroker = new MemoryMapBroker(); // map subscriptions (validate-map.ts refuses the other map brokers)
  const node = new Node({ config, engine, tokenVerifier, proxies, logger, version: `${version} Gyre`, mapBroker, workerSlot: worker?.slot });
  try {
    await node.start();
  } catch (err) {
    proxies.close();
    await engine.close().catch(() => undefined);
    throw err;
  }

  // Async consumers (src/consumers): built now, started once the ports are open, stopped before the drain.
  const consumers = createConsumers(config.consumers ?? [], node, logger, Math.min(5000, config.shutdown.timeout / 4));

  const hs = config.http_server;
  const internalAddress = hs.internal_address === '' ? hs.address : hs.internal_address;
  const internalPortCfg = hs.internal_port === 0 ? hs.port : hs.internal_port;
  const separate = internalPortCfg !== hs.port || internalAddress !== hs.address;

  const mainRouter = new Router();
  const internalRouter = separate ? new Router() : mainRouter;

  // Node itself raises the soft RLIMIT_NOFILE to the hard limit when it starts (its PlatformInit); what is left
  // to do is saying so when that is still too low.
  const softLimit = readFdLimits()?.soft ?? Infinity;
  const wanted = config.client.connection_limit;
  if (softLimit < wanted + hs.fd_reserve) {
    logger.warn(
      { fd_limit: softLimit, connection_limit: wanted, fd_reserve: hs.fd_reserve },
      'open-files limit below client.connection_limit + http_server.fd_reserve: raise LimitNOFILE / ulimit -n',
    );
  } else if (wanted === 0 && softLimit < 16_384) {
    logger.info({ fd_limit: softLimit }, 'open-files limit caps this node at about that many connections (admission refuses with reason fds near it)');
  }
  const fds = new FdWatch(hs.fd_reserve);
  installFdWatch(fds);
  let ws: WebSocketHandler | undefined;
  let api: ApiHandler | undefined;
  // Worker processes split client.connection_rate_limit, so the node keeps to N per second (docs/storm.md §1).
  const processes = worker === undefined ? 1 : resolveWorkers(config.node.workers);
  // One connection-rate bucket for WebSocket upgrades and the HTTP-based endpoints: N per second for the node.
  const rateBucket = new RateBucket(admissionLimits(config.client, config.http_server, processes).rateLimit);
  const httpTransports: HttpTransports = mountHttpTransports(mainRouter, config, {
    acceptor: node,
    logger,
    fds,
    wsConnections: () => ws?.connections ?? 0,
    processes,
    rateBucket,
  });
  if (!config.websocket.disabled) {
    ws = new WebSocketHandler({
      websocket: config.websocket,
      client: config.client,
      server: config.http_server,
      acceptor: node,
      logger,
      fds,
      otherOpen: () => httpTransports.open,
      handshakeRate: opts.handshakeRate,
      processes,
      rateBucket,
    });
    mainRouter.add(config.websocket.handler_prefix, (req, res) => {
      req.resume();
      sendText(res, 400, 'Bad Request');
    });
  }
  if (!config.http_api.disabled) {
    api = new ApiHandler({ config: config.http_api, node, logger, isShuttingDown: () => node.shuttingDown });
    api.register(config.http_api.external ? mainRouter : internalRouter);
  }
  if (config.health.enabled) {
    const engineHealth = () => engine.health?.() ?? { ok: true, problems: [] };
    internalRouter.add(config.health.handler_prefix, healthHandler(engineHealth));
    if (config.health.ready_handler_prefix !== '') {
      internalRouter.add(config.health.ready_handler_prefix, readinessHandler(() => node.shuttingDown, engineHealth));
    }
  }
  if (config.prometheus.enabled) {
    if (config.prometheus.recovered_publications_histogram) enableRecoveredPublications();
    const refresh = (): void => {
      const s = node.stats();
      metrics.numClients.set(s.clients);
      metrics.numUsers.set(s.users);
      metrics.numSubscriptions.set(s.subscriptions);
      metrics.numChannels.set(s.channels);
      metrics.numNodes.set(node.cluster.registry.size);
      metrics.draining.set(node.shuttingDown ? 1 : 0);
    };
    worker?.setBeforeCollect(refresh);
    internalRouter.add(
      config.prometheus.handler_prefix,
      metricsHandler(registry, logger, refresh, worker !== undefined ? () => worker.clusterMetrics() : undefined),
    );
  }

  const grpcApi = grpcApiCreds !== undefined ? new GrpcApiServer({ config: config.grpc_api, credentials: grpcApiCreds, node, logger }) : undefined;
  const uniGrpc = uniGrpcCreds !== undefined ? new UniGrpcServer({ config: config.uni_grpc, credentials: uniGrpcCreds, acceptor: node, logger }) : undefined;

  let admin: AdminHandler | undefined;
  let live: LiveSampler | undefined;
  if (config.admin.enabled) {
    live = new LiveSampler({
      stats: () => node.stats(),
      info: () => node.info(),
      engineHealth: () => engine.health?.() ?? { ok: true, problems: [] },
      shuttingDown: () => node.shuttingDown,
    });
    admin = new AdminHandler({
      config: config.admin,
      node,
      userConnections: (user) => node.userConnections(user),
      live,
      ui: new UiAssets(),
      logger,
    });
    admin.register(config.admin.external ? mainRouter : internalRouter);
  }

  const servers: Server[] = [];
  const main = createHttpServer(mainRouter.handle);
  // Upgrades the front hands over (permessage-deflate offers, non-GET upgrades) still come this way.
  const upgrades = new UpgradeRouter(ws, httpTransports.uniWebSocket);
  main.on('upgrade', upgrades.onUpgrade);
  servers.push(main);
  // The API's method endpoints on the main port are answered by the front itself (src/http/direct.ts).
  const direct = api !== undefined && (config.http_api.external || !separate) ? api.directTarget() : undefined;
  const front = new HttpFront({ http: main, upgrade: upgrades, direct, tls: tls.main, rejections: rejectionLogFor(logger) });
  let internal: Server | undefined;
  if (separate) {
    internal = createHttpServer(internalRouter.handle, tls.internal);
    internal.on('upgrade', (_req, socket) => rejectUpgrade(socket, 404));
    servers.push(internal);
  }

  const reconfigure = (next: Readonly<GyreConfig>): void => {
    const verifier = createTokenVerifier(next.client); // first: if it throws, nothing has changed
    const nextProxies = createProxies(next);
    try {
      node.reconfigure(next, verifier, nextProxies);
    } catch (err) {
      nextProxies.close();
      throw err;
    }
    const previous = proxies;
    proxies = nextProxies;
    // Calls in flight on the old proxies finish on their own (each has its deadline); new ones use the new.
    setTimeout(() => previous.close(), 60_000).unref();
    ws?.reconfigure(next.client);
    httpTransports.reconfigure(next.client);
    api?.reconfigure(next.http_api);
    admin?.reconfigure(next.admin);
  };

  let shareCap: ShareCap | undefined;
  let mainCopies: ListenCopies | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      live?.close();
      // First: no new consumed commands while clients drain (what was consumed is committed).
      await closeConsumers(consumers);
      // The port stays open during the drain: readiness answers 503 and new upgrades get 503 + Retry-After
      // (a closed port would give connection refused, which clients and proxies retry at once).
      try {
        await node.shutdown();
      } catch (err) {
        logger.error({ err }, 'node shutdown failed');
      }
      fds.close();
      shareCap?.stop();
      const grpcStopped = Promise.all([grpcApi?.close(), uniGrpc?.close()]);
      httpTransports.close();
      const stopped = [closeFront(front), mainCopies?.closeAll() ?? Promise.resolve(), ...servers.filter((s) => s !== main).map((s) => closeServer(s))];
      await ws?.close();
      proxies.close();
      try {
        await engine.close();
      } catch (err) {
        logger.error({ err }, 'engine close failed');
      }
      for (const s of servers) s.closeAllConnections();
      await Promise.all(stopped);
      await grpcStopped;
    })();
    return closing;
  };

  try {
    if (grpcApi !== undefined) {
      const grpcPort = await grpcApi.listen();
      logger.info({ port: grpcPort, tls: config.grpc_api.tls.enabled }, 'serving GRPC API');
    }
    if (uniGrpc !== undefined) {
      const uniPort = await uniGrpc.listen();
      logger.info({ port: uniPort, tls: config.uni_grpc.tls.enabled }, 'serving unidirectional GRPC');
    }
    // `none` on a fixed port (primaryOwnsMainSocket): listen on node.listen_copies copies of the primary's socket
    // (docs/workers.md).
    const copies = worker !== undefined && primaryOwnsMainSocket(config) ? new ListenCopies(front.server, hs.backlog, () => worker.mainSocketCopies()) : undefined;
    mainCopies = copies;
    const port = copies !== undefined ? await copies.open() : await listen(front.server, hs.address, hs.port, hs.backlog);
    // The admission guard reads the port's kernel accept queue from /proc/net/tcp{,6} (5-20 ms of system CPU a
    // read on a host with 10,000-50,000 TCP sockets, up to 10 reads a second in a burst). A round-robin worker
    // never accepts: the primary drains that queue at once and passes each connection on, so the queue says
    // nothing about this worker's wait and the read is skipped (docs/workers.md). Under `none` every worker reads
    // the same shared queue and drains its part of it.
    if (worker === undefined || config.node.workers_scheduling !== 'rr') ws?.setListenPort(port, listenFamily(front.server), processes, copies);
    // `none` scheduling: a worker well over its share of the connections stops accepting (docs/workers.md).
    if (worker !== undefined && config.node.workers_scheduling === 'none' && hs.port !== 0) {
      const relisten = copies !== undefined ? () => copies.open() : () => listen(front.server, hs.address, hs.port, hs.backlog);
      shareCap = installShareCap(front.server, worker, config, softLimit - hs.fd_reserve, relisten, logger, copies && (() => copies.close()));
    }
    const internalPort = internal !== undefined ? await listen(internal, internalAddress, internalPortCfg, hs.backlog) : port;
    logger.info({ port, internalPort, version, tls: tls.main !== undefined, internalTls: tls.internal !== undefined }, 'gyre listening');
    await startConsumers(consumers);
    const somaxconn = readSomaxconn();
    if (somaxconn !== null && somaxconn < hs.backlog) {
      // Node accepts about one connection per event-loop turn: in a burst larger than this, the kernel drops
      // handshakes (gyre_host_tcp_listen_overflows) and those clients retry only after 1 s.
      logger.info({ backlog: hs.backlog, somaxconn }, 'listen backlog capped by net.core.somaxconn; raise it for connect bursts larger than that');
    }
    return { nodeId: node.cluster.uid, port, internalPort, node, reconfigure, close };
  } catch (err) {
    await close();
    throw err;
  }
}
