// Results of server API commands, independent of the codec that carries them (docs/protocol.md §6.3). Payload
// fields (`data`, `conn_info`, `chan_info`) are the stored bytes; each entry point renders them its own way: the
// HTTP API as raw JSON (result-json.ts), the GRPC API as protobuf `bytes` (src/grpc). Zero values are left out
// (`undefined`), as protobuf and Centrifugo's JSON do.
import type { MapOutcome } from './map-results.js';
import type { MapMethod } from './map-schemas.js';
import type { NodeInfo } from '../core/types.js';
import type { ApiError } from '../protocol/errors.js';
import type { CommandMethod } from './schemas.js';

export type ErrorOut = {
  code: number;
  message?: string | undefined;
};

export type ClientInfoOut = {
  user: string;
  client: string;
  conn_info?: Uint8Array | undefined;
  chan_info?: Uint8Array | undefined;
};

export type PublicationOut = {
  data: Uint8Array;
  info?: ClientInfoOut | undefined;
  offset?: number | undefined;
  tags?: Record<string, string> | undefined;
};

export type PublishResult = {
  offset?: number | undefined;
  epoch?: string | undefined;
};

export type BroadcastResult = {
  responses: { error?: ErrorOut | undefined; result?: PublishResult | undefined }[];
};

export type PresenceResult = {
  presence: Record<string, ClientInfoOut>;
};

export type PresenceStatsResult = {
  num_clients: number;
  num_users: number;
};

export type HistoryResult = {
  publications: PublicationOut[];
  epoch: string;
  offset: number;
};

export type ChannelsResult = {
  channels: Record<string, { num_clients?: number | undefined }>;
};

/** NodeInfo with a zero uptime left out. */
export type NodeOut = Omit<NodeInfo, 'uptime'> & { uptime?: number | undefined };

export type InfoResult = {
  nodes: NodeOut[];
};

export type EmptyResult = Record<string, never>;

/** One command's result, tagged with its method. */
export type ApiOutcome =
  | { method: 'publish'; result: PublishResult }
  | { method: 'broadcast'; result: BroadcastResult }
  | { method: 'presence'; result: PresenceResult }
  | { method: 'presence_stats'; result: PresenceStatsResult }
  | { method: 'history'; result: HistoryResult }
  | { method: 'channels'; result: ChannelsResult }
  | { method: 'info'; result: InfoResult }
  | { method: Exclude<CommandMethod, 'publish' | 'broadcast' | 'presence' | 'presence_stats' | 'history' | 'channels' | 'info' | MapMethod>; result: EmptyResult }
  | MapOutcome;

/** One reply of a batch: the command's outcome, or its error (107 for a null item, 104 for no known method). */
export type BatchOutcome = ApiOutcome | { method: 'error'; error: ApiError };
