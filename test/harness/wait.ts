// Bounded waiting helpers for tests: every wait has a deadline and says what it was waiting for on timeout.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with `p`, or rejects after `ms` with a message naming `what`. The timer never outlives the call. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, or the deadline passes. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let i = 0; i < 100_000; i++) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${suffix}`);
}

interface OnceEmitter {
  once(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** First emission of `event` on an EventEmitter-like object (centrifuge clients/subscriptions, ws sockets). */
export function nextEvent<T = unknown>(emitter: OnceEmitter, event: string, ms = 10_000): Promise<T> {
  let listener: ((arg: T) => void) | undefined;
  const p = new Promise<T>((resolve) => {
    listener = (arg: T) => resolve(arg);
    emitter.once(event, listener);
  });
  return withTimeout(p, ms, `event "${event}"`).finally(() => {
    if (listener !== undefined) emitter.off(event, listener);
  });
}
