// A metric update that prom-client refuses (an `inc` with a label the metric did not declare, a coding mistake)
// must not take the node down: the batched flush (./batched.ts) hands each refused update here, where it is
// counted in gyre_metric_update_errors_total{metric} and logged once per metric name. The counter is registered by
// ./registry.ts (this module imports no registry, so batched.ts can use it without an import cycle).
import { Counter } from 'prom-client';
import { pino, type Logger } from 'pino';

export const metricUpdateErrors = new Counter({
  name: 'gyre_metric_update_errors_total',
  help: 'Metric updates refused by the metrics library (e.g. a label the metric does not declare), by metric name',
  labelNames: ['metric'],
  registers: [],
});

let logger: Logger | undefined;
const logged = new Set<string>();

/**
 * The logger for refused updates (the server's, set at start; until then a plain one on stderr). Each metric's
 * next failure is logged again through it (the start-up warm-up runs with a silent logger first).
 */
export function setMetricsLogger(l: Logger): void {
  logger = l;
  logged.clear();
}

/** One refused update of `metric`: counted every time, logged the first time per metric name. */
export function reportUpdateError(metric: string, err: unknown): void {
  metricUpdateErrors.inc({ metric });
  if (logged.has(metric)) return;
  logged.add(metric);
  logger ??= pino(pino.destination(2));
  logger.error({ err, metric }, 'metric update refused (a bug in Gyre); later failures of this metric are only counted');
}
