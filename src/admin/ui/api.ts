// Talking to the admin endpoints: login, the token (sessionStorage), API calls and the live stream.
export interface NodeInfo {
  uid: string;
  name: string;
  version: string;
  num_clients: number;
  num_users: number;
  num_channels: number;
  num_subs: number;
  uptime: number;
}

const KEY = 'gyre-admin-token';
const base = location.pathname.replace(/\/admin\/?.*$/, '');

export const session = {
  get token(): string {
    return sessionStorage.getItem(KEY) ?? '';
  },
  set token(t: string) {
    if (t === '') sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, t);
  },
};

function headers(): Record<string, string> {
  return session.token === '' ? {} : { Authorization: `token ${session.token}` };
}

export class Unauthorized extends Error {}

export async function init(): Promise<{ insecure: boolean; authenticated: boolean }> {
  const r = await fetch(`${base}/admin/init`, { headers: headers() });
  return (await r.json()) as { insecure: boolean; authenticated: boolean };
}

/** 'ok', 'wrong' (400) or 'throttled' (429, with seconds to wait). */
export async function login(password: string): Promise<{ result: 'ok' | 'wrong' | 'throttled'; retryAfter: number }> {
  const r = await fetch(`${base}/admin/auth`, { method: 'POST', body: new URLSearchParams({ password }) });
  if (r.status === 200) {
    session.token = ((await r.json()) as { token: string }).token;
    return { result: 'ok', retryAfter: 0 };
  }
  if (r.status === 429) return { result: 'throttled', retryAfter: Number(r.headers.get('retry-after') ?? '0') };
  return { result: 'wrong', retryAfter: 0 };
}

async function post(path: string, body: string): Promise<unknown> {
  const r = await fetch(`${base}/admin/${path}`, { method: 'POST', headers: headers(), body });
  if (r.status === 401) throw new Unauthorized('unauthorized');
  if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

/** One server API command through POST /admin/api; resolves with the reply ({result} or {error}). */
export function call(method: string, params: unknown): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  return post('api', JSON.stringify({ method, params })) as Promise<{ result?: unknown; error?: { code: number; message: string } }>;
}

export interface UserConnection {
  client: string;
  user: string;
  transport: string;
  protocol: string;
  remote_address: string;
  client_name: string;
  client_version: string;
  channels: string[];
  /** Name of the node holding the connection. */
  node: string;
}

export interface UserConnections {
  connections: UserConnection[];
  /** False when some node did not answer. */
  complete: boolean;
}

export async function userConnections(user: string): Promise<UserConnections> {
  const r = (await post('connections', JSON.stringify({ user }))) as { result: UserConnections };
  return r.result;
}

/** Reads the NDJSON live stream until `signal` aborts; each sample goes to `onSample`. */
export async function liveStream(onSample: (s: unknown) => void, signal: AbortSignal): Promise<void> {
  const r = await fetch(`${base}/admin/live`, { headers: headers(), signal });
  if (r.status === 401) throw new Unauthorized('unauthorized');
  if (r.body === null) return;
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line !== '') onSample(JSON.parse(line));
    }
  }
}
