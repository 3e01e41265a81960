// The node side of `/emulation` (docs/transports.md): commands a client POSTs for its HTTP-streaming or SSE session
// reach the node owning that session through Centrifugo's `centrifuge_emulation` survey, sent to that node only (a
// request for this node is answered here without the bus). So no sticky sessions are needed, and Gyre and
// Centrifugo nodes of one cluster forward each other's emulation requests.
import { decodeEmulationRequest, emulatedFrame } from '../protocol/emulation.js';
import type { CoreContext } from './context.js';
import type { SurveyAnswer } from './control/survey.js';

export const EMULATION_OP = 'centrifuge_emulation';

/** Centrifugo's emulation survey reply codes (its HTTP handler answers 204 whatever they are). */
export const EmulationCode = { Ok: 0, BadRequest: 1, NoSession: 2 } as const;

const EMPTY = new Uint8Array(0);

/** Hands the request's commands to the session it names, as one inbound frame. */
export function answerEmulation(ctx: CoreContext, data: Uint8Array): SurveyAnswer {
  const req = decodeEmulationRequest(data);
  if (req === undefined) return { code: EmulationCode.BadRequest, data: EMPTY };
  const s = ctx.hub.sessionBySessionId(req.session);
  if (s === undefined || s.closed) return { code: EmulationCode.NoSession, data: EMPTY };
  const frame = emulatedFrame(req.data, s.transport.info.protocol);
  if (frame === undefined) return { code: EmulationCode.BadRequest, data: EMPTY };
  s.handleFrame(frame);
  return { code: EmulationCode.Ok, data: EMPTY };
}
