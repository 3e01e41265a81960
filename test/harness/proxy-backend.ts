// A real application backend for proxy tests: a node:http server (Centrifugo's HTTP proxy JSON) or a grpc-js
// server (CentrifugoProxy from src/proxy/proxy.proto, loaded with @grpc/proto-loader, independent of Gyre's
// own protobufjs encoding). Tests program the answer per proxy kind; every request is recorded. Payload members
// (data, info, meta) are plain JS values on both sides: JSON on HTTP, JSON text in bytes fields on GRPC.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './gyre.js';

export type Kind = 'connect' | 'refresh' | 'subscribe' | 'publish' | 'sub_refresh' | 'rpc';

/** What the backend does with one call. */
export type Answer =
  | { body: Record<string, unknown> } // a normal answer (result / error / disconnect)
  | { status: number } // HTTP: this status; GRPC: an INTERNAL status
  | { garbage: true } // bytes that are neither JSON nor protobuf
  | { hang: true }; // never answers

export interface Recorded {
  kind: Kind;
  /** The request with payload members parsed back into values. */
  body: Record<string, unknown>;
  /** HTTP headers, or GRPC metadata (lower-case keys, first value). */
  headers: Record<string, string>;
}

export type Program = (kind: Kind, body: Record<string, unknown>) => Answer;

/** Serve TLS with this certificate; with `clientCa`, a client certificate signed by it is required (mutual TLS). */
export interface BackendTls {
  cert: string;
  key: string;
  clientCa?: string;
}

export interface Backend {
  readonly endpoint: string;
  readonly calls: Recorded[];
  program: Program;
  close(): Promise<void>;
}

const PAYLOAD = ['data', 'info', 'meta'];
const PATHS: Record<string, Kind> = {
  '/connect': 'connect',
  '/refresh': 'refresh',
  '/subscribe': 'subscribe',
  '/publish': 'publish',
  '/sub_refresh': 'sub_refresh',
  '/rpc': 'rpc',
};

function firstValues(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v[0]! : v;
  return out;
}

/** HTTP(S) backend on a free loopback port; the endpoint of kind K is `${endpoint}/${K}`. */
export async function startHttpBackend(program: Program = () => ({ body: {} }), tls?: BackendTls): Promise<Backend> {
  const calls: Recorded[] = [];
  const b: Backend = { endpoint: '', calls, program, close: () => Promise.resolve() };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const kind = PATHS[req.url ?? ''];
      if (kind === undefined) {
        res.statusCode = 404;
        res.end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      calls.push({ kind, body, headers: firstValues(req.headers) });
      const a = b.program(kind, body);
      if ('hang' in a) return;
      if ('status' in a) {
        res.statusCode = a.status;
        res.end('refused');
      } else if ('garbage' in a) {
        res.end('<html>not json');
      } else {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(a.body));
      }
    });
  };
  const server: Server =
    tls === undefined
      ? createServer(handler)
      : createHttpsServer(
          { cert: tls.cert, key: tls.key, ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) },
          handler,
        );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(b, {
    endpoint: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const GARBAGE = Symbol('garbage');

/** JSON text bytes for payload members (GRPC `bytes` fields), recursively through result/subs. */
function toWire(v: unknown, payloadKey = false): unknown {
  if (payloadKey) return Buffer.from(JSON.stringify(v));
  if (Array.isArray(v)) return v.map((x) => toWire(x));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toWire(x, PAYLOAD.includes(k));
    return out;
  }
  return v;
}

function fromWire(req: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req)) {
    if (PAYLOAD.includes(k) && Buffer.isBuffer(v)) {
      if (v.length > 0) out[k] = JSON.parse(v.toString()) as unknown;
    } else if (v !== '' && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  }
  return out;
}

const RPC_KINDS: Record<string, Kind> = {
  Connect: 'connect',
  Refresh: 'refresh',
  Subscribe: 'subscribe',
  Publish: 'publish',
  SubRefresh: 'sub_refresh',
  RPC: 'rpc',
};

/** GRPC backend (TLS with `tls`) on a free loopback port; the endpoint is `127.0.0.1:PORT` for every kind. */
export async function startGrpcBackend(program: Program = () => ({ body: {} }), tls?: BackendTls): Promise<Backend> {
  const calls: Recorded[] = [];
  const b: Backend = { endpoint: '', calls, program, close: () => Promise.resolve() };
  const def = protoLoader.loadSync(`${REPO_ROOT}src/proxy/proxy.proto`, { keepCase: true, longs: Number, defaults: false });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    centrifugal: { centrifugo: { proxy: { CentrifugoProxy: { service: grpc.ServiceDefinition } } } };
  };
  const service = { ...pkg.centrifugal.centrifugo.proxy.CentrifugoProxy.service };
  for (const [name, m] of Object.entries(service)) {
    const ser = m.responseSerialize;
    service[name] = { ...m, responseSerialize: (v: unknown) => (v === GARBAGE ? Buffer.from([0xff, 0xff, 0xff, 0x0f]) : ser(v)) };
  }
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [rpc, kind] of Object.entries(RPC_KINDS)) {
    impl[rpc] = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      const body = fromWire(call.request);
      calls.push({ kind, body, headers });
      const a = b.program(kind, body);
      if ('hang' in a) return;
      if ('status' in a) cb({ code: grpc.status.INTERNAL, details: `backend status ${a.status}` });
      else if ('garbage' in a) cb(null, GARBAGE);
      else cb(null, toWire(a.body));
    };
  }
  const server = new grpc.Server();
  server.addService(service, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', serverCredentials(tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return Object.assign(b, {
    endpoint: `127.0.0.1:${port}`,
    close: () => {
      server.forceShutdown();
      return Promise.resolve();
    },
  });
}

function serverCredentials(tls: BackendTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  const ca = tls.clientCa !== undefined ? Buffer.from(tls.clientCa) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], ca !== null);
}
