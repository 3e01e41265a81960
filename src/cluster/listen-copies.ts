// A worker's copies of the main port's listening socket (`none` scheduling on a fixed port, ./main-socket.ts).
// The first copy is the front's own server; every other copy gets a small net.Server of its own that hands
// each connection it accepts to the front's server ('connection', as if that server had accepted it). Node 20
// accepts one connection per ready listening descriptor and event-loop turn, so K copies accept up to K per turn.
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';

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

export class ListenCopies {
  private helpers: NetServer[] = [];
  /** Helpers closed (a pause, a shutdown) whose connections are not all gone yet. */
  private readonly closing = new Set<Promise<void>>();

  /** `fetch` gets the copies from the primary (WorkerLink.mainSocketCopies). */
  constructor(
    private readonly target: NetServer,
    private readonly backlog: number,
    private readonly fetch: () => Promise<object[]>,
  ) {}

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
        const helper = createServer((socket) => this.target.emit('connection', socket));
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
