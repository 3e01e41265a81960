// The configuration most compat test files start from (Centrifugo v6 key tree, docs/protocol.md §8.3). Each file adds
// only what it needs with mergeConfig().
import { API_KEY } from '../harness/clients.js';
import { TEST_HMAC_SECRET } from '../harness/tokens.js';

export function baseConfig(): Record<string, unknown> {
  return {
    log: { level: 'warn' },
    client: { token: { hmac_secret_key: TEST_HMAC_SECRET } },
    http_api: { key: API_KEY },
    health: { enabled: true },
    shutdown: { timeout: '5s' },
    channel: {
      namespaces: [
        // Plain channels: any authenticated client subscribes; subscribers publish.
        { name: 'open', allow_subscribe_for_client: true, allow_publish_for_subscriber: true, allow_publish_for_client: true },
        // No allow_* option at all ⇒ every client operation is 103.
        { name: 'closed' },
        // Used with `$` (private prefix): still needs a subscription token.
        { name: 'priv', allow_subscribe_for_client: true },
        { name: 'users', allow_user_limited_channels: true },
        // Stream recovery.
        {
          name: 'rec',
          history_size: 100,
          history_ttl: '300s',
          force_recovery: true,
          allow_subscribe_for_client: true,
          allow_history_for_subscriber: true,
        },
        // History smaller than the gap used by the unrecoverable case.
        { name: 'small', history_size: 2, history_ttl: '300s', force_recovery: true, allow_subscribe_for_client: true },
        // Cache recovery mode (§5.4).
        {
          name: 'cache',
          history_size: 10,
          history_ttl: '300s',
          force_recovery: true,
          force_recovery_mode: 'cache',
          allow_subscribe_for_client: true,
        },
        // Presence + join/leave + history.
        {
          name: 'pres',
          presence: true,
          join_leave: true,
          history_size: 10,
          history_ttl: '300s',
          allow_subscribe_for_client: true,
          allow_publish_for_subscriber: true,
          allow_presence_for_subscriber: true,
          allow_history_for_client: true,
        },
        // Server-side subscriptions only (no client permissions).
        { name: 'srv', history_size: 10, history_ttl: '300s', force_recovery: true },
        // Anonymous access.
        { name: 'anon', allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true },
      ],
    },
  };
}
