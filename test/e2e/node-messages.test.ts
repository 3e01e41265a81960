// Node message counts on the memory engine and on two nodes of a real Redis, against real Centrifugo 6.9.1
// (./node-messages.ts).
import { nodeMessagesSuite } from './node-messages.js';

nodeMessagesSuite(['memory', 'redis'], false);
