// How a tab reaches the hub. WorkerLink: a SharedWorker port (one worker per share key). LeaderLink: Web Locks
// leader election plus a BroadcastChannel relay; the leader tab runs the hub itself. Both tell the facade when a
// (new) hub is there to say hello to, and when the one it knew is gone.
import { Hub } from './hub.js';
import { lockNames, randomId, type ToHub, type ToTab } from './messages.js';

export interface LinkHost {
  /** Messages from the hub for this tab. */
  deliver(m: ToTab): void;
  /** A (new) hub can be greeted: send hello (the host knows whether it had a hub before). */
  greet(): void;
}

export interface HubLink {
  readonly kind: 'worker' | 'leader';
  post(m: ToHub): void;
  /** The hub this tab was welcomed by is gone (its lock was released). */
  hubGone(): void;
  /** Page frozen / put in the back-forward cache: let go of everything. */
  suspend(): void;
  /** Page back from the back-forward cache. */
  resume(): void;
  /** Whether the hub runs in this tab (leader). */
  isLocal(): boolean;
}

export class WorkerLink implements HubLink {
  readonly kind = 'worker';
  private port: MessagePort | undefined;

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly host: LinkHost,
  ) {}

  start(): void {
    this.open();
    this.host.greet();
  }

  post(m: ToHub): void {
    this.port?.postMessage(m);
  }

  hubGone(): void {
    this.port?.close();
    this.open();
    this.host.greet();
  }

  suspend(): void {
    this.port?.close();
    this.port = undefined;
    this.welcomed();
  }

  resume(): void {
    this.open();
    this.host.greet();
  }

  isLocal(): boolean {
    return false;
  }

  private welcomeTimer: ReturnType<typeof setTimeout> | undefined;
  private retries = 0;

  private open(): void {
    const w = new SharedWorker(this.url, { name: this.key, type: 'classic' });
    const port = w.port;
    port.onmessage = (ev: MessageEvent<ToTab>): void => {
      if (port !== this.port) return;
      if (ev.data.t === 'welcome') this.welcomed();
      this.host.deliver(ev.data);
    };
    port.start();
    this.port = port;
    // Right after a worker died, the browser may still hand out that closing worker: no welcome comes. Then ask
    // again for a fresh one (1 s, 2 s, 4 s … up to 10 s apart).
    if (this.welcomeTimer !== undefined) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = setTimeout(
      () => {
        if (this.port !== port) return;
        this.retries++;
        port.close();
        this.open();
        this.host.greet();
      },
      Math.min(10_000, 1000 * 2 ** this.retries),
    );
  }

  private welcomed(): void {
    this.retries = 0;
    if (this.welcomeTimer !== undefined) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = undefined;
  }
}

type Envelope =
  | { dir: 'hub'; m: ToHub }
  | { dir: 'tab'; to: string; m: ToTab }
  | { dir: 'announce'; hub: string };

export class LeaderLink implements HubLink {
  readonly kind = 'leader';
  private bc: BroadcastChannel;
  private hub: Hub | undefined;
  private releaseLeader: (() => void) | undefined;
  private stopped = false;
  /** Frozen or in the back-forward cache (the BroadcastChannel is closed meanwhile). */
  private suspended = false;

  constructor(
    private readonly key: string,
    private readonly tab: () => string,
    private readonly host: LinkHost,
  ) {
    this.bc = this.openChannel();
  }

  private openChannel(): BroadcastChannel {
    const bc = new BroadcastChannel(`gyre-shared:${this.key}`);
    bc.onmessage = (ev: MessageEvent<Envelope>): void => this.onEnvelope(ev.data);
    return bc;
  }

  start(): void {
    this.host.greet();
    this.elect();
  }

  post(m: ToHub): void {
    if (this.hub !== undefined) this.hub.handle(m, (out) => queueMicrotask(() => this.host.deliver(out)));
    else this.bc.postMessage({ dir: 'hub', m } satisfies Envelope);
  }

  hubGone(): void {
    // The next leader announces itself; nothing to do until then.
  }

  suspend(): void {
    if (this.suspended) return;
    this.suspended = true;
    this.leave();
    // Chromium evicts a page from the back-forward cache when a message reaches its open BroadcastChannel: close
    // it while suspended, so the page stays cached and comes back with its state.
    this.bc.close();
  }

  /** Stops leading (and stops standing for election). */
  private leave(): void {
    this.stopped = true;
    this.hub?.close();
    this.hub = undefined;
    this.releaseLeader?.();
    this.releaseLeader = undefined;
  }

  resume(): void {
    if (!this.suspended) return;
    this.suspended = false;
    this.bc = this.openChannel();
    this.stopped = false;
    this.host.greet();
    this.elect();
  }

  isLocal(): boolean {
    return this.hub !== undefined;
  }

  private elect(): void {
    void navigator.locks.request(lockNames.leader(this.key), async () => {
      if (this.stopped) return;
      const hubId = randomId();
      const done = new Promise<void>((resolve) => {
        this.releaseLeader = resolve;
      });
      await new Promise<void>((granted) => {
        void navigator.locks.request(lockNames.hub(this.key, hubId), async () => {
          granted();
          await done;
        });
      });
      this.hub = new Hub({
        hubId,
        watchTab: (tab, onGone) => {
          void navigator.locks.request(lockNames.tab(this.key, tab), () => onGone());
        },
        die: () => this.leave(),
      });
      this.bc.postMessage({ dir: 'announce', hub: hubId } satisfies Envelope);
      this.host.greet();
      await done;
    });
  }

  private onEnvelope(e: Envelope): void {
    switch (e.dir) {
      case 'hub': {
        const hub = this.hub;
        if (hub === undefined) return;
        const to = e.m.tab;
        hub.handle(e.m, (out) => {
          if (to === this.tab()) queueMicrotask(() => this.host.deliver(out));
          else this.bc.postMessage({ dir: 'tab', to, m: out } satisfies Envelope);
        });
        return;
      }
      case 'tab':
        if (e.to === this.tab()) this.host.deliver(e.m);
        return;
      case 'announce':
        if (this.hub === undefined && !this.stopped) this.host.greet();
        return;
    }
  }
}
