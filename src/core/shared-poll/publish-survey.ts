// shared_poll_publish across the cluster (docs/shared-poll.md): the node that takes the API call sends the publish
// to every node (itself included) as a `gyre.shared_poll_publish` survey, and each applies it to the connections
// tracking the key there. Payload: a 4-byte big-endian length, a JSON header {channel, key, version, epoch}, then
// the data bytes as they are (never parsed).
import { SurveyCode } from '../control/messages.js';
import type { SurveyAnswer } from '../control/survey.js';
import type { SharedPollManager } from './manager.js';
import type { SharedPollPublishRequest } from './publish.js';

export const SHARED_POLL_PUBLISH_OP = 'gyre.shared_poll_publish';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

export function encodePublishSurvey(req: SharedPollPublishRequest): Uint8Array {
  const header = encoder.encode(JSON.stringify({ channel: req.channel, key: req.key, version: req.version, epoch: req.epoch }));
  const out = new Uint8Array(4 + header.length + req.data.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(req.data, 4 + header.length);
  return out;
}

export function decodePublishSurvey(b: Uint8Array): SharedPollPublishRequest | undefined {
  if (b.length < 4) return undefined;
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
  if (4 + n > b.length) return undefined;
  let h: unknown;
  try {
    h = JSON.parse(decoder.decode(b.subarray(4, 4 + n)));
  } catch {
    return undefined;
  }
  if (typeof h !== 'object' || h === null) return undefined;
  const { channel, key, version, epoch } = h as Record<string, unknown>;
  if (typeof channel !== 'string' || typeof key !== 'string' || typeof epoch !== 'string') return undefined;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version <= 0) return undefined;
  return { channel, key, version, epoch, data: b.slice(4 + n) };
}

/** Applies a publish another node (or this one) sent. */
export function answerPublishSurvey(manager: SharedPollManager, data: Uint8Array): SurveyAnswer {
  const req = decodePublishSurvey(data);
  if (req === undefined) return { code: SurveyCode.InvalidRequest, data: EMPTY };
  manager.publish(req.channel, req.key, req.version, req.epoch, req.data);
  return { code: SurveyCode.Ok, data: EMPTY };
}
