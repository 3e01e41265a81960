// The in-memory MapBroker (engines/map-types.ts): per channel a Map of key → entry, in stream modes a bounded
// Stream of changes (memory/stream.ts), and an epoch that lives as long as the channel does. Every change is
// applied, appended and handed to the handler synchronously, so the per-channel order is the offset order. A
// one-second sweep expires keys (key_ttl: a removal is appended and delivered), streams (stream_ttl: stored
// changes dropped, offsets kept) and channels (meta_ttl: everything dropped, a new epoch on next use).
import { mapBrokerMetrics } from '../../metrics/map-broker.js';
import type { Publication, StreamPosition } from '../../protocol/types.js';
import { randomLetters } from '../../util/random.js';
import {
  hasStream,
  type MapBroker,
  type MapChannelSettings,
  type MapEventHandler,
  type MapPublishInput,
  type MapRemoveInput,
  type MapStateReadOptions,
  type MapStateReadResult,
  type MapStreamReadOptions,
  type MapStreamReadResult,
  type MapUpdateResult,
} from '../map-types.js';
import { UnrecoverablePositionError } from '../types.js';
import { IdempotencyCache } from './idempotency.js';
import { Stream } from './stream.js';

interface Entry {
  pub: Publication;
  /** ms; 0 = never. */
  expireAt: number;
  version: number;
  versionEpoch: string;
}

class MapChannel {
  readonly stream = new Stream(randomLetters(8));
  readonly state = new Map<string, Entry>();
  /** Keys in order, rebuilt lazily after a change (state pages are ordered by key). */
  sorted: string[] | null = null;
  settings: MapChannelSettings | undefined = undefined;
  /** Earliest key expiry not yet swept (ms; 0 = none). */
  nextKeyExpiry = 0;
  /** Stored stream entries are dropped at this time (ms; 0 = never). */
  streamExpireAt = 0;
  /** The channel (epoch included) is dropped at this time (ms; 0 = never). */
  metaExpireAt = 0;
  /** Last access (ms): an empty channel that only reads created is dropped after a while. */
  touchedAt = 0;

  position(): StreamPosition {
    return this.stream.position();
  }

  sortedKeys(): string[] {
    if (this.sorted === null) this.sorted = [...this.state.keys()].sort();
    return this.sorted;
  }
}

const SWEEP_INTERVAL_MS = 1000;
const IDEMPOTENT_RESULT_TTL_MS = 5 * 60_000;
/** A channel with no keys and no stream entries, untouched this long, is dropped (its epoch with it). */
const EMPTY_CHANNEL_TTL_MS = 60_000;

export class MemoryMapBroker implements MapBroker {
  private readonly channels = new Map<string, MapChannel>();
  private readonly results = new IdempotencyCache<StreamPosition>(IDEMPOTENT_RESULT_TTL_MS);
  /** When each stored change was made: kept beside the publications, which are pushed to clients without it. */
  private readonly times = new WeakMap<Publication, number>();
  private handler: MapEventHandler | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(private readonly now: () => number = Date.now) {}

