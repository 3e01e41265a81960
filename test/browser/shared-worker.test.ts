// gyre-shared through a SharedWorker against a real Gyre process, in real Chromium (suite.ts).
import { sharedSuite } from './suite.js';

sharedSuite('worker', 'gyre');
