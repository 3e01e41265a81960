// The EmulationRequest (docs/transports.md): what an `/emulation` POST carries, and what nodes pass to each other in
// Centrifugo's `centrifuge_emulation` survey. JSON bodies hold `data` as a JSON string of newline-joined commands;
// protobuf bodies are the EmulationRequest message with `data` = varint-delimited commands. Between nodes the
// message is always protobuf, its `data` the raw bytes the client sent (for JSON: the JSON string literal, quotes
// included, as Centrifugo forwards it).
import { centrifugal as generated } from './gen/client.js';
import type { centrifugal } from './gen/client-types.js';
import type { ProtocolFormat } from './types.js';

type Pb = typeof centrifugal.centrifuge.protocol;
const pb: Pb = (generated as unknown as typeof centrifugal).centrifuge.protocol;

export interface EmulationRequest {
  node: string;
  session: string;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeEmulationRequest(req: EmulationRequest): Uint8Array {
  return pb.EmulationRequest.encode(req).finish();
}

/** undefined when the bytes are not an EmulationRequest. */
export function decodeEmulationRequest(bytes: Uint8Array): EmulationRequest | undefined {
  try {
    const m = pb.EmulationRequest.decode(bytes);
    return { node: m.node ?? '', session: m.session ?? '', data: m.data ?? new Uint8Array(0) };
  } catch {
    return undefined;
  }
}

/**
 * An `/emulation` body in the client's format. JSON: an object whose `node` and `session` are strings when present
 * and whose `data` is kept as raw JSON text (any JSON value; a non-string is refused later by the owning node, as
 * Centrifugo does). undefined for a body that does not parse.
 */
export function parseEmulationBody(body: Uint8Array, format: ProtocolFormat): EmulationRequest | undefined {
  if (format === 'protobuf') return decodeEmulationRequest(body);
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(body));
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const node = o['node'] ?? '';
  const session = o['session'] ?? '';
  if (typeof node !== 'string' || typeof session !== 'string') return undefined;
  const data = o['data'];
  return { node, session, data: data === undefined || data === null ? new Uint8Array(0) : encoder.encode(JSON.stringify(data)) };
}

/**
 * The command frame an EmulationRequest's `data` stands for, on a connection of `format`: JSON needs a JSON string
 * (its text is the frame); protobuf takes the bytes as they are. undefined when JSON data is not a string.
 */
export function emulatedFrame(data: Uint8Array, format: ProtocolFormat): Uint8Array | undefined {
  if (format === 'protobuf') return data;
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  return typeof v === 'string' ? encoder.encode(v) : undefined;
}
