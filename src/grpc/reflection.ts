// `grpc_api.reflection` (docs/grpc.md): GRPC server reflection on the API port, as Centrifugo's
// reflection.Register does for its GRPC API server, so tools such as grpcurl list and call CentrifugoApi without
// the .proto file. @grpc/reflection serves both reflection versions (grpc.reflection.v1 and v1alpha) from
// api.proto. Like Centrifugo, whose API key check covers unary calls only, reflection needs no key.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

/** api.proto next to this file (sources), or in src/grpc when running the compiled build from dist/. */
function apiProtoPath(): string {
  for (const rel of ['./api.proto', '../../../src/grpc/api.proto']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('api.proto not found');
}

export function addReflection(server: Server): void {
  const definition = loadSync(apiProtoPath(), { keepCase: true });
  new ReflectionService(definition).addToServer(server);
}
