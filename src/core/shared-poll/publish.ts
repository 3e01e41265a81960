// shared_poll_publish from the server API (docs/shared-poll.md): new data for one key of a versioned shared poll
// channel, delivered at once to the connections tracking the key on every node (publish-survey.ts) when the
// version is newer than that node's. Checks, as Centrifugo: channel, key and version required (107), known
// namespace (102), a shared_poll namespace (107) with publish_enabled (108).
import { Errors } from '../../protocol/errors.js';
import type { ChannelResolver } from '../channels.js';

export interface SharedPollPublishRequest {
  channel: string;
  key: string;
  version: number;
  epoch: string;
  data: Uint8Array;
}

/** Throws the ProtocolError Centrifugo answers when `req` cannot be published. */
export function checkSharedPollPublish(resolver: ChannelResolver, req: SharedPollPublishRequest): void {
  if (req.channel === '' || req.key === '' || req.version <= 0) throw Errors.badRequest();
  const r = resolver.resolve(req.channel); // 102
  if (r.options.subscription_type !== 'shared_poll') throw Errors.badRequest();
  if (!r.options.shared_poll.publish_enabled) throw Errors.notAvailable();
}
