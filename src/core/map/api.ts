// The server API side of map subscriptions (map_publish, map_remove, map_read_state, map_read_stream, map_stats,
// map_clear; docs/map-subscriptions.md). Checks as Centrifugo makes them: empty channel (or key) ⇒ 107, unknown
// namespace ⇒ 102, a namespace that is not a map one ⇒ 107, no map broker ⇒ 108, another epoch ⇒ 112.
import type { MapBroker, MapKeyMode, MapStateReadResult, MapStreamReadResult, MapUpdateResult } from '../../engines/map-types.js';
import { Errors } from '../../protocol/errors.js';
import type { ChannelOptions } from '../../config/types.js';
import type { StreamPosition } from '../../protocol/types.js';
import type { CoreContext } from '../context.js';
import { mapSettings } from './options.js';

export interface MapApiPublish {
  data: Uint8Array;
  tags?: Record<string, string>;
  idempotencyKey?: string;
  delta?: boolean;
  version?: number;
  versionEpoch?: string;
  keyMode?: MapKeyMode;
}

export class MapApi {
  constructor(private readonly ctx: CoreContext) {}

  private target(channel: string): { broker: MapBroker; o: Readonly<ChannelOptions> } {
    if (channel === '') throw Errors.badRequest();
    const o = this.ctx.resolver.resolve(channel).options;
    mapSettings(o); // 107 unless a map namespace
    const broker = this.ctx.mapBroker;
    if (broker === undefined) throw Errors.notAvailable();
    return { broker, o };
  }

  publish(channel: string, key: string, p: MapApiPublish): Promise<MapUpdateResult> {
    if (channel === '' || key === '') throw Errors.badRequest();
    const { broker, o } = this.target(channel);
    return broker.publish(channel, key, mapSettings(o), {
      data: p.data,
      tags: p.tags,
      idempotencyKey: p.idempotencyKey,
      useDelta: p.delta === true || o.delta_publish,
      ...(p.version !== undefined ? { version: p.version } : {}),
      ...(p.versionEpoch !== undefined ? { versionEpoch: p.versionEpoch } : {}),
      ...(p.keyMode !== undefined ? { keyMode: p.keyMode } : {}),
    });
  }

  remove(channel: string, key: string, idempotencyKey?: string): Promise<MapUpdateResult> {
    if (channel === '' || key === '') throw Errors.badRequest();
    const { broker, o } = this.target(channel);
    return broker.remove(channel, key, mapSettings(o), { idempotencyKey });
  }

  readState(channel: string, opts: { cursor: string; limit: number; key: string; revision?: StreamPosition }): Promise<MapStateReadResult> {
    const { broker } = this.target(channel);
    return broker.readState(channel, opts);
  }

  async readStream(channel: string, opts: { since?: StreamPosition; limit: number; reverse: boolean }): Promise<MapStreamReadResult> {
    const { broker } = this.target(channel);
    const read = await broker.readStream(channel, opts);
    const since = opts.since;
    const first = read.publications[0];
    // A stream trimmed past the requested position cannot continue it.
    if (!opts.reverse && since !== undefined && since.offset > 0 && first !== undefined && (first.offset ?? 0) > since.offset + 1) {
      throw Errors.unrecoverablePosition();
    }
    return read;
  }

  stats(channel: string): Promise<{ numKeys: number }> {
    const { broker } = this.target(channel);
    return broker.stats(channel);
  }

  clear(channel: string): Promise<void> {
    const { broker } = this.target(channel);
    return broker.clear(channel);
  }
}
