// A worker's presence: one memory presence store in the cluster primary for every worker, so presence and its
// stats are the same whichever worker asks. The primary drops a crashed worker's entries.
import type { PresenceManager, PresenceStats } from '../types.js';
import type { ClientInfo } from '../../protocol/types.js';
import type { PrimaryLink } from './link.js';

export class PrimaryPresenceManager implements PresenceManager {
  constructor(private readonly link: PrimaryLink) {}

  async add(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    await this.link.request({ k: 9, channel, clientId, info });
  }

  async remove(channel: string, clientId: string, userId: string): Promise<void> {
    await this.link.request({ k: 10, channel, clientId, userId });
  }

  async get(channel: string): Promise<Map<string, ClientInfo>> {
    return (await this.link.request({ k: 11, channel })) as Map<string, ClientInfo>;
  }

  async stats(channel: string): Promise<PresenceStats> {
    return (await this.link.request({ k: 12, channel })) as PresenceStats;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
