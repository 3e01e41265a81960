// The gyre-shared suite (both modes) against real Centrifugo 6.9.1, when its binary is installed
// (scripts/install-centrifugo.sh); skipped otherwise.
import { describe } from 'node:test';
import { findCentrifugo } from '../harness/centrifugo.js';
import { sharedSuite } from './suite.js';

if (findCentrifugo() !== undefined) {
  sharedSuite('worker', 'centrifugo');
  sharedSuite('leader', 'centrifugo');
} else {
  describe('gyre-shared against centrifugo', { skip: 'centrifugo binary not installed' }, () => undefined);
}
