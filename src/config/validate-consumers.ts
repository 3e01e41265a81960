// Rules for the `consumers` list (Centrifugo's validate.go): names, types, and the keys each enabled type needs.
// A type Centrifugo knows but Gyre does not run is accepted while disabled and refused when enabled.
import { ConfigError } from './errors.js';
import type { ConsumerConfig } from './types.js';

const CONSUMER_NAME = /^[a-zA-Z0-9_]{2,}$/;
/** Centrifugo v6's consumer types (configtypes.KnownConsumerTypes). */
const KNOWN_TYPES: ReadonlySet<string> = new Set([
  'postgresql',
  'kafka',
  'nats_jetstream',
  'redis_stream',
  'google_pub_sub',
  'aws_sqs',
  'azure_service_bus',
]);
/** The types Gyre runs (src/consumers). */
export const GYRE_CONSUMER_TYPES: ReadonlySet<string> = new Set(['postgresql', 'kafka']);
/** A table name as it goes into the SQL text: plain or double-quoted identifiers, optionally schema-qualified. */
const TABLE_NAME = /^(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")(?:\.(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+"))?$/;

function fail(path: string, reason: string): never {
  throw new ConfigError('cross_field', path, reason);
}

export function validateConsumers(consumers: readonly ConsumerConfig[]): void {
  const names = new Set<string>();
  consumers.forEach((c, i) => {
    const p = `consumers[${i}]`;
    if (!CONSUMER_NAME.test(c.name)) fail(`${p}.name`, `invalid consumer name ${JSON.stringify(c.name)}: must match ${CONSUMER_NAME.source}`);
    if (names.has(c.name)) fail(`${p}.name`, `consumer name ${JSON.stringify(c.name)} must be unique`);
    names.add(c.name);
    if (!KNOWN_TYPES.has(c.type)) fail(`${p}.type`, `unknown consumer type ${JSON.stringify(c.type)}`);
    if (!c.enabled) return;
    if (!GYRE_CONSUMER_TYPES.has(c.type)) {
      throw new ConfigError('unsupported', `${p}.type`, `consumer type ${JSON.stringify(c.type)} is not supported by Gyre (supported: ${[...GYRE_CONSUMER_TYPES].join(', ')})`);
    }
    if (c.type === 'postgresql') {
      const pg = c.postgresql;
      if (pg.dsn === '') fail(`${p}.postgresql.dsn`, 'no PostgreSQL DSN provided');
      if (pg.outbox_table_name === '') fail(`${p}.postgresql.outbox_table_name`, 'no PostgreSQL outbox table name provided');
      if (!TABLE_NAME.test(pg.outbox_table_name)) {
        fail(`${p}.postgresql.outbox_table_name`, 'must be a table name, optionally schema-qualified (identifiers or "quoted identifiers")');
      }
    }
    if (c.type === 'kafka') {
      const k = c.kafka;
      if (k.brokers.length === 0) fail(`${p}.kafka.brokers`, 'no Kafka brokers provided');
      if (k.topics.length === 0) fail(`${p}.kafka.topics`, 'no Kafka topics provided');
      if (k.consumer_group === '') fail(`${p}.kafka.consumer_group`, 'no Kafka consumer group provided');
      if (k.publication_data_mode.enabled && k.publication_data_mode.channels_header === '') {
        fail(`${p}.kafka.publication_data_mode.channels_header`, 'no Kafka channels header provided for publication data mode');
      }
    }
  });
}
