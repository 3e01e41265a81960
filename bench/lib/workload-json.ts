// Workload specs cross process boundaries as JSON (orchestrator → driver); this validates them on the way in.
import { z } from 'zod';
import type { Workload } from './workloads.js';

const count = z.number().int().positive().max(1_000_000);
const seconds = z.number().positive().max(3600);

const schema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('burst'), id: z.string(), connections: count, concurrency: count, channels: count }),
  z.object({
    kind: z.literal('idle'),
    id: z.string(),
    connections: count,
    concurrency: count,
    channels: count,
    holdSec: seconds,
  }),
  z.object({
    kind: z.literal('fanout'),
    id: z.string(),
    group: z.enum(['fanout', 'latency']),
    channels: count,
    subscribersPerChannel: count,
    publishRate: z.number().positive().max(1_000_000),
    warmupSec: z.number().min(0).max(600),
    durationSec: seconds,
    payloadBytes: z.number().int().min(16).max(1 << 20),
    concurrency: count,
  }),
]);

export function parseWorkload(text: string): Workload {
  return schema.parse(JSON.parse(text));
}
