// A scripted NodeApi for server API tests: records calls, answers from overridable handlers.
import type { ApiPublishOptions, ApiPublishResult, ApiSubscribeOptions, ApiTarget, NodeApi, NodeInfo } from '../../../src/core/types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../../src/protocol/types.js';

export interface Call {
  method: string;
  args: unknown[];
}

export class FakeNode implements NodeApi {
  readonly calls: Call[] = [];
  publishImpl: (channel: string, data: Uint8Array, opts: ApiPublishOptions) => Promise<ApiPublishResult> = () =>
    Promise.resolve({});
  failWith: Error | undefined = undefined;

  private record(method: string, ...args: unknown[]): Promise<void> {
    this.calls.push({ method, args });
    return this.failWith === undefined ? Promise.resolve() : Promise.reject(this.failWith);
  }

  async publish(channel: string, data: Uint8Array, opts: ApiPublishOptions): Promise<ApiPublishResult> {
    await this.record('publish', channel, Buffer.from(data).toString(), opts);
    return this.publishImpl(channel, data, opts);
  }
  async subscribe(opts: ApiSubscribeOptions): Promise<void> {
    await this.record('subscribe', opts);
  }
  async unsubscribe(target: ApiTarget & { channel: string }): Promise<void> {
    await this.record('unsubscribe', target);
  }
  async disconnect(target: ApiTarget & { whitelist?: string[]; code?: number; reason?: string }): Promise<void> {
    await this.record('disconnect', target);
  }
  async refresh(target: ApiTarget & { expired?: boolean; expireAt?: number; info?: Uint8Array }): Promise<void> {
    await this.record('refresh', target);
  }
  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    await this.record('presence', channel);
    return {
      c1: { user: '42', client: 'c1', conn_info: new TextEncoder().encode('{"name":"a"}') },
      c2: { user: '', client: 'c2' },
    };
  }
  async presenceStats(channel: string): Promise<{ num_clients: number; num_users: number }> {
    await this.record('presenceStats', channel);
    return { num_clients: 2, num_users: 1 };
  }
  async history(
    channel: string,
    opts: { limit: number; since?: StreamPosition; reverse?: boolean },
  ): Promise<{ publications: Publication[]; epoch: string; offset: number }> {
    await this.record('history', channel, opts);
    return {
      publications: [
        { data: new TextEncoder().encode('{"text":"hi"}'), offset: 7, tags: { k: 'v' } },
        { data: new Uint8Array([0xff, 0x00]), offset: 8, info: { user: 'u', client: 'c' } },
      ],
      epoch: 'abcd',
      offset: 8,
    };
  }
  async historyRemove(channel: string): Promise<void> {
    await this.record('historyRemove', channel);
  }
  async channels(pattern?: string): Promise<Record<string, { num_clients: number }>> {
    await this.record('channels', pattern);
    return { chat: { num_clients: 2 }, empty: { num_clients: 0 } };
  }
  async info(): Promise<NodeInfo[]> {
    await this.record('info');
    return [{ uid: 'u1', name: 'n1', version: '0.1.0 Gyre', num_clients: 1, num_users: 1, num_channels: 1, num_subs: 1, uptime: 0 }];
  }
}
