// The registry of a configuration without proxies (the core's default when none is given).
import type { ProxyRegistry } from './types.js';

export const NO_PROXIES: ProxyRegistry = {
  connect: undefined,
  refresh: undefined,
  subscribe: () => undefined,
  publish: () => undefined,
  subRefresh: () => undefined,
  rpc: () => undefined,
  subscribeStream: () => undefined,
  sharedPollRefresh: () => undefined,
  mapPublish: () => undefined,
  mapRemove: () => undefined,
  close: () => undefined,
};
