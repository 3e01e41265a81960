// Messages between a worker's primary engine (client side, in each worker) and the engine host in the cluster
// primary. A discriminated union keyed by a numeric kind; they travel batched (src/util/ipc-batch.ts) over the
// cluster IPC channel with Node's "advanced" serialisation, so payload bytes stay Uint8Array end to end (never
// base64, never parsed) and Maps arrive as Maps.
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import type { HistoryReadOptions, HistoryReadResult, PresenceStats, PublishOptions, PublishResult } from '../types.js';

export const ENGINE_TAG = 'engine';

export interface AppendOptions {
  size: number;
  ttlMs: number;
  metaTtlMs: number;
  idempotencyKey?: string;
}

/** Worker → primary: every request has an id the reply carries back. */
export type EngineRequest =
  | { k: 1; id: number; channels: readonly string[] } // subscribe
  | { k: 2; id: number; channels: readonly string[] } // unsubscribe
  | { k: 3; id: number; channel: string; data: Uint8Array; opts: PublishOptions } // publish
  | { k: 4; id: number; channel: string; info: ClientInfo } // join
  | { k: 5; id: number; channel: string; info: ClientInfo } // leave
  | { k: 6; id: number; channel: string; pub: Publication; opts: AppendOptions } // history append
  | { k: 7; id: number; channel: string; opts: HistoryReadOptions } // history read
  | { k: 8; id: number; channel: string } // history remove
  | { k: 9; id: number; channel: string; clientId: string; info: ClientInfo } // presence add
  | { k: 10; id: number; channel: string; clientId: string; userId: string } // presence remove
  | { k: 11; id: number; channel: string } // presence get
  | { k: 12; id: number; channel: string } // presence stats
  | { k: 13; id: number; nodeId: string } // controller start
  | { k: 14; id: number; data: Uint8Array; to: string }; // control message ('' = every node)

export type ReplyValue =
  | PublishResult
  | { position: StreamPosition; suppressed: boolean }
  | HistoryReadResult
  | Map<string, ClientInfo>
  | PresenceStats
  | undefined
  | void;

/** Primary → worker: replies and events (fan-out, join/leave, control). */
export type EngineEvent =
  | { k: 20; id: number; v: ReplyValue } // reply
  | { k: 21; id: number; error: string; unrecoverable?: StreamPosition } // failed request
  | { k: 22; channel: string; pub: Publication; position?: StreamPosition } // publication
  | { k: 23; channel: string; info: ClientInfo } // join
  | { k: 24; channel: string; info: ClientInfo } // leave
  | { k: 25; data: Uint8Array }; // control message
