// deploy/k8s (plain manifests): every file parses; the ConfigMap's config loads in Gyre without warnings and its
// drain fits shutdown.timeout; the Deployment probes /ready and /health, and its grace period is the preStop sleep
// + shutdown.timeout + 5 s; Service, HPA and ServiceMonitor point at the same labels and port name.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config/load.js';
import { REPO_ROOT } from '../../harness/gyre.js';

const dir = join(REPO_ROOT, 'deploy', 'k8s');
type Doc = Record<string, unknown> & { kind?: string; metadata?: { name?: string; labels?: Record<string, string> } };
const docs = new Map<string, Doc>();
for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) docs.set(f, parse(readFileSync(join(dir, f), 'utf8')) as Doc);

interface Container {
  args: string[];
  ports: Array<{ name: string; containerPort: number }>;
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}
interface Deployment {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { terminationGracePeriodSeconds: number; containers: Container[] } };
  };
}

describe('plain Kubernetes manifests', () => {
  it('the ConfigMap config loads; the Deployment derives its grace period from preStop + shutdown.timeout', () => {
    const cm = docs.get('configmap.yaml') as { data: { 'config.json': string } };
    const tmp = mkdtempSync(join(tmpdir(), 'gyre-k8s-'));
    try {
      const file = join(tmp, 'config.json');
      writeFileSync(file, cm.data['config.json']);
      const { config, warnings } = loadConfig({ file, env: {} });
      assert.deepEqual(warnings, []);
      const sd = config.shutdown;
      assert.ok(sd.pre_drain_delay + sd.drain_duration + 3000 <= sd.timeout, JSON.stringify(sd));
      const dep = docs.get('deployment.yaml') as unknown as Deployment;
      const pod = dep.spec.template.spec;
      const c = pod.containers[0] as Container;
      const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
      assert.equal(pod.terminationGracePeriodSeconds, preStop + sd.timeout / 1000 + 5);
      assert.equal(c.readinessProbe.httpGet.path, config.health.ready_handler_prefix);
      assert.equal(c.livenessProbe.httpGet.path, config.health.handler_prefix);
      assert.equal(c.ports[0]?.containerPort, config.http_server.port);
      assert.deepEqual(c.args, ['-c', '/etc/gyre/config.json']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('Service, HPA, ServiceMonitor and kustomization agree with the Deployment', () => {
    const dep = docs.get('deployment.yaml') as unknown as Deployment;
    const labels = dep.spec.template.metadata.labels;
    assert.deepEqual(dep.spec.selector.matchLabels, labels);
    const svc = docs.get('service.yaml') as { spec: { selector: Record<string, string>; ports: Array<{ name: string; targetPort: string }> } };
    assert.deepEqual(svc.spec.selector, labels);
    assert.equal(svc.spec.ports[0]?.targetPort, dep.spec.template.spec.containers[0]?.ports[0]?.name);
    const hpa = docs.get('hpa.yaml') as { spec: { scaleTargetRef: { kind: string; name: string } } };
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: docs.get('deployment.yaml')?.metadata?.name });
    const sm = docs.get('servicemonitor.yaml') as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } };
    assert.deepEqual(sm.spec.selector.matchLabels, docs.get('service.yaml')?.metadata?.labels);
    assert.deepEqual(sm.spec.endpoints[0], { port: 'http', path: '/metrics', interval: '15s' });
    const k = docs.get('kustomization.yaml') as { resources: string[] };
    for (const r of k.resources) assert.ok(docs.has(r), `kustomization lists ${r}`);
  });
});
