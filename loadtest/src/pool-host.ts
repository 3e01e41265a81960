// Drives one ConnPool from runner messages (ToWorker) and reports back (FromWorker). The same object runs
// inside a worker thread (worker.ts), inside a generator child process, or in the runner's own thread
// (`--workers 0`, used by tests), so every mode shares one message protocol.
import { ConnPool } from './conn-pool.js';
import type { FromWorker, ToWorker } from './messages.js';

export class PoolHost {
  private pool: ConnPool | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private workerId = -1;
  private done = false;

  /** `onDone` runs once after the pool stopped and its final tick was posted. */
  constructor(
    private readonly post: (m: FromWorker) => void,
    private readonly onDone: () => void = () => undefined,
  ) {}

  private fatal(err: unknown): void {
    this.post({ type: 'fatal', workerId: this.workerId, message: err instanceof Error ? err.message : String(err) });
  }

  handle(msg: ToWorker): void {
    switch (msg.type) {
      case 'init': {
        if (this.pool !== null) return;
        this.workerId = msg.workerId;
        let p: ConnPool;
        try {
          p = new ConnPool(msg.config, msg.workerId);
        } catch (err) {
          this.fatal(err);
          return;
        }
        this.pool = p;
        // The connect phase ends on the runner's side as soon as it knows: no waiting for the next tick.
        p.onAllSettled = () => this.post({ type: 'tick', tick: p.snapshot() });
        p.prepare().then(
          () => this.post({ type: 'prepared', workerId: this.workerId }),
          (err: unknown) => this.fatal(err),
        );
        this.ticker = setInterval(() => this.post({ type: 'tick', tick: p.snapshot() }), msg.config.tickMs);
        return;
      }
      case 'start':
        this.pool?.start();
        return;
      case 'flush':
        if (this.pool !== null) this.post({ type: 'tick', tick: this.pool.snapshot() });
        return;
      case 'stop': {
        const p = this.pool;
        if (this.ticker !== null) clearInterval(this.ticker);
        this.ticker = null;
        if (p === null || this.done) {
          this.finish();
          return;
        }
        p.stop().then(
          () => {
            this.post({ type: 'stopped', tick: p.snapshot() });
            this.finish();
          },
          (err: unknown) => {
            this.fatal(err);
            this.finish();
          },
        );
        return;
      }
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onDone();
  }
}
