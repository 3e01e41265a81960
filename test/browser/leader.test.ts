// gyre-shared without SharedWorker (deleted by an init script): leader election with Web Locks and a
// BroadcastChannel relay, against a real Gyre process in real Chromium (suite.ts).
import { sharedSuite } from './suite.js';

sharedSuite('leader', 'gyre');
