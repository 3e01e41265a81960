// Payloads of the `channels` survey in Centrifugo's format (ChannelsRequest / ChannelsResult of its server API), so
// a Gyre node can ask Centrifugo nodes and answer them.
import { controlpb as generated } from './gen/control.js';
import type { controlpb } from './gen/control-types.js';

type Pb = typeof controlpb;
const pb: Pb = generated as unknown as Pb;

/** The survey op Centrifugo uses for the `channels` API method. */
export const CHANNELS_OP = 'channels';

export function encodeChannelsRequest(pattern: string): Uint8Array {
  return pb.ChannelsRequest.encode({ pattern }).finish();
}

/** The pattern, or undefined when the bytes are not a ChannelsRequest. */
export function decodeChannelsRequest(data: Uint8Array): string | undefined {
  try {
    return pb.ChannelsRequest.decode(data).pattern ?? '';
  } catch {
    return undefined;
  }
}

/** channel → number of subscribed connections on one node. */
export type ChannelCounts = Map<string, number>;

export function encodeChannelsResult(counts: ChannelCounts): Uint8Array {
  const channels: Record<string, controlpb.ChannelInfo.$Properties> = {};
  for (const [ch, n] of counts) channels[ch] = { num_clients: n >>> 0 };
  return pb.ChannelsResult.encode({ channels }).finish();
}

/** Throws on bytes that are not a ChannelsResult. */
export function decodeChannelsResult(data: Uint8Array): ChannelCounts {
  const r = pb.ChannelsResult.decode(data);
  const out: ChannelCounts = new Map();
  for (const [ch, info] of Object.entries(r.channels ?? {})) out.set(ch, info.num_clients ?? 0);
  return out;
}
