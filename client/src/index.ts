// ESM entry of the browser add-on: `import { Centrifuge } from 'gyre-shared'` instead of 'centrifuge'.
// The worker script is found beside this module (import.meta.url) unless options.shared.workerUrl says otherwise.
import { setDefaultWorkerUrl } from './centrifuge.js';

setDefaultWorkerUrl(new URL('./gyre-shared-worker.js', import.meta.url).href);

export { Centrifuge, type ClientState, type SharedOptions } from './centrifuge.js';
export { Subscription, type SubState } from './subscription.js';
export { DecorrelatedJitter, initialDelay } from './backoff.js';
