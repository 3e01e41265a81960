// The poll state of one shared poll channel on this node (docs/shared-poll.md): the tracked keys with the version
// the node last saw, who tracks each, and how a backend answer or a direct publish turns into updates. Versioned
// channels trust the backend's versions and its epoch (an epoch change resets every key and unsubscribes the
// trackers with 2500, so they track again from scratch); versionless channels compare a content hash and number
// changes themselves.
import { createHash } from 'node:crypto';
import { sharedPollMetrics, type PollTrigger } from '../../metrics/shared-poll.js';
import { randomLetters } from '../../util/random.js';
import { SharedPush, type SharedPollSub } from './connection.js';
import type { PollOptions } from './options.js';

export interface Entry {
  /** Last version seen (synthetic in versionless mode); 0 = no data yet. */
  version: number;
  /** Content hash of the last data (versionless mode). */
  hash: string;
  /** Send the current data even if unchanged: a client that joined late needs it. */
  needsBroadcast: boolean;
  /** Set by a direct publish: the next timer cycle skips the key once. */
  freshFromPublish: boolean;
  readonly subs: Set<SharedPollSub>;
}

/** One item of a backend answer. */
export interface PolledItem {
  key: string;
  data?: Uint8Array;
  version: number;
  removed: boolean;
}

function hashOf(data: Uint8Array | undefined): string {
  return createHash('sha1')
    .update(data ?? new Uint8Array(0))
    .digest('base64');
}

const EMPTY = new Uint8Array(0);

export class PollChannel {
  readonly entries = new Map<string, Entry>();
  /** Versionless: generated here; versioned: the backend's (or publisher's), "" until it names one. */
  epoch: string;
  private versionCounter = 0;
  /** Set once the state is dropped (no keys left after the shutdown delay); a new one replaces it. */
  removed = false;

  constructor(
    readonly channel: string,
    readonly opts: PollOptions,
  ) {
    this.epoch = opts.versioned ? '' : randomLetters(8);
  }

  /** The entry of `key`, created when new (version 0). */
  entry(key: string): { entry: Entry; isNew: boolean } {
    const found = this.entries.get(key);
    if (found !== undefined) return { entry: found, isNew: false };
    const entry: Entry = { version: 0, hash: '', needsBroadcast: false, freshFromPublish: false, subs: new Set() };
    this.entries.set(key, entry);
    return { entry, isNew: true };
  }

  /** Removes `sub` from `key`; the key is dropped when nobody tracks it any more. */
  removeSubscriber(key: string, sub: SharedPollSub): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    e.subs.delete(sub);
    if (e.subs.size === 0) this.entries.delete(key);
  }

  /** Everyone tracking any key of the channel (epoch flips). */
  private allSubscribers(): Set<SharedPollSub> {
    const out = new Set<SharedPollSub>();
    for (const e of this.entries.values()) for (const s of e.subs) out.add(s);
    return out;
  }

  /**
   * Versioned channels: a different epoch resets every key (version 0) and returns the trackers, which the caller
   * unsubscribes (insufficient state). Same epoch: nothing.
   */
  private flipEpoch(epoch: string): SharedPollSub[] {
    if (!this.opts.versioned || epoch === this.epoch) return [];
    this.epoch = epoch;
    for (const e of this.entries.values()) {
      e.version = 0;
      e.hash = '';
      e.needsBroadcast = false;
      e.freshFromPublish = false;
    }
    return [...this.allSubscribers()];
  }

  /** Applies a backend answer: updates for changed keys, re-broadcasts for late joiners, removals. */
  apply(items: readonly PolledItem[], epoch: string, trigger: PollTrigger, unsubscribe: (subs: SharedPollSub[]) => void): void {
    const flipped = this.flipEpoch(epoch);
    if (flipped.length > 0) unsubscribe(flipped);
    let changed = 0;
    let unchanged = 0;
    const updates: Array<{ key: string; version: number; data: Uint8Array }> = [];
    const removals: string[] = [];
    for (const it of items) {
      if (it.removed) {
        removals.push(it.key);
        continue;
      }
      const e = this.entries.get(it.key);
      if (e === undefined) continue;
      const data = it.data ?? EMPTY;
      if (!this.opts.versioned && it.version === 0) {
        const h = hashOf(it.data);
        const isChanged = e.version === 0 || h !== e.hash;
        e.hash = h;
        if (!isChanged) {
          unchanged++;
          if (e.needsBroadcast && e.version > 0) {
            e.needsBroadcast = false;
            updates.push({ key: it.key, version: e.version, data });
          }
          continue;
        }
        e.needsBroadcast = false;
        changed++;
        e.version = ++this.versionCounter;
        updates.push({ key: it.key, version: e.version, data });
        continue;
      }
      if (it.version <= e.version) {
        unchanged++;
        // Only the backend's own (version, data) pair may go out: a newer publish may have raced ahead.
        if (e.needsBroadcast && e.version > 0 && it.version === e.version) {
          e.needsBroadcast = false;
          updates.push({ key: it.key, version: it.version, data });
        }
        continue;
      }
      e.needsBroadcast = false;
      changed++;
      e.version = it.version;
      updates.push({ key: it.key, version: it.version, data });
    }
    const labels = { trigger, channel_namespace: '' };
    sharedPollMetrics.items.inc({ ...labels, result: 'changed' }, changed);
    sharedPollMetrics.items.inc({ ...labels, result: 'unchanged' }, unchanged);
    sharedPollMetrics.items.inc({ ...labels, result: 'removed' }, removals.length);
    for (const u of updates) this.broadcast(u.key, u.version, { data: u.data, key: u.key, version: u.version });
    for (const key of removals) this.remove(key);
  }

  /** A direct publish (shared_poll_publish, versioned channels): applied when newer than what the node has. */
  publish(key: string, version: number, epoch: string, data: Uint8Array, unsubscribe: (subs: SharedPollSub[]) => void): boolean {
    const flipped = this.flipEpoch(epoch);
    if (flipped.length > 0) unsubscribe(flipped);
    const e = this.entries.get(key);
    if (e === undefined) return false;
    if (version <= e.version) {
      sharedPollMetrics.publish.inc({ result: 'skipped', channel_namespace: '' });
      return false;
    }
    e.version = version;
    e.freshFromPublish = true;
    sharedPollMetrics.publish.inc({ result: 'applied', channel_namespace: '' });
    const pub = epoch !== '' ? { data, key, version, epoch } : { data, key, version };
    this.broadcast(key, version, pub);
    return true;
  }

  private broadcast(key: string, version: number, pub: { data: Uint8Array; key: string; version: number; epoch?: string }): void {
    const e = this.entries.get(key);
    if (e === undefined || e.subs.size === 0) return;
    const push = new SharedPush(this.channel, pub);
    for (const s of e.subs) s.deliverUpdate(key, version, push);
  }

  /** The backend says the key is gone: every tracker is told and stops tracking it. */
  private remove(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    const push = new SharedPush(this.channel, { data: EMPTY, key, removed: true });
    for (const s of e.subs) s.deliverRemoval(key, push);
    this.entries.delete(key);
  }
}
