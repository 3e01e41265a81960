// The memory engine: single-node broker + history (one object), presence and a loopback controller.
import type { Engine } from '../types.js';
import { MemoryBroker } from './broker.js';
import type { MemoryBrokerOptions } from './broker.js';
import { MemoryController } from './controller.js';
import { MemoryPresenceManager } from './presence.js';
import type { MemoryPresenceOptions } from './presence.js';

export { MemoryBroker } from './broker.js';
export type { MemoryBrokerOptions } from './broker.js';
export { MemoryController } from './controller.js';
export { MemoryPresenceManager } from './presence.js';
export type { MemoryPresenceOptions } from './presence.js';

export interface MemoryEngineOptions extends MemoryBrokerOptions {
  /** Presence entry lifetime since the last add (default 60 s). */
  presenceTtlMs?: number;
  /** Period of the presence sweep (default 5 s). */
  presenceSweepIntervalMs?: number;
}

export interface MemoryEngine extends Engine {
  readonly broker: MemoryBroker;
  readonly history: MemoryBroker;
  readonly presence: MemoryPresenceManager;
  readonly controller: MemoryController;
}

export function createMemoryEngine(opts: MemoryEngineOptions = {}): MemoryEngine {
  const broker = new MemoryBroker(opts);
  const presenceOpts: MemoryPresenceOptions = {};
  if (opts.presenceTtlMs !== undefined) presenceOpts.presenceTtlMs = opts.presenceTtlMs;
  if (opts.presenceSweepIntervalMs !== undefined) presenceOpts.sweepIntervalMs = opts.presenceSweepIntervalMs;
  if (opts.now !== undefined) presenceOpts.now = opts.now;
  const presence = new MemoryPresenceManager(presenceOpts);
  const controller = new MemoryController();
  let closed: Promise<void> | undefined;
  return {
    name: 'memory',
    broker,
    history: broker,
    presence,
    controller,
    close(): Promise<void> {
      closed ??= Promise.all([broker.close(), presence.close(), controller.close()]).then(() => undefined);
      return closed;
    },
  };
}
