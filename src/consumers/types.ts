// The contract of an async consumer (docs/consumers.md): something that reads server API commands from an
// external queue or table and runs them through a CommandDispatcher. Each implementation has its own file
// (postgresql.ts, …) and is built by the factory in index.ts; app.ts starts them after the node and stops them
// before the node shuts down.

/** What became of one consumed command. */
export type DispatchOutcome =
  /** Executed (its reply, error or not, is final). */
  | 'done'
  /** Not executed and never will be: malformed, unknown or unsupported method, or a non-retryable API error. */
  | 'skipped';

/** Runs consumed commands the way Centrifugo's consuming dispatcher does (src/consumers/dispatcher.ts). */
export interface CommandDispatcher {
  /**
   * Runs one command. `method` may be empty: `payload` is then `{"method": …, "payload": …}`. Resolves with
   * the outcome; rejects with RetryableDispatchError when the command failed with an internal error and must
   * be consumed again (the queue keeps it).
   */
  dispatch(method: string, payload: Uint8Array): Promise<DispatchOutcome>;
  /**
   * Publishes ready publication data (Kafka's publication data mode): `publish` for one channel, `broadcast`
   * for several. Same outcomes and retry rule as dispatch().
   */
  dispatchPublication(channels: readonly string[], pub: ConsumedPublication): Promise<DispatchOutcome>;
}

/** Publication data and options taken from a consumed message's headers. */
export interface ConsumedPublication {
  data: Uint8Array;
  idempotencyKey: string;
  delta: boolean;
  tags?: Record<string, string>;
}

/** The command failed with an internal error (API code 100): the consumer keeps it and retries after a backoff. */
export class RetryableDispatchError extends Error {
  override readonly name = 'RetryableDispatchError';
  constructor(
    readonly method: string,
    readonly code: number,
  ) {
    super(`consumed ${method} failed with internal error ${code}, will retry`);
  }
}

export type ConsumerType = 'postgresql' | 'kafka';

export interface Consumer {
  readonly name: string;
  readonly type: ConsumerType;
  /**
   * Connects (a failure rejects: Gyre does not start, as Centrifugo) and starts consuming in the background.
   * Called once.
   */
  start(): Promise<void>;
  /**
   * Stops consuming: the command being run finishes, what was consumed is committed, connections are closed.
   * Idempotent; resolves within the grace period even when the source hangs.
   */
  close(): Promise<void>;
}
