// IIFE entry (client/dist/gyre-shared.js): one script tag gives the page the global `GyreShared`; the worker
// script is found beside this bundle through document.currentScript (read while the script runs).
import { Centrifuge, setDefaultWorkerUrl } from './centrifuge.js';
import { DecorrelatedJitter, initialDelay } from './backoff.js';
import { Subscription } from './subscription.js';

const script = document.currentScript;
if (script instanceof HTMLScriptElement && script.src !== '') {
  setDefaultWorkerUrl(new URL('gyre-shared-worker.js', script.src).href);
}

export { Centrifuge, Subscription, DecorrelatedJitter, initialDelay };
