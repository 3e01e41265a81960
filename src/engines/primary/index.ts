// The primary engine: what the memory engine becomes in worker processes (`node.workers` > 1). Broker, history,
// presence and control plane are forwarded over IPC to one memory engine hosted by the cluster primary
// (host.ts), so N workers behave as N nodes sharing one engine (docs/workers.md).
import type { Engine, EngineHealth } from '../types.js';
import { PrimaryBroker } from './broker.js';
import { PrimaryController } from './controller.js';
import { PrimaryLink, type IpcPort } from './link.js';
import { PrimaryPresenceManager } from './presence.js';

export { PrimaryEngineHost } from './host.js';
export { processPort, type IpcPort, type PrimaryLink } from './link.js';

export interface PrimaryEngine extends Engine {
  readonly broker: PrimaryBroker;
  readonly history: PrimaryBroker;
  readonly presence: PrimaryPresenceManager;
  readonly controller: PrimaryController;
}

/** A link to the primary over `port`; engines of one process share one (replies are matched by id). */
export function connectPrimary(port: IpcPort, onError?: (err: unknown) => void): PrimaryLink {
  return new PrimaryLink(port, onError);
}

export function createPrimaryEngine(link: PrimaryLink): PrimaryEngine {
  const broker = new PrimaryBroker(link);
  return {
    name: 'memory',
    broker,
    history: broker,
    presence: new PrimaryPresenceManager(link),
    controller: new PrimaryController(link),
    health(): EngineHealth {
      return link.connected ? { ok: true, problems: [] } : { ok: false, problems: ['no connection to the primary process'] };
    },
    close(): Promise<void> {
      link.close();
      return Promise.resolve();
    },
  };
}
