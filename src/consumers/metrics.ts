// Centrifugo's consumer metrics: centrifugo_consumers_messages_processed_total and centrifugo_consumers_errors_total,
// labelled by consumer name, both set to 0 when a consumer starts.
import { Counter } from 'prom-client';
import { registry } from '../metrics/registry.js';

const processed = new Counter({
  name: 'centrifugo_consumers_messages_processed_total',
  help: 'Total number of processed messages in consumer',
  labelNames: ['consumer_name'],
  registers: [registry],
});
const errors = new Counter({
  name: 'centrifugo_consumers_errors_total',
  help: 'Total number of errors in consumer',
  labelNames: ['consumer_name'],
  registers: [registry],
});

export const consumerMetrics = {
  processed,
  errors,
  init(name: string): void {
    processed.labels(name).inc(0);
    errors.labels(name).inc(0);
  },
};
