// One channel subscription of one session: its negotiated options, stream position and the buffer that holds
// publications arriving while the subscribe is still in progress (docs/protocol.md §1.11).
import type { Publication, StreamPosition } from '../protocol/types.js';
import type { MapSubscriptionState } from './map/state.js';
import type { Session } from './session.js';
import type { SharedPollSub } from './shared-poll/connection.js';
import type { TagsFilter } from './tags-filter.js';

export const SubState = {
  Subscribing: 0,
  Subscribed: 1,
  Removed: 2,
} as const;
export type SubState = (typeof SubState)[keyof typeof SubState];

export interface BufferedPublication {
  pub: Publication;
  position: StreamPosition | undefined;
}

export interface SubscriptionFlags {
  serverSide: boolean;
  presence: boolean;
  joinLeave: boolean;
  pushJoinLeave: boolean;
  positioned: boolean;
  recoverable: boolean;
  /** Delta compression negotiated (`delta: "fossil"` allowed by the namespace). */
  delta?: boolean;
  /** Publication tags filter requested by the client (`tf`). */
  tagsFilter?: TagsFilter | undefined;
}

export class Subscription {
  state: SubState = SubState.Subscribing;
  /** Index in the hub's subscriber array of the channel (-1 when not registered). */
  hubIndex = -1;
  serverSide: boolean;
  presence: boolean;
  joinLeave: boolean;
  pushJoinLeave: boolean;
  positioned: boolean;
  recoverable: boolean;
  /** Delta compression negotiated: publications go through DeltaFrames (docs/delta.md). */
  delta: boolean;
  /** The client holds the previous publication of the stream, so the next one may be a delta. */
  deltaReady = false;
  /** Only publications whose tags match are delivered (positioned: the offset still advances). */
  tagsFilter: TagsFilter | undefined;
  /** Last delivered offset and the stream epoch (positioned subscriptions). */
  offset = 0;
  epoch = '';
  /** Unix seconds; 0 = no expiration. */
  expireAt = 0;
  chanInfo: Uint8Array | undefined = undefined;
  /** ms timestamp of the last position advance (periodic position check). */
  positionCheckedAt = 0;
  /** Publications received while subscribing; null once subscribed. */
  buffer: BufferedPublication[] | null = [];
  /** Called once when the subscription is removed (a subscribe stream proxy ends its stream there). */
  onRemoved: (() => void) | undefined = undefined;
  /** Map subscriptions (types 1–3): their paginated subscribe and presence keys (core/map). */
  map: MapSubscriptionState | undefined = undefined;
  /** A shared poll subscription's tracked keys (docs/shared-poll.md); such a subscription is not in the hub. */
  sharedPoll: SharedPollSub | undefined = undefined;

  constructor(
    readonly session: Session,
    readonly channel: string,
    readonly namespace: string,
    flags: SubscriptionFlags,
  ) {
    this.serverSide = flags.serverSide;
    this.presence = flags.presence;
    this.joinLeave = flags.joinLeave;
    this.pushJoinLeave = flags.pushJoinLeave;
    this.positioned = flags.positioned;
    this.recoverable = flags.recoverable;
    this.delta = flags.delta === true;
    this.tagsFilter = flags.tagsFilter;
  }

  bufferPublication(pub: Publication, position: StreamPosition | undefined): void {
    // Bounded: a subscribe never lasts long, but a flood must not grow memory without limit.
    if (this.buffer !== null && this.buffer.length < 100_000) this.buffer.push({ pub, position });
  }
}
