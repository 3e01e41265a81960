// `POST /emulation` (docs/transports.md): the client → server leg of the emulation transports. The body names the
// session and the node owning it and carries commands; the node delivers them (over the control plane when the
// session lives elsewhere) and the replies arrive on the session's stream. 204 once delivered (also for an unknown
// session, dropped by its node), 400 for a body that does not parse, 404 for a node not in the cluster, 413 above
// emulation.max_request_body_size, 500 when the owning node did not answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parseEmulationBody } from '../protocol/emulation.js';
import { metrics } from '../metrics/registry.js';
import { answerStatus, isProtobufRequest, postEndpoint, readCappedBody } from './http-common.js';
import type { OriginCheck } from './origin.js';
import type { SessionAcceptor } from './types.js';

export interface EmulationHandlerOptions {
  acceptor: SessionAcceptor;
  originOk: () => OriginCheck;
  maxBodySize: number;
  logger: Logger;
}

export class EmulationHandler {
  constructor(private readonly opts: EmulationHandlerOptions) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void =>
    postEndpoint(req, res, this.opts.originOk(), (q, r) => {
      this.deliver(q, r).catch((err: unknown) => {
        this.opts.logger.error({ err }, 'emulation request failed');
        metrics.internalErrors.labels('emulation').inc();
        if (!r.writableEnded) answerStatus(r, 500);
      });
    });

  private async deliver(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readCappedBody(req, res, this.opts.maxBodySize);
    if (body === null) return;
    const parsed = parseEmulationBody(body, isProtobufRequest(req) ? 'protobuf' : 'json');
    if (parsed === undefined) return answerStatus(res, 400);
    const acceptor = this.opts.acceptor;
    const outcome = acceptor.emulate === undefined ? 'node_not_found' : await acceptor.emulate(parsed);
    answerStatus(res, outcome === 'ok' ? 204 : outcome === 'node_not_found' ? 404 : 500);
  }
}
