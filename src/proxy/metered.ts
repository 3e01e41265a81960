// A ProxyClient that feeds Centrifugo's proxy metrics (src/metrics/proxy.ts): inflight while a call runs, its
// duration when it ends either way, and an error when it produced no usable answer (ProxyCallError). A backend's
// own error or disconnect answer is a successful call, as in Centrifugo.
import { proxyMetrics } from '../metrics/proxy.js';
import type { CallContext, ProxyClient, ProxyKind, ProxyMessages, ProxyResponse } from './types.js';

export class MeteredProxyClient implements ProxyClient {
  /** The error and inflight series of the kind it serves start at 0, as Centrifugo shows them before any call. */
  constructor(
    private readonly inner: ProxyClient,
    kind: ProxyKind,
  ) {
    const labels = labelsOf(inner, kind);
    proxyMetrics.errors.inc(labels, 0);
    proxyMetrics.inflight.inc(labels, 0);
  }

  get name(): string {
    return this.inner.name;
  }
  get protocol(): 'http' | 'grpc' {
    return this.inner.protocol;
  }
  get endpoint(): string {
    return this.inner.endpoint;
  }
  get binary(): boolean {
    return this.inner.binary;
  }
  get includeMeta(): boolean {
    return this.inner.includeMeta;
  }

  call<K extends ProxyKind>(kind: K, req: ProxyMessages[K]['req'], ctx: CallContext): Promise<ProxyResponse<K>> {
    return metered(labelsOf(this.inner, kind), () => this.inner.call(kind, req, ctx));
  }

  close(): void {
    this.inner.close();
  }
}

export interface ProxyLabels {
  protocol: string;
  type: string;
  name: string;
}

/** Runs one proxy call (or a stream's opening) under the in-flight gauge, the durations and the error count. */
export async function metered<T>(labels: ProxyLabels, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  proxyMetrics.inflight.inc(labels);
  try {
    return await run();
  } catch (err) {
    proxyMetrics.errors.inc(labels);
    throw err;
  } finally {
    proxyMetrics.inflight.dec(labels);
    const seconds = (performance.now() - started) / 1000;
    proxyMetrics.duration.observe(labels, seconds);
    proxyMetrics.durationSummary.observe(labels, seconds);
  }
}

function labelsOf(c: ProxyClient, kind: ProxyKind): ProxyLabels {
  return { protocol: c.protocol, type: kind, name: kind === 'connect' || kind === 'refresh' ? 'default' : c.name };
}
