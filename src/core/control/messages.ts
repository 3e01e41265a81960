// The control messages nodes exchange, as one discriminated union (docs/style.md §4.5). They map one to one onto the
// body fields of centrifuge's controlpb.Command (control.proto); codec.ts converts. Every command carries the
// sending node's id (`uid`), so a node can skip its own messages coming back from the bus.
import type { StreamPosition } from '../../protocol/types.js';

/** A node's heartbeat: identity and counts, as `info` reports them. */
export interface NodeInfoMessage {
  uid: string;
  name: string;
  version: string;
  numClients: number;
  numUsers: number;
  numChannels: number;
  numSubs: number;
  /** Seconds since the node started. */
  uptime: number;
  metrics?: { interval: number; items: Record<string, number> };
  data?: Uint8Array;
}

/**
 * Which connections a user-targeted command applies to: the user's (all of them, or one client / session), or
 * with `allUsers` and an empty user every connection. `labelFilter` is set when the sender narrowed the target by
 * connection labels, which Gyre cannot evaluate: such commands are not applied (never broader than asked).
 */
export interface ControlTarget {
  user: string;
  client: string;
  session: string;
  allUsers: boolean;
  labelFilter: boolean;
}

export interface DisconnectBody extends ControlTarget {
  kind: 'disconnect';
  whitelist: string[];
  code: number;
  reason: string;
}

export interface UnsubscribeBody extends ControlTarget {
  kind: 'unsubscribe';
  /** '' = every channel. */
  channel: string;
  code: number;
  reason: string;
}

/** A server-side subscribe; the flags were resolved by the sender from its namespace config and overrides. */
export interface SubscribeBody extends ControlTarget {
  kind: 'subscribe';
  channel: string;
  presence: boolean;
  joinLeave: boolean;
  pushJoinLeave: boolean;
  positioned: boolean;
  recoverable: boolean;
  /** Unix seconds; 0 = none. */
  expireAt: number;
  chanInfo?: Uint8Array;
  data?: Uint8Array;
  recoverSince?: StreamPosition;
  /** centrifuge's subscription source (informational). */
  source: number;
}

export interface RefreshBody extends ControlTarget {
  kind: 'refresh';
  expired: boolean;
  /** Unix seconds; 0 = no expiration. */
  expireAt: number;
  info?: Uint8Array;
}

export type ControlBody =
  | { kind: 'node'; node: NodeInfoMessage }
  | { kind: 'shutdown' }
  | DisconnectBody
  | UnsubscribeBody
  | SubscribeBody
  | RefreshBody
  | { kind: 'survey_request'; id: number; op: string; data: Uint8Array }
  | { kind: 'survey_response'; id: number; code: number; data: Uint8Array }
  | { kind: 'notification'; op: string; data: Uint8Array }
  /** A command with no body this version knows (a newer sender): ignored. */
  | { kind: 'unknown' };

export interface ControlCommand {
  /** The sending node's id. */
  uid: string;
  body: ControlBody;
}

/** Survey reply codes (Centrifugo's): 0 ok. */
export const SurveyCode = { Ok: 0, InternalError: 1, InvalidRequest: 2, MethodNotFound: 3 } as const;
