// Delivery of broker events to local subscribers (the hot path, docs/style.md §4.6): one encode per publication
// and protocol format actually present, then a plain indexed loop; no parsing, closures or promises per
// subscriber. Subscriptions still subscribing buffer the publication (merged after their reply).
import type { BrokerEventHandler } from '../engines/types.js';
import type { Codec } from '../protocol/codec.js';
import { Disconnects } from '../protocol/errors.js';
import type { ClientInfo, Publication, StreamPosition } from '../protocol/types.js';
import { performance } from 'node:perf_hooks';
import { countDeliveries } from '../metrics/messages.js';
import { countTagsFilterDropped, observeBroadcast, observePubSubLag } from '../metrics/observe.js';
import { DeltaFrames } from './delta.js';
import type { Hub } from './hub.js';
import { checkPosition, withEpoch } from './recovery.js';
import { SubState, type Subscription } from './subscription.js';
import { matchTags } from './tags-filter.js';

export class Fanout implements BrokerEventHandler {
  /** Reused scratch lists of actions that must not run inside the loop. */
  private readonly insufficient: Subscription[] = [];
  private readonly badProtocol: Subscription[] = [];
  private readonly deltaFrames: DeltaFrames;

  constructor(
    private readonly hub: Hub,
    private readonly json: Codec,
    private readonly protobuf: Codec,
  ) {
    this.deltaFrames = new DeltaFrames(json, protobuf);
  }

  /** `prev`: the channel's previous publication, given by the broker for publications made with delta. */
  onPublication(
    channel: string,
    pub: Publication,
    position: StreamPosition | undefined,
    publishedAtMs?: number,
    prev?: Publication,
  ): void {
    const entry = this.hub.channels.get(channel);
    if (entry === undefined) return;
    if (publishedAtMs !== undefined) observePubSubLag(publishedAtMs);
    const started = performance.now();
    const subs = entry.subs;
    const offset = position !== undefined ? position.offset : (pub.offset ?? 0);
    const epoch = position?.epoch;
    let jsonBytes: Uint8Array | undefined;
    let pbBytes: Uint8Array | undefined;
    let jsonOk = -1; // -1 unknown, 0 no, 1 yes
    let deltaBegun = false;
    let delivered = 0;
    let tagsDropped = 0;
    this.hub.beginIteration();
    try {
      for (let i = 0; i < subs.length; i++) {
        const sub = subs[i]!;
        if (sub.state !== SubState.Subscribed) {
          if (sub.state === SubState.Subscribing) sub.bufferPublication(pub, position);
          continue;
        }
        if (sub.positioned && offset > 0) {
          const verdict = checkPosition(sub, offset, epoch);
          if (verdict === 'drop') continue;
          if (verdict === 'insufficient') {
            this.insufficient.push(sub);
            continue;
          }
          sub.offset = offset;
          if (epoch !== undefined && sub.epoch === '') sub.epoch = epoch;
          sub.positionCheckedAt = Date.now();
        }
        if (sub.tagsFilter !== undefined && !matchTags(sub.tagsFilter, pub.tags)) {
          tagsDropped++;
          continue;
        }
        const session = sub.session;
        if (session.json) {
          if (jsonOk === -1) jsonOk = this.json.canCarry(pub.data) ? 1 : 0;
          if (jsonOk === 0) {
            this.badProtocol.push(sub);
            continue;
          }
        }
        if (sub.delta) {
          if (!deltaBegun) {
            this.deltaFrames.begin(channel, withEpoch(pub, position), prev);
            deltaBegun = true;
          }
          // As in Centrifugo: a delta only on a positioned subscription that already got a full publication.
          const frame = this.deltaFrames.frame(session.json, sub.deltaReady && sub.positioned && offset > 0);
          sub.deltaReady = true;
          if (frame !== undefined) {
            session.deliver(frame);
            delivered++;
            continue;
          }
        }
        if (session.json) {
          if (jsonBytes === undefined) jsonBytes = this.json.encodePublicationPush(channel, withEpoch(pub, position));
          session.deliver(jsonBytes);
        } else {
          if (pbBytes === undefined) pbBytes = this.protobuf.encodePublicationPush(channel, withEpoch(pub, position));
          session.deliver(pbBytes);
        }
        delivered++;
      }
    } finally {
      if (deltaBegun) this.deltaFrames.end();
      this.hub.endIteration();
    }
    if (delivered > 0) countDeliveries('publication', entry.namespace, delivered);
    if (tagsDropped > 0) countTagsFilterDropped(tagsDropped);
    observeBroadcast('publication', (performance.now() - started) / 1000);
    this.runDeferred();
  }

  onJoin(channel: string, info: ClientInfo): void {
    this.joinLeave(channel, info, true);
  }

  onLeave(channel: string, info: ClientInfo): void {
    this.joinLeave(channel, info, false);
  }

  /**
   * PUB/SUB was interrupted for these channels: subscribers tracking a stream position may have missed
   * publications, so they are told (2500 unsubscribe for client-side subscriptions, 3010 for server-side ones)
   * and recover from history when they subscribe again.
   */
  onSubscriptionLost(channels: readonly string[]): void {
    for (let c = 0; c < channels.length; c++) {
      const entry = this.hub.channels.get(channels[c]!);
      if (entry === undefined) continue;
      const subs = entry.subs;
      for (let i = 0; i < subs.length; i++) {
        const sub = subs[i]!;
        if (sub.state === SubState.Subscribed && sub.positioned) this.insufficient.push(sub);
      }
    }
    this.runDeferred();
  }

  private joinLeave(channel: string, info: ClientInfo, join: boolean): void {
    const entry = this.hub.channels.get(channel);
    if (entry === undefined) return;
    const subs = entry.subs;
    let jsonBytes: Uint8Array | undefined;
    let pbBytes: Uint8Array | undefined;
    let delivered = 0;
    this.hub.beginIteration();
    try {
      for (let i = 0; i < subs.length; i++) {
        const sub = subs[i]!;
        if (sub.state !== SubState.Subscribed || !sub.pushJoinLeave) continue;
        const session = sub.session;
        if (session.json) {
          jsonBytes ??= this.json.encodePush(join ? { channel, join: { info } } : { channel, leave: { info } });
          session.deliver(jsonBytes);
        } else {
          pbBytes ??= this.protobuf.encodePush(join ? { channel, join: { info } } : { channel, leave: { info } });
          session.deliver(pbBytes);
        }
        delivered++;
      }
    } finally {
      this.hub.endIteration();
    }
    if (delivered > 0) countDeliveries(join ? 'join' : 'leave', entry.namespace, delivered);
    this.runDeferred();
  }

  private runDeferred(): void {
    if (this.insufficient.length > 0) {
      const list = this.insufficient.splice(0, this.insufficient.length);
      for (let i = 0; i < list.length; i++) list[i]!.session.insufficientState(list[i]!);
    }
    if (this.badProtocol.length > 0) {
      const list = this.badProtocol.splice(0, this.badProtocol.length);
      for (let i = 0; i < list.length; i++) list[i]!.session.close(Disconnects.inappropriateProtocol());
    }
  }
}

