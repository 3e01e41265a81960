// A shared poll namespace's options with Centrifugo's built-in defaults filled in (docs/shared-poll.md). Taken once
// when a channel's poll state is created and kept for its lifetime, as Centrifugo does.
import type { SharedPollChannelConfig } from '../../config/types.js';

export interface PollOptions {
  /** Versioned: the backend's versions decide; versionless: a content hash does, versions are synthetic. */
  readonly versioned: boolean;
  readonly refreshIntervalMs: number;
  readonly batchSize: number;
  readonly maxKeysPerConnection: number;
  readonly shutdownDelayMs: number;
  readonly trackExpiredExtraDelayMs: number;
  readonly publishEnabled: boolean;
  /** "" = the default proxy (channel.proxy.shared_poll_refresh). */
  readonly proxyName: string;
}

export const DEFAULT_REFRESH_INTERVAL_MS = 10_000;
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_MAX_KEYS_PER_CONNECTION = 5000;
export const DEFAULT_SHUTDOWN_DELAY_MS = 1000;
export const DEFAULT_TRACK_EXPIRED_EXTRA_DELAY_MS = 25_000;
/** Backend calls in flight at once on a node when shared_poll.concurrency_limit is 0. */
export const DEFAULT_CONCURRENCY_LIMIT = 64;

export function pollOptions(c: SharedPollChannelConfig): PollOptions {
  return {
    versioned: c.mode === 'versioned',
    refreshIntervalMs: c.refresh_interval > 0 ? c.refresh_interval : DEFAULT_REFRESH_INTERVAL_MS,
    batchSize: c.refresh_batch_size > 0 ? c.refresh_batch_size : DEFAULT_BATCH_SIZE,
    maxKeysPerConnection: c.max_keys_per_connection > 0 ? c.max_keys_per_connection : DEFAULT_MAX_KEYS_PER_CONNECTION,
    shutdownDelayMs: c.channel_shutdown_delay > 0 ? c.channel_shutdown_delay : DEFAULT_SHUTDOWN_DELAY_MS,
    trackExpiredExtraDelayMs: c.track_expired_extra_delay > 0 ? c.track_expired_extra_delay : DEFAULT_TRACK_EXPIRED_EXTRA_DELAY_MS,
    publishEnabled: c.publish_enabled,
    proxyName: c.proxy_name,
  };
}
