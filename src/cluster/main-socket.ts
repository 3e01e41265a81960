// The main port's listening socket under `none` scheduling, owned by the primary (docs/workers.md, "Several
// copies of the listening socket"). The primary binds it once, never listens on it and never polls it, and
// sends it to each worker `node.listen_copies` times: every send passes a new file descriptor of the same
// socket (SCM_RIGHTS), and the worker listens on each. Node 20's libuv accepts one connection per ready
// listening descriptor and event-loop turn, so K descriptors let a worker accept up to K per turn. The
// primary's own descriptor keeps the socket, its port and its queue alive while no worker listens (Node's
// cluster closes a shared socket once the last worker's copy is closed).
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { GyreConfig } from '../config/types.js';

/** The TCP handle Node's net module makes for a server socket (opaque here: only passed on and closed). */
export interface ServerHandle {
  close(): void;
}

type CreateServerHandle = (address: string | null, port: number, addressType: number) => ServerHandle | number;

/** Node's own helper for cluster shared handles (bind without listen); undefined if this Node lacks it. */
function createServerHandle(): CreateServerHandle | undefined {
  const f = (net as unknown as { _createServerHandle?: unknown })._createServerHandle;
  return typeof f === 'function' ? (f as CreateServerHandle) : undefined;
}

/** Whether this Node can bind a socket for the workers without listening on it (Node 20 can). */
export function canOwnMainSocket(): boolean {
  return createServerHandle() !== undefined;
}

/**
 * Whether the primary owns the main port's socket and hands out copies: `none` scheduling on a fixed port (port 0
 * is a private port per process) on a Node that can bind without listening. Otherwise Node's cluster shares it.
 */
export function primaryOwnsMainSocket(config: Readonly<GyreConfig>): boolean {
  return config.node.workers_scheduling === 'none' && config.http_server.port !== 0 && canOwnMainSocket();
}

/** The bound main socket, created on first use; `host` '' binds every address (IPv6 first, as net.listen does). */
export class MainSocket {
  private bound: Promise<ServerHandle | number> | undefined;
  private handle: ServerHandle | undefined;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** The handle, or a negative errno (EADDRINUSE…) when the bind failed; a failed bind is tried again next call. */
  get(): Promise<ServerHandle | number> {
    this.bound ??= this.bind().then((h) => {
      if (typeof h === 'number') this.bound = undefined;
      else if (this.closed) h.close();
      else this.handle = h;
      return h;
    });
    return this.bound;
  }

  close(): void {
    this.closed = true;
    this.handle?.close();
    this.handle = undefined;
  }

  private async bind(): Promise<ServerHandle | number> {
    const create = createServerHandle();
    if (create === undefined) throw new Error('this Node cannot bind a socket for the workers');
    if (this.host === '') return create(null, this.port, 4);
    const family = net.isIP(this.host);
    if (family !== 0) return create(this.host, this.port, family);
    const a = await lookup(this.host);
    return create(a.address, this.port, a.family);
  }
}
