// The NATS broker engine (`broker.type: nats`): broker and control plane over core NATS on one connection, in
// Centrifugo's subjects and encoding. No history. Its presence part is in memory (used only when nothing else
// provides presence; with `engine.type: redis` or `presence_manager` the presence comes from there).
import type { NatsBrokerConfig } from '../../config/types.js';
import { MemoryPresenceManager } from '../memory/presence.js';
import type { Engine, EngineHealth } from '../types.js';
import { NatsBroker } from './broker.js';
import { NatsLink } from './connection.js';
import { NatsController } from './controller.js';

export { NatsBroker } from './broker.js';
export { NatsConnectionError, NatsLink } from './connection.js';
export { NatsController } from './controller.js';


export interface NatsEngineOptions {
  onError?: (err: unknown, context: { what: string }) => void;
  /** Reconnect wait (default 1 s). */
  reconnectWaitMs?: number;
}

export interface NatsEngine extends Engine {
  readonly broker: NatsBroker;
  readonly controller: NatsController;
  readonly link: NatsLink;
  health(): EngineHealth;
}

export function createNatsEngine(cfg: NatsBrokerConfig, opts: NatsEngineOptions = {}): NatsEngine {
  const prefix = cfg.prefix === '' ? 'centrifugo' : cfg.prefix;
  const link = new NatsLink({
    url: cfg.url,
    dialTimeoutMs: cfg.dial_timeout,
    ...(opts.reconnectWaitMs !== undefined ? { reconnectWaitMs: opts.reconnectWaitMs } : {}),
    onError: (err, what) => opts.onError?.(err, { what }),
  });
  const broker = new NatsBroker(link, {
    prefix,
    writeTimeoutMs: Math.max(cfg.write_timeout, 1),
    onDropped: (reason) => opts.onError?.(new Error(`dropped NATS message: ${reason}`), { what: 'message' }),
  });
  const controller = new NatsController(link, prefix);
  const presence = new MemoryPresenceManager();
  let closed: Promise<void> | undefined;
  return {
    name: 'nats',
    broker,
    presence,
    controller,
    link,
    health(): EngineHealth {
      return link.up ? { ok: true, problems: [] } : { ok: false, problems: ['nats: not connected'] };
    },
    close(): Promise<void> {
      closed ??= (async () => {
        await Promise.all([broker.close(), controller.close(), presence.close()]);
        await link.close();
      })();
      return closed;
    },
  };
}
