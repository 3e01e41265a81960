// deploy/helm/gyre: the config in values.yaml loads in Gyre without warnings, the pod's grace period covers the
// drain, and — when helm is installed (go install helm.sh/helm/v3/cmd/helm@v3.22.0) — `helm lint` passes and
// `helm template` renders probes on /ready and /health, terminationGracePeriodSeconds from the values, and the
// rollout strategy and HPA scale-down of deploy/k8s.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config/load.js';
import { REPO_ROOT } from '../../harness/gyre.js';

const chart = join(REPO_ROOT, 'deploy', 'helm', 'gyre');
interface Values {
  config: Record<string, unknown>;
  preStopSleep: number;
  shutdownTimeoutSeconds: number;
}
const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as Values;

function helmBinary(): string | null {
  for (const c of ['helm', join(homedir(), 'go', 'bin', 'helm')]) {
    if (spawnSync(c, ['version', '--short'], { encoding: 'utf8' }).status === 0) return c;
  }
  return null;
}
const helm = helmBinary();

describe('Helm chart', () => {
  it('values.yaml config loads in Gyre; shutdown.timeout holds pre-drain + drain; grace period above it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gyre-helm-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify(values.config));
      const { config, warnings } = loadConfig({ file, env: {} });
      assert.deepEqual(warnings, []);
      const sd = config.shutdown;
      assert.equal(sd.timeout, values.shutdownTimeoutSeconds * 1000);
      assert.ok(sd.pre_drain_delay + sd.drain_duration + 3000 <= sd.timeout);
      assert.equal(config.health.ready_handler_prefix, '/ready');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('helm lint and helm template', { skip: helm === null ? 'helm not installed' : false }, () => {
    const lint = spawnSync(helm as string, ['lint', chart], { encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    const t = spawnSync(helm as string, ['template', 'g', chart, '--set', 'hpa.enabled=true,serviceMonitor.enabled=true'], {
      encoding: 'utf8',
    });
    assert.equal(t.status, 0, t.stderr);
    const docs = t.stdout.split(/^---$/m).map((d) => parse(d) as { kind?: string } | null).filter((d) => d !== null);
    const kinds = docs.map((d) => d.kind).sort();
    assert.deepEqual(kinds, ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Service', 'ServiceMonitor']);
    const dep = docs.find((d) => d.kind === 'Deployment') as unknown as {
      spec: {
        strategy: { type: string; rollingUpdate: { maxUnavailable: number; maxSurge: number } };
        minReadySeconds: number;
        template: {
          spec: {
            terminationGracePeriodSeconds: number;
            containers: { readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } } }[];
          };
        };
      };
    };
    const pod = dep.spec.template.spec;
    assert.equal(pod.terminationGracePeriodSeconds, values.preStopSleep + values.shutdownTimeoutSeconds + 5);
    assert.equal(pod.containers[0]?.readinessProbe.httpGet.path, '/ready');
    assert.equal(pod.containers[0]?.livenessProbe.httpGet.path, '/health');
    // The same rollout and scale-down as deploy/k8s (docs/deploy.md §3): one pod drains at a time.
    assert.deepEqual(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    assert.equal(dep.spec.minReadySeconds, 5);
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler') as unknown as {
      spec: { behavior?: { scaleDown?: { policies: { type: string; value: number; periodSeconds: number }[] } } };
    };
    assert.deepEqual(hpa.spec.behavior?.scaleDown?.policies, [{ type: 'Pods', value: 1, periodSeconds: 60 }]);
  });
});
