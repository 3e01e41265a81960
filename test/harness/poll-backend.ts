// A real shared poll backend for tests (docs/shared-poll.md): a node:http server on a free loopback port answering
// Centrifugo's shared_poll_refresh JSON (`{"result":{"items":[{key,data,version,removed}],"epoch"}}`), and a
// grpc-js server answering CentrifugoProxy.SharedPollRefresh (proxy.proto loaded with @grpc/proto-loader), both
// from one per-channel item table the test edits. A channel can be switched to answer an error, garbage or never;
// every request is recorded.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './gyre.js';

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
  /** 127.0.0.1:PORT of the GRPC server (same table and behaviours). */
  readonly grpcEndpoint: string;
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

interface AnswerItem {
  key: string;
  data: unknown;
  version: number;
  removed?: true;
}

export async function startPollBackend(): Promise<PollBackend> {
  const requests: PollRequest[] = [];
  const items = new Map<string, Map<string, PollItem>>();
  const behaviour = new Map<string, PollBehaviour>();
  const hanging = new Set<ServerResponse>();
  /** The behaviour for the request's channel and, when it is 'ok', the items to answer. */
  const answer = (body: PollRequest): { b: PollBehaviour; out: AnswerItem[] } => {
    requests.push(body);
    const b = behaviour.get(body.channel) ?? 'ok';
    const table = items.get(body.channel);
    const out: AnswerItem[] = [];
    for (const it of body.items) {
      const stored = table?.get(it.key);
      if (stored === undefined) continue;
      out.push({ key: it.key, data: stored.data, version: stored.version, ...(stored.removed === true ? { removed: true as const } : {}) });
    }
    return { b, out };
  };
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
      const { b, out } = answer(body);
      if (b === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (b === 'error500') return void res.writeHead(500).end('oops');
      if (b === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"result": {"items": [nope');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { items: out } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const grpcServer = await startGrpc(answer);
  return {
    endpoint: `http://127.0.0.1:${port}/refresh`,
    grpcEndpoint: `127.0.0.1:${grpcServer.port}`,
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
      grpcServer.server.forceShutdown();
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const GARBAGE = Symbol('garbage');

async function startGrpc(answer: (body: PollRequest) => { b: PollBehaviour; out: AnswerItem[] }): Promise<{ server: grpc.Server; port: number }> {
  const def = protoLoader.loadSync(`${REPO_ROOT}src/proxy/proxy.proto`, { keepCase: true, longs: Number, defaults: false });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    centrifugal: { centrifugo: { proxy: { CentrifugoProxy: { service: grpc.ServiceDefinition } } } };
  };
  const service = { ...pkg.centrifugal.centrifugo.proxy.CentrifugoProxy.service };
  const m = service['SharedPollRefresh']!;
  const ser = m.responseSerialize;
  service['SharedPollRefresh'] = { ...m, responseSerialize: (v: unknown) => (v === GARBAGE ? Buffer.from([0xff, 0xff, 0xff, 0x0f]) : ser(v)) };
  const server = new grpc.Server();
  server.addService(service, {
    SharedPollRefresh: (call: grpc.ServerUnaryCall<{ channel?: string; items?: Array<{ key?: string; version?: number }> }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const req = call.request;
      const body: PollRequest = {
        channel: req.channel ?? '',
        items: (req.items ?? []).map((it) => ({ key: it.key ?? '', ...(it.version !== undefined && it.version > 0 ? { version: it.version } : {}) })),
      };
      const { b, out } = answer(body);
      if (b === 'hang') return;
      if (b === 'error500') return cb({ code: grpc.status.INTERNAL, details: 'backend failure' });
      if (b === 'garbage') return cb(null, GARBAGE);
      const wire = out.map((it) => ({ ...it, data: Buffer.from(JSON.stringify(it.data)) }));
      cb(null, { result: { items: wire } });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}
