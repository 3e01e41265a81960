// One sample of the Live page's NDJSON stream, as the server writes it (src/admin/live.ts) and the page reads it
// (live-page.ts): one shape for both sides. Types only, so the browser bundle and the server share it without
// either importing the other's code.

export interface LiveSample {
  /** Unix ms. */
  t: number;
  clients: number;
  users: number;
  subscriptions: number;
  channels: number;
  /** Per second over the last interval. */
  connectRate: number;
  refusals: Record<string, number>;
  disconnects: Record<string, number>;
  fanoutRate: number;
  /** Mean publish-to-deliver lag in ms over the last interval (publication time to fan-out here, from
   * centrifugo_node_pub_sub_lag_seconds; the API publish duration until a fan-out is seen). */
  publishLagMs: number | null;
  /** Event-loop delay over the last interval, ms (p99 and max). */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  fds: number | null;
  fdLimit: number | null;
  /** Host accept-queue overflows during the interval (null without /proc). */
  acceptOverflows: number | null;
  /** Engine state for /health: `ok` false while a backing server is unreachable. */
  engine: { ok: boolean; problems: string[] };
  /** Engine recovery actions during the interval: Redis PUB/SUB connections rebuilt (per second). */
  engineReconnects: number;
  draining: boolean;
  /** Every node's counts (from `info`); the server sends the whole node info, the page reads these. */
  nodes: LiveNode[];
}

export interface LiveNode {
  name: string;
  uid: string;
  num_clients: number;
}