  start(handler: MapEventHandler): void {
    this.handler = handler;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Number of channels held (metrics, tests). */
  get numChannels(): number {
    return this.channels.size;
  }

  publish(channel: string, key: string, settings: MapChannelSettings, input: MapPublishInput): Promise<MapUpdateResult> {
    const now = this.now();
    const ch = this.channel(channel, settings, now);
    if (input.idempotencyKey !== undefined && input.idempotencyKey !== '') {
      const hit = this.results.get(channel, input.idempotencyKey, now);
      if (hit !== undefined) return done(hit.result, 'idempotency');
    }
    const existing = ch.state.get(key);
    const version = input.version ?? 0;
    const versionEpoch = input.versionEpoch ?? '';
    if (hasStream(settings) && version > 0 && existing !== undefined) {
      if ((versionEpoch === '' || versionEpoch === existing.versionEpoch) && version <= existing.version) {
        return done(ch.position(), 'version');
      }
    }
    if (input.keyMode === 'if_new' && existing !== undefined) {
      if (input.refreshTtlOnSuppress === true && settings.keyTtlMs > 0) this.setExpiry(ch, existing, now + settings.keyTtlMs);
      this.touchMeta(ch, settings, now);
      return done(ch.position(), 'key_exists');
    }
    if (input.keyMode === 'if_exists' && existing === undefined) return done(ch.position(), 'key_not_found');
    const pub: Publication = { data: input.data, key };
    this.times.set(pub, now);
    if (input.info !== undefined) pub.info = input.info;
    if (input.tags !== undefined && Object.keys(input.tags).length > 0) pub.tags = input.tags;
    const position = this.append(ch, settings, pub, now);
    const entry: Entry = {
      pub,
      expireAt: 0,
      version: version > 0 ? version : (existing?.version ?? 0),
      versionEpoch: version > 0 ? versionEpoch : (existing?.versionEpoch ?? ''),
    };
    if (existing === undefined) ch.sorted = null;
    ch.state.set(key, entry);
    if (settings.keyTtlMs > 0) this.setExpiry(ch, entry, now + settings.keyTtlMs);
    if (input.idempotencyKey !== undefined && input.idempotencyKey !== '') this.results.set(channel, input.idempotencyKey, position, now);
    this.handler?.onMapPublication(channel, pub, position, input.useDelta === true ? existing?.pub : undefined);
    return done(position, '');
  }

  remove(channel: string, key: string, settings: MapChannelSettings, input: MapRemoveInput): Promise<MapUpdateResult> {
    const now = this.now();
    const ch = this.channels.get(channel);
    if (ch === undefined) return done({ offset: 0, epoch: '' }, 'key_not_found');
    ch.settings = settings;
    if (input.idempotencyKey !== undefined && input.idempotencyKey !== '') {
      const hit = this.results.get(channel, input.idempotencyKey, now);
      if (hit !== undefined) return done(hit.result, 'idempotency');
    }
    const existing = ch.state.get(key);
    if (existing === undefined) return done(ch.position(), 'key_not_found');
    const position = this.removeKey(channel, ch, key, existing, now);
    if (input.idempotencyKey !== undefined && input.idempotencyKey !== '') this.results.set(channel, input.idempotencyKey, position, now);
    return done(position, '');
  }

  readState(channel: string, opts: MapStateReadOptions): Promise<MapStateReadResult> {
    const ch = this.channel(channel, undefined, this.now());
    const position = ch.position();
    if (opts.revision !== undefined && opts.revision.epoch !== position.epoch) {
      return Promise.reject(new UnrecoverablePositionError(position));
    }
    if (opts.key !== undefined && opts.key !== '') {
      const e = ch.state.get(opts.key);
      const publications = e === undefined ? [] : [e.pub];
      return Promise.resolve({ publications, times: this.timesOf(publications), position, cursor: '' });
    }
    if (opts.limit === 0 || ch.state.size === 0) return Promise.resolve({ publications: [], times: [], position, cursor: '' });
    const keys = ch.sortedKeys();
    let start = 0;
    if (opts.cursor !== '') start = upperBound(keys, opts.cursor);
    const end = opts.limit < 0 ? keys.length : Math.min(keys.length, start + opts.limit);
    const publications: Publication[] = [];
    for (let i = start; i < end; i++) publications.push(ch.state.get(keys[i]!)!.pub);
    const cursor = end < keys.length && end > start ? keys[end - 1]! : '';
    return Promise.resolve({ publications, times: this.timesOf(publications), position, cursor });
  }

  readStream(channel: string, opts: MapStreamReadOptions): Promise<MapStreamReadResult> {
    const ch = this.channel(channel, undefined, this.now());
    const position = ch.position();
    const since = opts.since;
    if (since !== undefined && since.epoch !== '' && since.epoch !== position.epoch) {
      return Promise.reject(new UnrecoverablePositionError(position));
    }
    if (opts.limit === 0) return Promise.resolve({ publications: [], times: [], position });
    const publications = ch.stream.read({ since, limit: opts.limit, reverse: opts.reverse });
    return Promise.resolve({ publications, times: this.timesOf(publications), position });
  }

  private timesOf(pubs: readonly Publication[]): number[] {
    return pubs.map((p) => this.times.get(p) ?? 0);
  }

  stats(channel: string): Promise<{ numKeys: number }> {
    return Promise.resolve({ numKeys: this.channels.get(channel)?.state.size ?? 0 });
  }

  clear(channel: string): Promise<void> {
    this.channels.delete(channel);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.handler = undefined;
    return Promise.resolve();
  }

  /** Expires keys, streams and channels that are due (runs every second; tests call it directly). */
  sweep(): void {
    const now = this.now();
    this.results.sweep(now);
    let oldest = 0;
    let removed = 0;
    let due = false;
    for (const [name, ch] of this.channels) {
      const unused = ch.state.size === 0 && ch.stream.top === 0 && now - ch.touchedAt > EMPTY_CHANNEL_TTL_MS;
      if (unused || (ch.metaExpireAt > 0 && ch.metaExpireAt <= now)) {
        this.channels.delete(name);
        continue;
      }
      if (ch.streamExpireAt > 0 && ch.streamExpireAt <= now) {
        ch.stream.clear();
        ch.streamExpireAt = 0;
      }
      if (ch.nextKeyExpiry > 0 && ch.nextKeyExpiry <= now) {
        due = true;
        if (oldest === 0 || ch.nextKeyExpiry < oldest) oldest = ch.nextKeyExpiry;
        removed += this.expireKeys(name, ch, now);
      }
    }
    // Set by a sweep that had a key expiry due only, as Centrifugo does: a node whose map keys never expired does
    // not export the series, and the value stays until the next such sweep.
    if (due) mapBrokerMetrics.cleanupLag.set({ broker_name: '' }, (now - oldest) / 1000);
    if (removed > 0) mapBrokerMetrics.cleanupRemoved.inc({ broker_name: '' }, removed);
  }

  /** Removes the channel's expired keys (each removal appended and delivered); returns how many. */
  private expireKeys(name: string, ch: MapChannel, now: number): number {
    let next = 0;
    const expired: [string, Entry][] = [];
    for (const [key, e] of ch.state) {
      if (e.expireAt === 0) continue;
      if (e.expireAt <= now) expired.push([key, e]);
      else if (next === 0 || e.expireAt < next) next = e.expireAt;
    }
    ch.nextKeyExpiry = next;
    let removed = 0;
    for (const [key, e] of expired) {
      try {
        this.removeKey(name, ch, key, e, now);
        removed++;
      } catch {
        mapBrokerMetrics.cleanupErrors.inc({ broker_name: '' });
      }
    }
    return removed;
  }

  private removeKey(name: string, ch: MapChannel, key: string, existing: Entry, now: number): StreamPosition {
    ch.state.delete(key);
    ch.sorted = null;
    const pub: Publication = { data: new Uint8Array(0), key, removed: true };
    this.times.set(pub, now);
    if (existing.pub.tags !== undefined) pub.tags = existing.pub.tags;
    const settings = ch.settings;
    const position = settings === undefined ? ch.position() : this.append(ch, settings, pub, now);
    this.handler?.onMapPublication(name, pub, position, undefined);
    return position;
  }

  /** Stream modes: appends the change (offset set on `pub`) and refreshes the TTLs. Else the current position. */
  private append(ch: MapChannel, settings: MapChannelSettings, pub: Publication, now: number): StreamPosition {
    if (!hasStream(settings)) return ch.position();
    ch.stream.append(pub, settings.streamSize);
    if (settings.streamTtlMs > 0) ch.streamExpireAt = now + settings.streamTtlMs;
    this.touchMeta(ch, settings, now);
    return ch.position();
  }

  private touchMeta(ch: MapChannel, settings: MapChannelSettings, now: number): void {
    if (settings.metaTtlMs > 0) ch.metaExpireAt = now + settings.metaTtlMs;
  }

  private setExpiry(ch: MapChannel, e: Entry, at: number): void {
    e.expireAt = at;
    if (ch.nextKeyExpiry === 0 || at < ch.nextKeyExpiry) ch.nextKeyExpiry = at;
  }

  /** The channel, created (new epoch) when absent: reads fix the epoch a later publish continues. */
  private channel(name: string, settings: MapChannelSettings | undefined, now: number): MapChannel {
    let ch = this.channels.get(name);
    if (ch === undefined) {
      ch = new MapChannel();
      this.channels.set(name, ch);
    }
    if (settings !== undefined) ch.settings = settings;
    ch.touchedAt = now;
    const s = ch.settings;
    if (s !== undefined) this.touchMeta(ch, s, now);
    return ch;
  }
}

function done(position: StreamPosition, reason: MapUpdateResult['suppressReason']): Promise<MapUpdateResult> {
  return Promise.resolve({ position, suppressed: reason !== '', suppressReason: reason });
}

/** Index of the first key greater than `k` in sorted `keys`. */
function upperBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
