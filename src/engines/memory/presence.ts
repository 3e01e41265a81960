// In-memory presence: channel → clientId → {info, expireAt}. Entries expire unless re-added within the
// presence TTL; reads drop expired entries lazily and an unref'd timer sweeps the rest.
import type { PresenceManager, PresenceStats } from '../types.js';
import type { ClientInfo } from '../../protocol/types.js';

export interface MemoryPresenceOptions {
  /** Entry lifetime since the last add (default 60 s). */
  presenceTtlMs?: number;
  /** Period of the expiry sweep (default 5 s). */
  sweepIntervalMs?: number;
  now?: () => number;
}

interface Entry {
  info: ClientInfo;
  expireAt: number;
}

export class MemoryPresenceManager implements PresenceManager {
  private readonly channels = new Map<string, Map<string, Entry>>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(opts: MemoryPresenceOptions = {}) {
    this.ttlMs = opts.presenceTtlMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.sweepTimer = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? 5000);
    this.sweepTimer.unref();
  }

  add(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    let m = this.channels.get(channel);
    if (m === undefined) {
      m = new Map();
      this.channels.set(channel, m);
    }
    const expireAt = this.now() + this.ttlMs;
    const e = m.get(clientId);
    if (e === undefined) m.set(clientId, { info, expireAt });
    else {
      e.info = info;
      e.expireAt = expireAt;
    }
    return Promise.resolve();
  }

  remove(channel: string, clientId: string, _userId: string): Promise<void> {
    const m = this.channels.get(channel);
    if (m !== undefined) {
      m.delete(clientId);
      if (m.size === 0) this.channels.delete(channel);
    }
    return Promise.resolve();
  }

  get(channel: string): Promise<Map<string, ClientInfo>> {
    const out = new Map<string, ClientInfo>();
    const m = this.live(channel);
    if (m !== undefined) for (const [id, e] of m) out.set(id, e.info);
    return Promise.resolve(out);
  }

  stats(channel: string): Promise<PresenceStats> {
    const m = this.live(channel);
    if (m === undefined) return Promise.resolve({ numClients: 0, numUsers: 0 });
    const users = new Set<string>();
    for (const e of m.values()) users.add(e.info.user);
    return Promise.resolve({ numClients: m.size, numUsers: users.size });
  }

  /** Drops expired entries of every channel. */
  sweep(): void {
    for (const channel of this.channels.keys()) this.live(channel);
  }

  /** Number of channels with presence entries (tests, metrics). */
  get channelCount(): number {
    return this.channels.size;
  }

  close(): Promise<void> {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.channels.clear();
    return Promise.resolve();
  }

  /** The channel's map with expired entries removed, or undefined when none is left. */
  private live(channel: string): Map<string, Entry> | undefined {
    const m = this.channels.get(channel);
    if (m === undefined) return undefined;
    const now = this.now();
    for (const [id, e] of m) if (e.expireAt <= now) m.delete(id);
    if (m.size === 0) {
      this.channels.delete(channel);
      return undefined;
    }
    return m;
  }
}
