// Builds the enabled consumers of the `consumers` list (docs/consumers.md) around one dispatcher that runs their
// commands through the server API executor (API metrics labelled protocol "consumer"). Disabled entries are
// skipped; config validation has already refused enabled types Gyre does not run.
import type { Logger } from 'pino';
import { ApiExecutor } from '../api/executor.js';
import type { ConsumerConfig } from '../config/types.js';
import type { NodeApi } from '../core/types.js';
import { ConsumedCommandDispatcher } from './dispatcher.js';
import { KafkaConsumer } from './kafka.js';
import { PostgresConsumer } from './postgresql.js';
import type { Consumer } from './types.js';

export type { Consumer } from './types.js';

/**
 * `closeGraceMs`: how long close() waits for a consumer's work in flight before dropping its connections; keep it
 * well inside shutdown.timeout.
 */
export function createConsumers(configs: readonly ConsumerConfig[], node: NodeApi, logger: Logger, closeGraceMs: number): Consumer[] {
  const enabled = configs.filter((c) => {
    if (!c.enabled) logger.info({ consumer: c.name, type: c.type }, 'consumer is not enabled, skip');
    return c.enabled;
  });
  if (enabled.length === 0) return [];
  const dispatcher = new ConsumedCommandDispatcher(new ApiExecutor(node, logger, 'consumer'), logger);
  return enabled.map((c): Consumer => {
    switch (c.type) {
      case 'postgresql':
        return new PostgresConsumer({ name: c.name, config: c.postgresql, dispatcher, logger, closeGraceMs });
      case 'kafka':
        return new KafkaConsumer({ name: c.name, config: c.kafka, dispatcher, logger, closeGraceMs });
      default:
        throw new Error(`consumer type ${c.type} is not supported`);
    }
  });
}

/** Starts every consumer; when one fails, the ones already started are closed and the error is rethrown. */
export async function startConsumers(consumers: readonly Consumer[]): Promise<void> {
  const started: Consumer[] = [];
  try {
    for (const c of consumers) {
      started.push(c);
      await c.start();
    }
  } catch (err) {
    await closeConsumers(started);
    throw err;
  }
}

export async function closeConsumers(consumers: readonly Consumer[]): Promise<void> {
  await Promise.all(consumers.map((c) => c.close()));
}
