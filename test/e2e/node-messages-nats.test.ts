// Node message counts on two nodes of a real nats-server (presence in Redis), against real Centrifugo 6.9.1
// (./node-messages.ts).
import { nodeMessagesSuite } from './node-messages.js';

nodeMessagesSuite(['nats'], false);
