// The MapBroker contract (docs/map-subscriptions.md): keyed state per channel plus, in stream modes, an ordered
// log of changes for catch-up and recovery, and delivery of every change to the node's handler. State update,
// stream append and delivery happen in one step per channel, so readers never see a state entry whose change is
// not in the stream yet. Channel settings come with each call (the broker does not read the configuration).
import type { ClientInfo, Publication, Raw, StreamPosition } from '../protocol/types.js';

export type MapMode = 'ephemeral' | 'recoverable' | 'persistent';

/** Resolved settings of a map channel (Centrifugo's defaults filled in, src/core/map/options.ts). Durations in ms. */
export interface MapChannelSettings {
  mode: MapMode;
  /** 0 = keys never expire. */
  keyTtlMs: number;
  /** Stream modes only. */
  streamSize: number;
  streamTtlMs: number;
  /** 0 = the channel's epoch and offsets never expire. */
  metaTtlMs: number;
}

export function hasStream(s: MapChannelSettings): boolean {
  return s.mode !== 'ephemeral';
}

export type MapKeyMode = '' | 'if_new' | 'if_exists';

export type MapSuppressReason = '' | 'idempotency' | 'version' | 'key_exists' | 'key_not_found';

export interface MapPublishInput {
  data: Raw;
  tags?: Record<string, string> | undefined;
  info?: ClientInfo | undefined;
  keyMode?: MapKeyMode;
  /** With keyMode if_new: an existing key only gets its TTL refreshed (presence keep-alive). */
  refreshTtlOnSuppress?: boolean;
  idempotencyKey?: string | undefined;
  /** Hand the key's previous value to the handler (delta compression). */
  useDelta?: boolean;
  /** Per-key version: a publish with a version not above the stored one is suppressed (stream modes). */
  version?: number;
  versionEpoch?: string;
}

export interface MapRemoveInput {
  idempotencyKey?: string | undefined;
}

export interface MapUpdateResult {
  position: StreamPosition;
  suppressed: boolean;
  suppressReason: MapSuppressReason;
}

export interface MapStateReadOptions {
  /** The last key of the previous page; '' = from the start. */
  cursor: string;
  /** -1 = all, 0 = position only. */
  limit: number;
  /** Only this key (cursor and limit ignored). */
  key?: string;
  /** When set, the epoch must still be this one (else UnrecoverablePositionError). */
  revision?: StreamPosition | undefined;
}

export interface MapStateReadResult {
  /** Current entries (key set), ordered by key. */
  publications: Publication[];
  /** When each entry was written (ms), aligned with `publications` (the API's MapEntry.time). */
  times: number[];
  position: StreamPosition;
  /** '' on the last page. */
  cursor: string;
}

export interface MapStreamReadOptions {
  since?: StreamPosition | undefined;
  /** -1 = all, 0 = position only. */
  limit: number;
  reverse?: boolean;
}

export interface MapStreamReadResult {
  publications: Publication[];
  /** When each change was made (ms), aligned with `publications`. */
  times: number[];
  position: StreamPosition;
}

export interface MapEventHandler {
  /** A change of a map channel (key set; removed for removals). `prev`: the key's previous value (useDelta). */
  onMapPublication(channel: string, pub: Publication, position: StreamPosition, prev: Publication | undefined): void;
}

export interface MapBroker {
  start(handler: MapEventHandler): void;
  publish(channel: string, key: string, settings: MapChannelSettings, input: MapPublishInput): Promise<MapUpdateResult>;
  remove(channel: string, key: string, settings: MapChannelSettings, input: MapRemoveInput): Promise<MapUpdateResult>;
  /** Throws UnrecoverablePositionError when `revision` names another epoch. */
  readState(channel: string, opts: MapStateReadOptions): Promise<MapStateReadResult>;
  /** Throws UnrecoverablePositionError when `since` names another epoch. */
  readStream(channel: string, opts: MapStreamReadOptions): Promise<MapStreamReadResult>;
  stats(channel: string): Promise<{ numKeys: number }>;
  /** Drops state and stream; the next access starts a new epoch. */
  clear(channel: string): Promise<void>;
  close(): Promise<void>;
}
