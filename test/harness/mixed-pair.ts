// A Gyre node and a real Centrifugo node on the same backing servers (Redis, shards, a Redis Cluster, NATS...):
// the mixed-cluster fixture. mixedPair() registers a before hook in the calling describe that starts the backing
// servers, then both nodes with the same config (each its own node.name), and an after hook that closes the
// clients of its pool and stops all of it, whatever part of the start got through. Callers keep their describe's
// skip for a missing binary or server.
import { after, before } from 'node:test';
import { findCentrifugo, startCentrifugo, type CentrifugoProcess } from './centrifugo.js';
import { ClientPool } from './clients.js';
import { startGyre, type GyreProcess } from './gyre.js';

/** The backing servers a pair runs on; `stop` stops all of them. */
export interface Backends {
  stop(): Promise<unknown>;
}

/** One node of the pair, as the cross-node scenarios take it. */
export interface PairNode<P> {
  name: string;
  url: string;
  apiUrl: string;
  proc: P;
}

export interface MixedPair<B extends Backends> {
  /** The Gyre node (available from the describe's first test on). */
  readonly gyre: PairNode<GyreProcess>;
  /** The Centrifugo node. */
  readonly cf: PairNode<CentrifugoProcess>;
  /** What `start` returned. */
  readonly backends: B;
  /** Clients the tests open, closed in the after hook. */
  readonly pool: ClientPool;
}

export interface MixedPairOptions<B extends Backends> {
  /** Starts the backing servers. */
  start: () => Promise<B>;
  /** The config of a node called `nodeName` on them (Gyre and Centrifugo read the same keys). */
  config: (backends: B, nodeName: string) => Record<string, unknown>;
  /** node.name of the Gyre node and of the Centrifugo node. */
  names: readonly [gyre: string, centrifugo: string];
}

function nodeOf<P extends { url: string; apiUrl: string }>(name: string, proc: P): PairNode<P> {
  return { name, url: proc.url, apiUrl: proc.apiUrl, proc };
}

export function mixedPair<B extends Backends>(opts: MixedPairOptions<B>): MixedPair<B> {
  const pool = new ClientPool();
  let backends: B | undefined;
  let gyre: PairNode<GyreProcess> | undefined;
  let cf: PairNode<CentrifugoProcess> | undefined;
  before(async () => {
    backends = await opts.start();
    const b = backends;
    const [gyreName, cfName] = opts.names;
    const binary = findCentrifugo();
    const [g, c] = await Promise.allSettled([
      startGyre(opts.config(b, gyreName)),
      startCentrifugo(opts.config(b, cfName), binary === undefined ? {} : { binary }),
    ]);
    // Keep what started, so that the after hook stops it when the other failed.
    if (g.status === 'fulfilled') gyre = nodeOf(gyreName, g.value);
    if (c.status === 'fulfilled') cf = nodeOf(cfName, c.value);
    if (g.status === 'rejected') throw g.reason;
    if (c.status === 'rejected') throw c.reason;
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([gyre?.proc.stop(), cf?.proc.stop()]);
    await backends?.stop();
  });
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`mixedPair: ${what} is not started (the before hook has not run or failed)`);
    return v;
  };
  return {
    get gyre() {
      return started(gyre, 'the Gyre node');
    },
    get cf() {
      return started(cf, 'the Centrifugo node');
    },
    get backends() {
      return started(backends, 'the backing servers');
    },
    pool,
  };
}
