// One connection's shared poll subscription (docs/shared-poll.md): the keys it tracks with the version it holds of
// each and the expiry of the signature that allowed it. Updates reach it only when newer than what it holds, so
// re-broadcasts of an unchanged key (for a client that joined later) never reach clients already up to date.
import type { Publication } from '../../protocol/types.js';
import type { Session } from '../session.js';
import type { Subscription } from '../subscription.js';

export interface TrackedKey {
  version: number;
  /** Unix seconds the track signature expires; 0 = never. */
  expireAt: number;
}

/** A publication encoded at most once per protocol, for every connection it goes to. */
export class SharedPush {
  private jsonBytes: Uint8Array | null | undefined = undefined;
  private pbBytes: Uint8Array | undefined = undefined;

  constructor(
    readonly channel: string,
    readonly pub: Publication,
  ) {}

  /** The bytes for this session's protocol; undefined when JSON cannot carry the data (binary from the backend). */
  bytesFor(s: Session): Uint8Array | undefined {
    const codec = s.codec;
    if (s.json) {
      if (this.jsonBytes === undefined) {
        this.jsonBytes = this.pub.data.length === 0 || codec.canCarry(this.pub.data) ? codec.encodePublicationPush(this.channel, this.pub) : null;
      }
      return this.jsonBytes ?? undefined;
    }
    this.pbBytes ??= codec.encodePublicationPush(this.channel, this.pub);
    return this.pbBytes;
  }
}

export class SharedPollSub {
  readonly tracked = new Map<string, TrackedKey>();
  /** Lower bound of the tracked keys' expiries (0 = none expire): the expiry sweep skips the others. */
  minExpireAt = 0;
  closed = false;

  constructor(
    readonly session: Session,
    readonly sub: Subscription,
    readonly channel: string,
  ) {}

  /** Delivers `push` for `key` at `version` when the connection tracks the key at an older version. */
  deliverUpdate(key: string, version: number, push: SharedPush): void {
    const t = this.tracked.get(key);
    if (t === undefined || version <= t.version || this.closed) return;
    const bytes = push.bytesFor(this.session);
    if (bytes === undefined) return;
    t.version = version;
    this.session.deliver(bytes);
  }

  /** The key is gone: the connection stops tracking it and is told so. */
  deliverRemoval(key: string, push: SharedPush): void {
    if (!this.tracked.delete(key) || this.closed) return;
    const bytes = push.bytesFor(this.session);
    if (bytes !== undefined) this.session.deliver(bytes);
  }
}
