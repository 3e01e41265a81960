// One shared timer for many deadlines (session ping, pong, stale, expiry, periodic tick): entries sit in slots
// of `granularityMs`; a single unref'd interval runs while any entry is armed and fires each due slot in
// order. Per connection this costs two numbers instead of several Timeout objects, timer lists and closures.
// An entry fires at its deadline or up to one granularity later, never earlier.

/** What the wheel holds: the entry object itself carries its position (no wrapper allocated per arm). */
export interface WheelEntry {
  /** Slot key the entry sits in, -1 when not armed. Owned by the wheel. */
  wheelSlot: number;
  /** Index inside the slot's array. Owned by the wheel. */
  wheelIndex: number;
  /** Called once when the armed deadline has passed (the entry is already disarmed). */
  onWheel(nowMs: number): void;
}

export class TimerWheel {
  private readonly slots = new Map<number, WheelEntry[]>();
  private armed = 0;
  private interval: NodeJS.Timeout | undefined = undefined;
  /** Last slot key whose entries were fired. */
  private done: number;

  constructor(readonly granularityMs: number) {
    this.done = Math.floor(Date.now() / granularityMs);
  }

  get size(): number {
    return this.armed;
  }

  /** Arms (or re-arms) `e` to fire at `deadlineMs` (epoch ms). */
  arm(e: WheelEntry, deadlineMs: number): void {
    if (e.wheelSlot !== -1) this.disarm(e);
    let key = Math.ceil(deadlineMs / this.granularityMs);
    if (key <= this.done) key = this.done + 1;
    let list = this.slots.get(key);
    if (list === undefined) {
      list = [];
      this.slots.set(key, list);
    }
    e.wheelSlot = key;
    e.wheelIndex = list.length;
    list.push(e);
    if (this.armed++ === 0) this.start();
  }

  disarm(e: WheelEntry): void {
    const key = e.wheelSlot;
    if (key === -1) return;
    e.wheelSlot = -1;
    const list = this.slots.get(key);
    if (list === undefined) return;
    const last = list.pop()!;
    if (last !== e) {
      list[e.wheelIndex] = last;
      last.wheelIndex = e.wheelIndex;
    }
    if (list.length === 0) this.slots.delete(key);
    if (--this.armed === 0) this.stop();
  }

  private start(): void {
    if (this.interval !== undefined) return;
    // Catch up from now: nothing was armed while stopped.
    this.done = Math.max(this.done, Math.floor(Date.now() / this.granularityMs) - 1);
    this.interval = setInterval(() => this.run(), this.granularityMs);
    this.interval.unref();
  }

  private stop(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
    this.interval = undefined;
  }

  /** Fires every slot whose time has come (also callable directly, e.g. by tests). */
  run(): void {
    const now = Date.now();
    const upTo = Math.floor(now / this.granularityMs);
    while (this.done < upTo) {
      const key = ++this.done;
      const list = this.slots.get(key);
      if (list === undefined) continue;
      this.slots.delete(key);
      this.armed -= list.length;
      for (let i = 0; i < list.length; i++) list[i]!.wheelSlot = -1;
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        // Re-armed by an earlier callback of this slot: it now lives elsewhere.
        if (e.wheelSlot !== -1) continue;
        try {
          e.onWheel(now);
        } catch {
          // An entry's failure must not stop the others; entries report their own errors.
        }
      }
    }
    if (this.armed === 0) this.stop();
  }
}

const wheels = new Map<number, TimerWheel>();

/** The process-wide wheel of a granularity (one per distinct granularity, created on first use). */
export function sharedWheel(granularityMs: number): TimerWheel {
  const g = Math.max(1, Math.floor(granularityMs));
  let w = wheels.get(g);
  if (w === undefined) {
    w = new TimerWheel(g);
    wheels.set(g, w);
  }
  return w;
}
