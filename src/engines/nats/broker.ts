// The NATS broker: publications, joins and leaves on core NATS subject `{prefix}.client.{channel}`, one
// centrifugal/protocol Push per message (./wire.ts), as Centrifugo's NATS broker sends them, so Gyre and
// Centrifugo nodes on one NATS deliver each other's messages. At most once, no history (Centrifugo's NATS broker
// answers "not available" for history; the start-up check refuses namespaces with history). Node-level
// subscriptions: one NATS subscription per channel, a batch confirmed by one flush round trip. After a reconnect
// the client has resubscribed, and the core is told that every subscribed channel may have missed publications.
import type { Subscription } from '@nats-io/transport-node';
import { Errors } from '../../protocol/errors.js';
import type { ClientInfo, StreamPosition } from '../../protocol/types.js';
import type { Broker, BrokerEventHandler, EngineCapabilities, PublishOptions, PublishResult } from '../types.js';
import type { NatsLink } from './connection.js';
import { NatsConnectionError } from './connection.js';
import { encodePresencePush, encodePublicationPush, parseNatsPush, WireError } from './wire.js';

export interface NatsBrokerOptions {
  /** Subject prefix (`broker.nats.prefix`, default "centrifugo"). */
  prefix: string;
  /** Longest wait for the server to confirm a batch of subscriptions. */
  writeTimeoutMs: number;
  /** A message on a client subject that is not a Push Gyre understands. */
  onDropped?: (reason: string) => void;
}

/** NATS subject wildcards: Centrifugo refuses such channels (without allow_wildcards); whitespace is not a subject. */
function validSubjectToken(channel: string): boolean {
  return !/[*>\s]/.test(channel) && channel !== '';
}

export class NatsBroker implements Broker {
  readonly capabilities: EngineCapabilities = { history: false, atomicHistory: false, presence: true };
  private handler: BrokerEventHandler | undefined = undefined;
  private readonly subs = new Map<string, Subscription>();
  /** Channels an unsubscribe call is about to drop; a subscribe meanwhile takes the channel back. */
  private readonly leaving = new Set<string>();
  private readonly clientPrefix: string;

  constructor(
    private readonly link: NatsLink,
    private readonly opts: NatsBrokerOptions,
  ) {
    this.clientPrefix = `${opts.prefix}.client.`;
    link.onReconnect(() => {
      if (this.subs.size > 0) this.handler?.onSubscriptionLost?.([...this.subs.keys()]);
    });
  }

  subject(channel: string): string {
    return this.clientPrefix + channel;
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    await this.link.open();
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    const nc = this.link.conn();
    const added: string[] = [];
    for (const ch of channels) {
      this.leaving.delete(ch);
      if (this.subs.has(ch)) continue;
      if (!validSubjectToken(ch)) throw Errors.badRequest();
      const sub = nc.subscribe(this.subject(ch), {
        callback: (err, msg) => {
          if (err === null) this.onMessage(ch, msg.data);
        },
      });
      this.subs.set(ch, sub);
      added.push(ch);
    }
    if (added.length === 0) return;
    try {
      await withTimeout(nc.flush(), this.opts.writeTimeoutMs, 'NATS did not confirm the subscriptions');
    } catch (err) {
      for (const ch of added) {
        this.subs.get(ch)?.unsubscribe();
        this.subs.delete(ch);
      }
      throw err;
    }
  }

  /**
   * One round trip first, so that what the server routed to this node before the call is still delivered (the
   * client drops messages of a closed subscription); then UNSUB. While NATS is unreachable the round trip is
   * bounded by the write timeout and the UNSUB happens anyway.
   */
  async unsubscribe(channels: readonly string[]): Promise<void> {
    const present = channels.filter((ch) => this.subs.has(ch));
    if (present.length === 0) return;
    for (const ch of present) this.leaving.add(ch);
    try {
      await withTimeout(this.link.conn().flush(), this.opts.writeTimeoutMs, 'NATS did not answer');
    } catch {
      /* unsubscribing anyway */
    }
    for (const ch of present) {
      if (!this.leaving.delete(ch)) continue;
      const sub = this.subs.get(ch);
      if (sub === undefined) continue;
      this.subs.delete(ch);
      if (!sub.isClosed()) sub.unsubscribe();
    }
  }

  publish(channel: string, data: Uint8Array, opts: PublishOptions): Promise<PublishResult> {
    return this.sendPublication(channel, data, opts, undefined).then(() => ({ suppressed: false }));
  }

  /**
   * A publication whose stream position another store assigned (the redisnats broker: Redis appended it to the
   * channel's history). Subscribers on every node receive it with that offset and epoch.
   */
  publishWithPosition(channel: string, data: Uint8Array, opts: PublishOptions, position: StreamPosition): Promise<void> {
    return this.sendPublication(channel, data, opts, position);
  }

  private sendPublication(
    channel: string,
    data: Uint8Array,
    opts: PublishOptions,
    position: StreamPosition | undefined,
  ): Promise<void> {
    if (!validSubjectToken(channel)) return Promise.reject(Errors.badRequest());
    const useDelta = opts.useDelta === true;
    return this.send(channel, encodePublicationPush(channel, data, opts.clientInfo, opts.tags, Date.now(), useDelta, position));
  }

  /** Whether `channel` can be a NATS subject token (no wildcards, no whitespace); others get 107. */
  static supportsChannel(channel: string): boolean {
    return validSubjectToken(channel);
  }

  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return this.send(channel, encodePresencePush(channel, 'join', info));
  }

  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return this.send(channel, encodePresencePush(channel, 'leave', info));
  }

  private send(channel: string, payload: Uint8Array): Promise<void> {
    try {
      this.link.publish(this.subject(channel), payload);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new NatsConnectionError(String(err)));
    }
  }

  private onMessage(channel: string, data: Uint8Array): void {
    const h = this.handler;
    if (h === undefined) return;
    let push;
    try {
      push = parseNatsPush(data);
    } catch (err) {
      if (!(err instanceof WireError) && !(err instanceof RangeError)) throw err;
      this.opts.onDropped?.('malformed');
      return;
    }
    if (push.kind === 'publication') {
      h.onPublication(channel, push.pub, push.position, push.timeMs > 0 ? push.timeMs : undefined);
    }
    else if (push.kind === 'join') h.onJoin(channel, push.info);
    else h.onLeave(channel, push.info);
  }

  close(): Promise<void> {
    this.handler = undefined;
    this.subs.clear();
    this.leaving.clear();
    return Promise.resolve();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new NatsConnectionError(message)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err instanceof Error ? err : new NatsConnectionError(String(err)));
      },
    );
  });
}
