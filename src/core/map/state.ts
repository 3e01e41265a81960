// What a map subscription carries besides a regular one: its type, the paginated subscribe in progress (phase
// lock, the epoch and offset frozen by the first state page, the stream top taken by the first stream page) and,
// once live, the presence keys it keeps in other map channels.
import type { MapChannelSettings } from '../../engines/map-types.js';

export interface MapSubscriptionState {
  /** 1 map, 2 map_clients, 3 map_users. */
  type: number;
  settings: MapChannelSettings;
  /** ms when the subscribe started (catch-up timeout). */
  startedAt: number;
  /** A phase request of this subscription is being answered (a second one gets 113). */
  busy: boolean;
  /** Epoch and offset of the first state page (0/'' until then). */
  epoch: string;
  offset: number;
  offsetCaptured: boolean;
  /** Stream top at the first stream page (undefined until then). */
  streamStart: number | undefined;
  /** Live: map_clients / map_users channels this connection is listed in ('' = none). */
  clientsPresenceChannel: string;
  usersPresenceChannel: string;
  /** map.remove_client_on_unsubscribe: the key named by the client id goes when the subscription ends. */
  removeClientKey: boolean;
}
