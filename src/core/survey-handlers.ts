// This node's answers to surveys from the cluster (its own included). Ops and payloads are Centrifugo's, so
// Centrifugo nodes can ask Gyre nodes and the other way round: today `channels` (active channels with their local
// subscriber counts, filtered by a glob pattern), `centrifuge_emulation` (core/emulation.ts), and Gyre's own
// `gyre.user_connections` (the admin page) and `gyre.shared_poll_publish` (core/shared-poll/publish-survey.ts).
import type { CoreContext } from './context.js';
import { CHANNELS_OP, decodeChannelsRequest, encodeChannelsResult, type ChannelCounts } from './control/channels-survey.js';
import {
  USER_CONNECTIONS_OP,
  decodeUserConnectionsRequest,
  encodeUserConnectionsResult,
  type UserConnection,
} from './control/connections-survey.js';
import { SurveyCode } from './control/messages.js';
import type { SurveyAnswer } from './control/survey.js';
import { answerEmulation, EMULATION_OP } from './emulation.js';
import { answerPublishSurvey, SHARED_POLL_PUBLISH_OP } from './shared-poll/publish-survey.js';

const EMPTY = new Uint8Array(0);

/** Glob (gobwas-like subset: `*`, `?`) to an anchored regex. */
export function globToRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 's');
}

/** Channels with local subscribers, filtered by `pattern` ('' = all). */
export function localChannels(ctx: CoreContext, pattern: string): ChannelCounts {
  const re = pattern !== '' ? globToRegExp(pattern) : undefined;
  const out: ChannelCounts = new Map();
  for (const [channel, entry] of ctx.hub.channels) {
    if (entry.subs.length === 0) continue;
    if (re !== undefined && !re.test(channel)) continue;
    out.set(channel, entry.subs.length);
  }
  return out;
}

/** This node's connections of `user`. */
export function localUserConnections(ctx: CoreContext, user: string): UserConnection[] {
  const out: UserConnection[] = [];
  for (const s of ctx.hub.userSessions(user) ?? []) {
    out.push({
      client: s.id,
      user: s.user,
      transport: s.transportName,
      protocol: s.json ? 'json' : 'protobuf',
      remote_address: s.transport.info.remoteAddress,
      client_name: s.clientName,
      client_version: s.clientVersion,
      channels: [...s.subs.keys()],
    });
  }
  return out;
}

export function answerSurvey(ctx: CoreContext, op: string, data: Uint8Array): Promise<SurveyAnswer> {
  if (op === CHANNELS_OP) {
    const pattern = decodeChannelsRequest(data);
    if (pattern === undefined) return Promise.resolve({ code: SurveyCode.InvalidRequest, data: EMPTY });
    return Promise.resolve({ code: SurveyCode.Ok, data: encodeChannelsResult(localChannels(ctx, pattern)) });
  }
  if (op === USER_CONNECTIONS_OP) {
    const user = decodeUserConnectionsRequest(data);
    if (user === undefined) return Promise.resolve({ code: SurveyCode.InvalidRequest, data: EMPTY });
    return Promise.resolve({ code: SurveyCode.Ok, data: encodeUserConnectionsResult(localUserConnections(ctx, user)) });
  }
  if (op === EMULATION_OP) return Promise.resolve(answerEmulation(ctx, data));
  if (op === SHARED_POLL_PUBLISH_OP && ctx.sharedPoll !== undefined) return Promise.resolve(answerPublishSurvey(ctx.sharedPoll, data));
  return Promise.resolve({ code: SurveyCode.MethodNotFound, data: EMPTY });
}
