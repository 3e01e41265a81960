// Cluster messages between the primary and its workers that are not engine traffic (that is
// src/engines/primary/protocol.ts): a worker is up, the /metrics aggregation round trip, and the
// open-connection counts of the share cap, and the copies of the main port's listening socket.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export const CLUSTER_TAG = 'cluster';
/** The environment variable the primary sets in each worker it forks: the worker's slot, 1..node.workers. */
export const WORKER_SLOT_ENV = 'GYRE_WORKER_SLOT';

export type WorkerMetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/** Worker → primary. */
export type WorkerMessage =
  | { k: 1; port: number; nodeId: string } // listening, ready to serve
  | { k: 2; id: number } // asks for the aggregated /metrics text
  | { k: 3; id: number; metrics: WorkerMetricsJson } // this worker's metrics, answering a collect
  | { k: 4; open: number } // this worker's open connections on the shared port (share cap, ./share-cap.ts)
  | { k: 5; listening: boolean } // false: may I stop accepting? true: I listen again (share cap)
  | { k: 6; id: number }; // send me the main port's listening socket, node.listen_copies times (./main-socket.ts)

/** Primary → worker. */
export type PrimaryMessage =
  | { k: 10; id: number; text: string; contentType: string } // aggregated /metrics text
  | { k: 11; id: number } // collect this worker's metrics
  | { k: 12; others: number } // the other workers' open connections together (share cap)
  | { k: 13; granted: boolean } // answers k 5 false: another worker accepts, this one may stop (share cap)
  | { k: 14 } // listen again now: no other worker accepts any more (one exited; share cap)
  // One copy of the main port's socket (the handle rides with the message), answering k 6 `id`; `copies` of them
  // come. errno ≠ 0: the primary could not bind the port, and no handle comes.
  | { k: 15; id: number; copies: number; errno: number };

/** The errno (negative, libuv's form) a k 15 carries when no socket comes with it for another reason than a bind error. */
export const NO_SOCKET_ERRNO = -22; // EINVAL
