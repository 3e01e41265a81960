// Centrifugo's shared poll metrics (docs/shared-poll.md, docs/metrics.md): the refresh worker's cycles, backend
// calls, items by result, notifications, direct publishes and the tracked channel/key gauges, plus the
// shared_poll_proxy item histograms. `channel_namespace` is "", as Centrifugo labels it by default.
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from './registry.js';

const ns = 'centrifugo_shared_poll';
const cycleBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const handlerBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const semBuckets = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const itemBuckets = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** What started a backend call: the refresh timer or a notification (a newly tracked key). */
export type PollTrigger = 'timer' | 'notification';

export const sharedPollMetrics = {
  cycleDuration: new Histogram({
    name: `${ns}_cycle_duration_seconds`,
    help: 'Full timer cycle duration in seconds.',
    labelNames: ['channel_namespace'],
    buckets: cycleBuckets,
    registers: [registry],
  }),
  cycleWorkDuration: new Histogram({
    name: `${ns}_cycle_work_duration_seconds`,
    help: 'Cycle work time in seconds (minus spread delay).',
    labelNames: ['channel_namespace'],
    buckets: cycleBuckets,
    registers: [registry],
  }),
  handlerDuration: new Histogram({
    name: `${ns}_handler_duration_seconds`,
    help: 'Handler call latency in seconds.',
    labelNames: ['trigger', 'channel_namespace'],
    buckets: handlerBuckets,
    registers: [registry],
  }),
  semWaitDuration: new Histogram({
    name: `${ns}_sem_wait_duration_seconds`,
    help: 'Semaphore wait duration in seconds.',
    labelNames: ['trigger', 'channel_namespace'],
    buckets: semBuckets,
    registers: [registry],
  }),
  handlerErrors: new Counter({
    name: `${ns}_handler_error_count`,
    help: 'Number of handler errors.',
    labelNames: ['trigger', 'channel_namespace'],
    registers: [registry],
  }),
  items: new Counter({
    name: `${ns}_items_count`,
    help: 'Number of items by result.',
    labelNames: ['trigger', 'result', 'channel_namespace'],
    registers: [registry],
  }),
  notify: new Counter({ name: `${ns}_notify_count`, help: 'Number of notifications received.', labelNames: ['channel_namespace'], registers: [registry] }),
  droppedNotify: new Counter({
    name: `${ns}_dropped_notify_count`,
    help: 'Number of notifications dropped due to full buffer.',
    labelNames: ['channel_namespace'],
    registers: [registry],
  }),
  publish: new Counter({
    name: `${ns}_publish_count`,
    help: 'Number of direct publish operations by result.',
    labelNames: ['result', 'channel_namespace'],
    registers: [registry],
  }),
  numChannels: new Gauge({ name: `${ns}_num_channels`, help: 'Number of active shared poll channels.', registers: [registry] }),
  numKeys: new Gauge({ name: `${ns}_num_keys`, help: 'Total number of tracked keys.', registers: [registry] }),
  proxyRequestItems: new Histogram({
    name: 'centrifugo_shared_poll_proxy_request_items',
    help: 'Number of items per shared poll proxy request.',
    labelNames: ['name'],
    buckets: itemBuckets,
    registers: [registry],
  }),
  proxyResponseItems: new Histogram({
    name: 'centrifugo_shared_poll_proxy_response_items',
    help: 'Number of items per shared poll proxy response.',
    labelNames: ['name'],
    buckets: itemBuckets,
    registers: [registry],
  }),
};

export const NS_LABEL = { channel_namespace: '' } as const;
