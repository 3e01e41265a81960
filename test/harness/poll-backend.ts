// A real shared poll backend for tests (docs/shared-poll.md): a node:http server on a free loopback port answering
// Centrifugo's shared_poll_refresh JSON (`{"result":{"items":[{key,data,version,removed}],"epoch"}}`) from a
// per-channel item table the test edits. A channel can be switched to answer 500, garbage or never; every request
// is recorded.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PollItem {
  data: unknown;
  version: number;
  removed?: boolean;
}

export type PollBehaviour = 'ok' | 'error500' | 'garbage' | 'hang';

export interface PollRequest {
  channel: string;
  items: Array<{ key: string; version?: number }>;
}

export interface PollBackend {
  /** http://127.0.0.1:PORT/refresh */
  readonly endpoint: string;
  readonly requests: PollRequest[];
  /** channel → key → item. */
  readonly items: Map<string, Map<string, PollItem>>;
  set(channel: string, key: string, item: PollItem): void;
  /** How the backend answers for a channel (default 'ok'). */
  behave(channel: string, b: PollBehaviour): void;
  /** Requests received for a channel. */
  requestsFor(channel: string): PollRequest[];
  close(): Promise<void>;
}

export async function startPollBackend(): Promise<PollBackend> {
  const requests: PollRequest[] = [];
  const items = new Map<string, Map<string, PollItem>>();
  const behaviour = new Map<string, PollBehaviour>();
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: PollRequest;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PollRequest;
      } catch {
        res.writeHead(400).end();
        return;
      }
      body.items ??= [];
      requests.push(body);
      const b = behaviour.get(body.channel) ?? 'ok';
      if (b === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (b === 'error500') return void res.writeHead(500).end('oops');
      if (b === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"result": {"items": [nope');
      const table = items.get(body.channel);
      const out = [];
      for (const it of body.items) {
        const stored = table?.get(it.key);
        if (stored === undefined) continue;
        out.push({ key: it.key, data: stored.data, version: stored.version, ...(stored.removed === true ? { removed: true } : {}) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { items: out } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/refresh`,
    requests,
    items,
    set(channel, key, item) {
      let t = items.get(channel);
      if (t === undefined) items.set(channel, (t = new Map<string, PollItem>()));
      t.set(key, item);
    },
    behave(channel, b) {
      behaviour.set(channel, b);
    },
    requestsFor(channel) {
      return requests.filter((r) => r.channel === channel);
    },
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
