// A worker's broker and history store: both live in the cluster primary (one memory engine for every worker), so
// there is one offset authority per channel and append + fan-out stay one step there (centrifuge broker.go rule).
// This side forwards the calls and hands the primary's fan-out to the node.
import type {
  Broker,
  BrokerEventHandler,
  EngineCapabilities,
  HistoryReadOptions,
  HistoryReadResult,
  HistoryStore,
  PublishOptions,
  PublishResult,
} from '../types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import type { PrimaryLink } from './link.js';
import type { AppendOptions } from './protocol.js';

export class PrimaryBroker implements Broker, HistoryStore {
  readonly capabilities: EngineCapabilities = { history: true, atomicHistory: true, presence: true };

  constructor(private readonly link: PrimaryLink) {}

  start(handler: BrokerEventHandler): Promise<void> {
    const ev = this.link.events;
    ev.onPublication = (channel, pub, position) => handler.onPublication(channel, pub, position);
    ev.onJoin = (channel, info) => handler.onJoin(channel, info);
    ev.onLeave = (channel, info) => handler.onLeave(channel, info);
    return Promise.resolve();
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    if (channels.length > 0) await this.link.request({ k: 1, channels });
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    if (channels.length > 0) await this.link.request({ k: 2, channels });
  }

  async publish(channel: string, data: Uint8Array, opts: PublishOptions): Promise<PublishResult> {
    return (await this.link.request({ k: 3, channel, data, opts })) as PublishResult;
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    await this.link.request({ k: 4, channel, info });
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    await this.link.request({ k: 5, channel, info });
  }

  async append(channel: string, pub: Publication, opts: AppendOptions): Promise<{ position: StreamPosition; suppressed: boolean }> {
    return (await this.link.request({ k: 6, channel, pub, opts })) as { position: StreamPosition; suppressed: boolean };
  }

  async read(channel: string, opts: HistoryReadOptions): Promise<HistoryReadResult> {
    return (await this.link.request({ k: 7, channel, opts })) as HistoryReadResult;
  }

  async remove(channel: string): Promise<void> {
    await this.link.request({ k: 8, channel });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
