// grpc_api.reflection (docs/grpc.md): a GRPC reflection client (grpc-js with the reflection.proto that
// @grpc/reflection ships) lists the API port's services and fetches CentrifugoApi's descriptor, without the API
// key, from Gyre and, when installed, from real Centrifugo 6.9.1 with the same config; both must describe the
// same API. Without the key set, reflection is not served (UNIMPLEMENTED).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type protobuf from 'protobufjs';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';
import { findCentrifugo, startCentrifugo } from '../harness/centrifugo.js';
import { API_KEY } from '../harness/clients.js';
import { startGyre } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';

const require = createRequire(import.meta.url);
const REFLECTION_PROTO = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');
const API = 'centrifugal.centrifugo.api.CentrifugoApi';
/** google.protobuf.FileDescriptorProto (the extension module has no type declarations). */
const FileDescriptorProto = (descriptorExt as unknown as { FileDescriptorProto: protobuf.Type }).FileDescriptorProto;

type Msg = Record<string, unknown>;

function reflectionClient(address: string): grpc.Client {
  const def = grpc.loadPackageDefinition(protoLoader.loadSync(REFLECTION_PROTO, { keepCase: true, defaults: false, oneofs: true }));
  const v1 = (def['grpc'] as Msg)['reflection'] as Record<string, Record<string, grpc.ServiceClientConstructor>>;
  const Ctor = v1['v1']!['ServerReflection']!;
  return new Ctor(address, grpc.credentials.createInsecure());
}

/** One request on the reflection stream; its one response (or the stream's error). */
function ask(address: string, request: Msg): Promise<Msg> {
  const client = reflectionClient(address) as grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<Msg, Msg> };
  return new Promise<Msg>((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    const timer = setTimeout(() => call.cancel(), 5000);
    call.on('data', (m: Msg) => {
      clearTimeout(timer);
      resolve(m);
      call.end();
    });
    call.on('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    call.write(request);
  }).finally(() => client.close());
}

async function services(address: string): Promise<string[]> {
  const r = await ask(address, { list_services: '' });
  const list = (r['list_services_response'] as { service: Array<{ name: string }> }).service;
  return list.map((s) => s.name).sort();
}

/** Method name → [input, output] type of CentrifugoApi, from the descriptor the server returns. */
async function apiMethods(address: string): Promise<Record<string, [string, string]>> {
  const r = await ask(address, { file_containing_symbol: API });
  const files = (r['file_descriptor_response'] as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
  const out: Record<string, [string, string]> = {};
  for (const bytes of files) {
    const file = FileDescriptorProto.decode(bytes) as unknown as {
      service?: Array<{ name: string; method?: Array<{ name: string; inputType: string; outputType: string }> }>;
    };
    for (const svc of file.service ?? []) {
      if (svc.name !== 'CentrifugoApi') continue;
      for (const m of svc.method ?? []) out[m.name] = [m.inputType, m.outputType];
    }
  }
  return out;
}

async function config(reflection: boolean): Promise<{ config: Msg; address: string }> {
  const port = await freePort();
  return {
    config: { log: { level: 'warn' }, http_api: { key: API_KEY }, grpc_api: { enabled: true, address: '127.0.0.1', port, key: API_KEY, reflection } },
    address: `127.0.0.1:${port}`,
  };
}

describe('grpc_api.reflection', { timeout: 60_000 }, () => {
  const stops: Array<() => Promise<unknown>> = [];
  let gyre: string;
  let gyreOff: string;
  let centrifugo: string | undefined;

  before(async () => {
    const [on, off] = await Promise.all([config(true), config(false)]);
    const [g, gOff] = await Promise.all([startGyre(on.config), startGyre(off.config)]);
    stops.push(() => g.stop(), () => gOff.stop());
    gyre = on.address;
    gyreOff = off.address;
    if (findCentrifugo() !== undefined) {
      const c = await config(true);
      const proc = await startCentrifugo(c.config);
      stops.push(() => proc.stop());
      centrifugo = c.address;
    }
  });
  after(async () => {
    await Promise.all(stops.map((s) => s()));
  });

  it('lists CentrifugoApi and describes its methods without the API key', async () => {
    assert.ok((await services(gyre)).includes(API));
    const methods = await apiMethods(gyre);
    assert.deepEqual(methods['Publish'], ['.centrifugal.centrifugo.api.PublishRequest', '.centrifugal.centrifugo.api.PublishResponse']);
    assert.deepEqual(methods['Batch'], ['.centrifugal.centrifugo.api.BatchRequest', '.centrifugal.centrifugo.api.BatchResponse']);
  });

  it('describes the same API as Centrifugo', { skip: findCentrifugo() === undefined ? 'the centrifugo binary is not installed' : false }, async () => {
    assert.ok(centrifugo !== undefined);
    assert.ok((await services(centrifugo)).includes(API));
    assert.deepEqual(await apiMethods(gyre), await apiMethods(centrifugo));
  });

  it('is not served when grpc_api.reflection is off', async () => {
    await assert.rejects(services(gyreOff), (e) => (e as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED);
  });
});

