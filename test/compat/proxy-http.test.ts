// Proxies to the application backend over HTTP (docs/proxy.md): the shared suite in proxy.suite.ts.
import { proxySuite } from './proxy.suite.js';

proxySuite('http');
