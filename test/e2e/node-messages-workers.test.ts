// Node message counts of 2 worker processes on the memory engine, summed by /metrics, against 2 real Centrifugo
// 6.9.1 nodes on Redis with the same placement of the clients (./node-messages.ts).
import { nodeMessagesSuite } from './node-messages.js';

nodeMessagesSuite([], true);
