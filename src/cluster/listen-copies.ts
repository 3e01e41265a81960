// A worker's copies of the main port's listening socket (`none` scheduling on a fixed port, ./main-socket.ts).
// The first copy is the front's own server; every other copy gets a small net.Server of its own that hands
// each connection it accepts to the front's server ('connection', as if that server had accepted it). Node 20
// accepts one connection per ready listening descriptor and event-loop turn, so K copies accept up to K per turn.
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

/** While the accept queue has a backlog, at most this many parked connections start reading per turn. */
export const RESUME_PER_BACKLOG_TURN = 4;
/** Otherwise at most this many a turn (all at once, connections would finish in one wave: upgrades, then connects…). */
export const RESUME_PER_TURN = 64;

function listenOn(server: NetServer, handle: object, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    // A handle, not a port: net listens on it in this process (exclusive), never through the cluster primary.
    server.listen(handle, backlog > 0 ? backlog : undefined, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Accepting first (plain TCP only): every copy accepts with `pauseOnConnect`, so a new connection reads nothing
 * yet. In the turn's check phase, when every copy accepted in that turn (the kernel's queue likely holds more),
 * only RESUME_PER_BACKLOG_TURN of the parked connections start reading, so the next turns stay short and keep
 * accepting; once a turn accepts fewer than there are copies (the queue is drained), up to RESUME_PER_TURN a
 * turn start, oldest first. The wait of a burst then sits in this process rather than in the kernel's queue,
 * which drops SYNs when it is full (each costs its client a 1 s retransmit). Measured: docs/workers.md.
 */
export class ListenCopies {
  private helpers: NetServer[] = [];
  private readonly parking: boolean;
  /** Accepted connections not reading yet, from parkedHead on (FIFO). */
  private parked: Socket[] = [];
  private parkedHead = 0;
  private acceptedThisTurn = 0;
  private acceptedTotal = 0;
  private drainScheduled = false;
  /** Helpers closed (a pause, a shutdown) whose connections are not all gone yet. */
  private readonly closing = new Set<Promise<void>>();

  /** `fetch` gets the copies from the primary (WorkerLink.mainSocketCopies). */
  constructor(
    private readonly target: NetServer,
    private readonly backlog: number,
    private readonly fetch: () => Promise<object[]>,
  ) {
    this.parking = !(target instanceof TlsServer);
    if (this.parking) {
      (target as NetServer & { pauseOnConnect: boolean }).pauseOnConnect = true;
      target.on('connection', (socket: Socket) => this.park(socket));
    }
  }

  private park(socket: Socket): void {
    this.parked.push(socket);
    this.acceptedThisTurn++;
    this.acceptedTotal++;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    const copies = this.count;
    const backlog = copies > 0 && this.acceptedThisTurn >= copies;
    this.acceptedThisTurn = 0;
    const waiting = this.parked.length - this.parkedHead;
    const end = this.parkedHead + Math.min(backlog ? RESUME_PER_BACKLOG_TURN : RESUME_PER_TURN, waiting);
    for (let i = this.parkedHead; i < end; i++) {
      const s = this.parked[i];
      if (s !== undefined && !s.destroyed) s.resume();
    }
    this.parkedHead = end;
    if (this.parkedHead === this.parked.length) {
      this.parked = [];
      this.parkedHead = 0;
    } else {
      if (this.parkedHead > 1024) {
        this.parked = this.parked.slice(this.parkedHead);
        this.parkedHead = 0;
      }
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  };

  /**
   * Connections parked now, not reading yet (the admission guard counts them: they left the kernel's queue).
   * A parked socket reads nothing, so a client that gave up is only seen once it is resumed: it counts till then.
   */
  get parkedCount(): number {
    return this.parked.length - this.parkedHead;
  }

  /** Connections accepted on the copies so far (parked or not), monotonic. */
  get accepted(): number {
    return this.acceptedTotal;
  }

  /** Listening descriptors held now (the target's and the helpers'). */
  get count(): number {
    return (this.target.listening ? 1 : 0) + this.helpers.length;
  }

  /** Gets the copies and listens on every one; resolves with the port. */
  async open(): Promise<number> {
    const handles = await this.fetch();
    const [first, ...rest] = handles;
    if (first === undefined) throw new Error('the primary sent no copy of the main socket');
    try {
      await listenOn(this.target, first, this.backlog);
      for (const h of rest) {
        const helper = createServer({ pauseOnConnect: this.parking }, (socket) => this.target.emit('connection', socket));
        await listenOn(helper, h, this.backlog);
        this.helpers.push(helper);
      }
    } catch (err) {
      this.close();
      for (const h of handles) (h as { close(): void }).close();
      throw err;
    }
    return (this.target.address() as AddressInfo).port;
  }

  /** Stops accepting on every copy (the share cap's pause); connections already accepted stay. */
  close(): void {
    if (this.target.listening) this.target.close();
    this.closeHelpers();
  }

  /**
   * Shutdown: closes the helpers' copies (the front closes the target's); resolves once every connection a
   * helper accepted is gone, as the front's own close does for its connections.
   */
  closeAll(): Promise<void> {
    this.closeHelpers();
    return Promise.all([...this.closing]).then(() => undefined);
  }

  private closeHelpers(): void {
    for (const h of this.helpers) {
      // The callback runs once every connection this helper accepted has closed.
      const closed = new Promise<void>((r) => h.close(() => r()));
      this.closing.add(closed);
      void closed.then(() => this.closing.delete(closed));
    }
    this.helpers = [];
  }
}
