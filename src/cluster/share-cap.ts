// The share cap of `node.workers_scheduling: none` (docs/workers.md): every worker accepts on the shared listen
// socket itself, so a burst can go mostly to one worker. A worker well over its share of the open connections
// stops accepting (it closes only its own copies of the listening socket; the primary and the other workers
// keep the socket and its queue) and listens again once it is back near its share. The open counts of the other workers come from the primary (messages k 4 / 12), and the primary lets
// a worker pause only while another one accepts (k 5 / 13).
import type { Server as NetServer } from 'node:net';
import type { Logger } from 'pino';
import type { GyreConfig } from '../config/types.js';
import { resolveWorkers } from './count.js';
import type { WorkerLink } from './worker.js';

/** Pause above this multiple of the mean open connections per worker… */
export const SHARE_PAUSE = 1.15;
/** …and accept again at or below this one. */
export const SHARE_RESUME = 1.05;
/** Below this many open connections a worker never pauses (small counts are not worth a round trip). */
export const SHARE_FLOOR = 256;
/** At most one report of this worker's count to the primary per this many ms. */
const REPORT_MS = 50;
/** After the primary refused a pause (no other worker accepting), ask again no sooner than this. */
const ASK_AGAIN_MS = 100;

export interface ShareInput {
  own: number;
  /** Open connections of all the other workers together (as last reported). */
  others: number;
  workers: number;
  /** Connections this worker can hold at most (fd limit − reserve, client.connection_limit), Infinity if none. */
  limit: number;
  paused: boolean;
  /** SHARE_FLOOR unless told. */
  floor?: number | undefined;
}

/**
 * Whether this worker should be paused. It pauses only while it holds more than the mean, so at least one
 * worker always accepts; it pauses above SHARE_PAUSE × mean (and the floor), or near its own limit, and
 * resumes at SHARE_RESUME × mean (or under the floor and under 97 % of its limit).
 */
export function shouldPause(i: ShareInput): boolean {
  const mean = (i.own + i.others) / Math.max(1, i.workers);
  const floor = i.floor ?? SHARE_FLOOR;
  if (i.own <= mean) return false;
  if (!i.paused) return i.own > Math.max(SHARE_PAUSE * mean, floor) || i.own >= i.limit;
  return i.own > Math.max(SHARE_RESUME * mean, floor) || i.own >= Math.floor(i.limit * 0.97);
}

export interface ShareCapOptions {
  server: NetServer;
  workers: number;
  limit: number;
  /** Listens again on the shared port (resolves when listening). */
  relisten: () => Promise<void>;
  /** Stops accepting on the shared port (server.close() unless told: every copy of the socket this worker holds). */
  stopAccepting?: () => void;
  report: (open: number) => void;
  /**
   * Asks the primary whether this worker may stop accepting; the answer comes to answerPause(). The primary
   * says yes only while another worker accepts: were every worker's copy of the shared handle closed, the
   * primary would close the socket itself (queued connections reset, new ones refused).
   */
  askPause: () => void;
  /** Tells the primary that this worker listens again (after the handle came back). */
  resumed: () => void;
  onPause?: (paused: boolean, own: number, others: number) => void;
  /** SHARE_FLOOR unless told (tests). */
  floor?: number;
}

/** Counts this worker's open connections on `server` and pauses / resumes accepting as shouldPause says. */
export class ShareCap {
  private own = 0;
  private others = 0;
  private paused = false;
  /** A pause request or a listen is on its way to the primary. */
  private busy = false;
  /** No new pause request before this time (the primary said no). */
  private askAfter = 0;
  private stopped = false;
  private reported = -1;
  private reportTimer: NodeJS.Timeout | undefined;

  /** One listener for every connection's 'close' (a socket closes once), not a closure and a once-wrapper each. */
  private readonly onClose = (): void => {
    this.own--;
    this.changed();
  };

  constructor(private readonly o: ShareCapOptions) {
    o.server.on('connection', (s) => {
      this.own++;
      s.on('close', this.onClose);
      this.changed();
    });
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The primary's latest sum of the other workers' open connections. */
  setOthers(n: number): void {
    this.others = n;
    this.check();
  }

  /** The primary's answer to askPause. */
  answerPause(granted: boolean): void {
    this.busy = false;
    if (!granted) {
      this.askAfter = Date.now() + ASK_AGAIN_MS;
      return;
    }
    const still = shouldPause({ own: this.own, others: this.others, workers: this.o.workers, limit: this.o.limit, paused: false, floor: this.o.floor });
    if (this.stopped || !still || !this.o.server.listening) {
      this.o.resumed();
      return;
    }
    this.paused = true;
    if (this.o.stopAccepting !== undefined) this.o.stopAccepting();
    else this.o.server.close();
    this.o.onPause?.(true, this.own, this.others);
  }

  /** No other worker accepts any more (one exited): listen again now, and ask before pausing again. */
  mustListen(): void {
    if (!this.paused || this.busy || this.stopped) return;
    this.askAfter = Date.now() + ASK_AGAIN_MS;
    this.relisten();
  }

  /** Shutdown: never listen again; the caller closes the server. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.reportTimer);
  }

  private changed(): void {
    this.check();
    if (this.reportTimer === undefined && !this.stopped) {
      this.reportTimer = setTimeout(() => {
        this.reportTimer = undefined;
        if (this.own !== this.reported) {
          this.reported = this.own;
          this.o.report(this.own);
        }
      }, REPORT_MS);
      this.reportTimer.unref();
    }
  }

  private check(): void {
    if (this.stopped || this.busy) return;
    const pause = shouldPause({ own: this.own, others: this.others, workers: this.o.workers, limit: this.o.limit, paused: this.paused, floor: this.o.floor });
    if (pause === this.paused) return;
    if (pause) {
      if (!this.o.server.listening || Date.now() < this.askAfter) return;
      this.busy = true;
      this.o.askPause();
      return;
    }
    this.relisten();
  }

  private relisten(): void {
    this.busy = true;
    this.o.relisten().then(
      () => {
        this.busy = false;
        this.paused = false;
        // A shutdown that began meanwhile found the server closed: close it again.
        if (this.stopped) {
          this.o.server.close();
          return;
        }
        this.o.resumed();
        this.o.onPause?.(false, this.own, this.others);
        this.check();
      },
      () => {
        this.busy = false;
      },
    );
  }
}

/** Wires a ShareCap between a worker's listening server and the primary; `fdRoom` is fd limit − fd_reserve. */
export function installShareCap(
  server: NetServer,
  link: WorkerLink,
  config: Readonly<GyreConfig>,
  fdRoom: number,
  relisten: () => Promise<unknown>,
  logger: Logger,
  stopAccepting?: () => void,
): ShareCap {
  const cl = config.client.connection_limit;
  const cap = new ShareCap({
    server,
    workers: resolveWorkers(config.node.workers),
    limit: Math.min(fdRoom, cl > 0 ? cl : Infinity),
    relisten: async () => {
      await relisten();
    },
    ...(stopAccepting !== undefined ? { stopAccepting } : {}),
    report: (open) => link.reportOpen(open),
    askPause: () => link.setListening(false),
    resumed: () => link.setListening(true),
    onPause: (paused, own, others) => logger.debug({ own, others }, paused ? 'share cap: over its share, not accepting' : 'share cap: accepting again'),
  });
  link.onOthers((n) => cap.setOthers(n));
  link.onPauseAnswer((granted) => cap.answerPause(granted));
  link.onMustListen(() => cap.mustListen());
  return cap;
}
