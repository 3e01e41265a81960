// A small typed event emitter with the method names of Node's EventEmitter that centrifuge's classes expose
// (on/once/off/addListener/removeListener/removeAllListeners/emit/listeners), for the page-side facade.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener parameter lists vary per event
export type EventMap = Record<string, (...args: any[]) => void>;

export class Emitter<E extends EventMap> {
  private readonly map = new Map<keyof E, { fn: E[keyof E]; once: boolean }[]>();

  on<K extends keyof E>(event: K, fn: E[K]): this {
    return this.add(event, fn, false);
  }

  addListener<K extends keyof E>(event: K, fn: E[K]): this {
    return this.add(event, fn, false);
  }

  once<K extends keyof E>(event: K, fn: E[K]): this {
    return this.add(event, fn, true);
  }

  off<K extends keyof E>(event: K, fn: E[K]): this {
    const list = this.map.get(event);
    if (list === undefined) return this;
    const i = list.findIndex((l) => l.fn === fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  removeListener<K extends keyof E>(event: K, fn: E[K]): this {
    return this.off(event, fn);
  }

  removeAllListeners<K extends keyof E>(event?: K): this {
    if (event === undefined) this.map.clear();
    else this.map.delete(event);
    return this;
  }

  listeners<K extends keyof E>(event: K): E[K][] {
    return (this.map.get(event) ?? []).map((l) => l.fn as E[K]);
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): boolean {
    const list = this.map.get(event);
    if (list === undefined || list.length === 0) return false;
    for (const l of [...list]) {
      if (l.once) this.off(event, l.fn as E[K]);
      try {
        (l.fn as (...a: Parameters<E[K]>) => void)(...args);
      } catch (e) {
        // A throwing listener must not break delivery to the others (nor the hub link).
        setTimeout(() => {
          throw e;
        }, 0);
      }
    }
    return true;
  }

  private add<K extends keyof E>(event: K, fn: E[K], once: boolean): this {
    let list = this.map.get(event);
    if (list === undefined) {
      list = [];
      this.map.set(event, list);
    }
    list.push({ fn, once });
    return this;
  }
}

/** What `waitForState` needs of a client or subscription: its `state` event. */
interface StateEvents {
  on(event: 'state', fn: (ctx: { newState: string }) => void): unknown;
  off(event: 'state', fn: (ctx: { newState: string }) => void): unknown;
}

/**
 * The `ready()` of a client or subscription once it is neither there nor finished: resolves when the state becomes
 * `good`, rejects with `failure` on any state other than `pending`, or with 'timeout' after `timeout` ms.
 */
export function waitForState(target: StateEvents, good: string, pending: string, failure: string, timeout?: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onState = (ctx: { newState: string }): void => {
      if (ctx.newState === pending) return;
      target.off('state', onState);
      if (timer !== undefined) clearTimeout(timer);
      if (ctx.newState === good) resolve();
      else reject(new Error(failure));
    };
    target.on('state', onState);
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        target.off('state', onState);
        reject(new Error('timeout'));
      }, timeout);
    }
  });
}
