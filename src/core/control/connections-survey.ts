// The `gyre.user_connections` survey: each node lists its connections of one user, for the admin Connections
// page. Centrifugo OSS has no such survey, so the op is Gyre's own and the payloads are JSON; a Centrifugo node in
// a mixed cluster does not answer it and its connections are not listed (the page says the list is partial).

export const USER_CONNECTIONS_OP = 'gyre.user_connections';

/** One connection of a user, as its node describes it. */
export interface UserConnection {
  client: string;
  user: string;
  transport: string;
  protocol: string;
  remote_address: string;
  client_name: string;
  client_version: string;
  channels: string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeUserConnectionsRequest(user: string): Uint8Array {
  return encoder.encode(JSON.stringify({ user }));
}

/** The user, or undefined when the bytes are not a request. */
export function decodeUserConnectionsRequest(data: Uint8Array): string | undefined {
  try {
    const v: unknown = JSON.parse(decoder.decode(data));
    const user = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['user'] : undefined;
    return typeof user === 'string' ? user : undefined;
  } catch {
    return undefined;
  }
}

export function encodeUserConnectionsResult(list: readonly UserConnection[]): Uint8Array {
  return encoder.encode(JSON.stringify(list));
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

const STRING_FIELDS = ['client', 'user', 'transport', 'protocol', 'remote_address', 'client_name', 'client_version'] as const;

/** Throws on bytes that are not a list of connections. */
export function decodeUserConnectionsResult(data: Uint8Array): UserConnection[] {
  const v: unknown = JSON.parse(decoder.decode(data));
  if (!Array.isArray(v)) throw new Error('user connections: not a list');
  return v.map((item: unknown): UserConnection => {
    if (typeof item !== 'object' || item === null) throw new Error('user connections: not an object');
    const o = item as Record<string, unknown>;
    for (const f of STRING_FIELDS) if (typeof o[f] !== 'string') throw new Error(`user connections: bad ${f}`);
    if (!isStringArray(o['channels'])) throw new Error('user connections: bad channels');
    return {
      client: o['client'] as string,
      user: o['user'] as string,
      transport: o['transport'] as string,
      protocol: o['protocol'] as string,
      remote_address: o['remote_address'] as string,
      client_name: o['client_name'] as string,
      client_version: o['client_version'] as string,
      channels: o['channels'],
    };
  });
}
