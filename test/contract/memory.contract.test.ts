// Runs every engine contract suite against the memory engine.
import { createMemoryEngine } from '../../src/engines/memory/index.js';
import { runBrokerContract } from './broker.contract.js';
import { runHistoryContract } from './history.contract.js';
import { runPresenceContract } from './presence.contract.js';
import { runControllerContract } from './controller.contract.js';

runBrokerContract('memory', () => {
  const e = createMemoryEngine();
  return Promise.resolve({ broker: e.broker, history: e.broker, close: () => e.close() });
});

runHistoryContract('memory', () => {
  // A short sweep interval also exercises the timer path besides lazy expiry.
  const e = createMemoryEngine({ sweepIntervalMs: 50 });
  return Promise.resolve({ history: e.broker, close: () => e.close() });
});

runPresenceContract('memory', ({ presenceTtlMs }) => {
  const e = createMemoryEngine({ presenceTtlMs, presenceSweepIntervalMs: 50 });
  return Promise.resolve({ presence: e.presence, close: () => e.close() });
});

runControllerContract(
  'memory (loopback)',
  () => {
    const e = createMemoryEngine();
    return Promise.resolve({ controllers: [e.controller], close: () => e.close() });
  },
  1,
);
