// SharedWorker entry: one hub (one real connection) for every tab of this profile and origin that uses the same
// share key (the worker name). The hub holds a Web Lock for its lifetime so tabs learn when the worker dies; each
// tab holds its own lock, so the hub learns when a tab is closed or frozen (a MessagePort has no close event).
import { Hub } from './hub.js';
import { lockNames, randomId, type ToHub } from './messages.js';

declare const self: SharedWorkerGlobalScope;

const key = self.name;
const hubId = randomId();
let hub: Hub | undefined;
/** Never settles: the hub lock is held for the worker's lifetime. */
const held = new Promise<void>(() => undefined);
// Ports that connected before the hub lock was granted wait here.
const early: { port: MessagePort; m: ToHub }[] = [];

void navigator.locks.request(lockNames.hub(key, hubId), async () => {
  hub = new Hub({
    hubId,
    watchTab: (tab, onGone) => {
      void navigator.locks.request(lockNames.tab(key, tab), () => onGone());
    },
    // The hub lock goes with the worker itself (released when it has terminated), so tabs that see it released
    // get a new worker, not this closing one.
    die: () => self.close(),
  });
  for (const e of early.splice(0)) hub.handle(e.m, (out) => e.port.postMessage(out));
  await held;
});

self.onconnect = (ev: MessageEvent): void => {
  const port = ev.ports[0];
  if (port === undefined) return;
  port.onmessage = (me: MessageEvent<ToHub>): void => {
    if (hub === undefined) early.push({ port, m: me.data });
    else hub.handle(me.data, (out) => port.postMessage(out));
  };
  port.start();
};
