import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { synthesizeObjects, type KubeObject } from '../src/synth.ts';
import { REPO_ROOT } from './helpers/cli.ts';
import { container, find, flagValue } from './helpers/manifests.ts';
import { validateAny } from './helpers/validate-any.ts';

async function example(name: string): Promise<KubeObject[]> {
  return synthesizeObjects(await loadConfig(join(REPO_ROOT, 'examples', name)));
}

describe('examples/', () => {
  it('has one config per scenario, each synthesizing schema-valid objects', async () => {
    const files = (await readdir(join(REPO_ROOT, 'examples'))).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(['four-replicas-autoscaled.yaml', 'h100-single-node.yaml', 'h200-dp2-tp4.yaml', 'multi-node-2x4.yaml']);
    for (const f of files) {
      const objects = await example(f);
      for (const o of objects) expect(() => validateAny(o), `${f}: ${o.kind}/${o.metadata.name}`).not.toThrow();
      const text = await readFile(join(REPO_ROOT, 'examples', f), 'utf8');
      expect(text, f).toMatch(/^# yaml-language-server: \$schema=\.\.\/genrm\.schema\.json/);
    }
  });

  it('h100-single-node is the default deployment', async () => {
    const fromExample = await example('h100-single-node.yaml');
    const defaults = await synthesizeObjects(await loadConfig());
    expect(fromExample).toEqual(defaults);
  });

  it('h200-dp2-tp4 serves two TP4 engines per H200 node', async () => {
    const objects = await example('h200-dp2-tp4.yaml');
    const vllm = container(find(objects, 'Deployment').spec.template.spec, 'vllm');
    expect(flagValue(vllm.args, '--tensor-parallel-size')).toBe('4');
    expect(flagValue(vllm.args, '--data-parallel-size')).toBe('2');
    expect(vllm.env).toContainEqual({ name: 'VLLM_API_KEY', valueFrom: { secretKeyRef: { name: 'genrm-api-key', key: 'api-key' } } });
  });
});

describe('four replicas, autoscaled (KEDA), monitored, isolated', async () => {
  const objects = await example('four-replicas-autoscaled.yaml');
  const dep = find(objects, 'Deployment', 'genrm-server');

  it('leaves the replica count to the autoscaler', () => {
    expect(dep.spec.replicas).toBeUndefined();
    expect(dep.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  it('scales on vllm:num_requests_waiting with windows fit for multi-minute cold starts', () => {
    const so = find(objects, 'ScaledObject', 'genrm-server');
    expect(so.apiVersion).toBe('keda.sh/v1alpha1');
    expect(so.spec.scaleTargetRef).toMatchObject({ name: 'genrm-server', kind: 'Deployment', apiVersion: 'apps/v1' });
    expect(so.spec.minReplicaCount).toBe(1);
    expect(so.spec.maxReplicaCount).toBe(4);
    const trigger = so.spec.triggers[0];
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metricType).toBe('AverageValue');
    expect(trigger.metadata.query).toBe('sum(vllm:num_requests_waiting{namespace="genrm",model_name="nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603"})');
    expect(trigger.metadata.threshold).toBe('5');
    expect(trigger.metadata.serverAddress).toBe('http://prometheus-operated.monitoring.svc:9090');
    const behavior = so.spec.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(1800);
    expect(behavior.scaleUp.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 300 }]);
    expect(so.spec.cooldownPeriod).toBeGreaterThanOrEqual(1800);
  });

  it('protects the replicas with a disruption budget', () => {
    const pdb = find(objects, 'PodDisruptionBudget', 'genrm-server');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('server');
  });

  it('downloads the weights once onto one ReadWriteMany volume', () => {
    expect(find(objects, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteMany']);
    expect(find(objects, 'PersistentVolumeClaim').spec.storageClassName).toBe('shared-filesystem');
    expect(objects.filter((o) => o.kind === 'Job')).toHaveLength(1);
  });

  it("scrapes vLLM's and the gate's /metrics with a PodMonitor Prometheus selects", () => {
    const pm = find(objects, 'PodMonitor', 'genrm-server');
    expect(pm.metadata.labels.release).toBe('prometheus');
    expect(pm.spec.selector.matchLabels).toEqual(find(objects, 'Service', 'genrm').spec.selector);
    expect(pm.spec.podMetricsEndpoints.map((e: any) => [e.port, e.path])).toEqual([
      ['http', '/metrics'],
      ['gate', '/metrics'],
    ]);
    const ports = container(dep.spec.template.spec, 'vllm').ports.map((p: any) => p.name);
    expect(ports).toContain('http');
    expect(container(dep.spec.template.spec, 'judge-gate').ports.map((p: any) => p.name)).toContain('gate');
  });

  it('ships a Grafana dashboard with the queue, KV cache, latency, throughput and judge panels', () => {
    const cm = find(objects, 'ConfigMap', 'genrm-dashboard');
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    const dash = JSON.parse(cm.data['genrm-genrm.json']);
    const exprs = JSON.stringify(dash.panels);
    for (const m of [
      'vllm:num_requests_waiting',
      'vllm:kv_cache_usage_perc',
      'vllm:time_to_first_token_seconds_bucket',
      'vllm:e2e_request_latency_seconds_bucket',
      'vllm:generation_tokens_total',
      'genrm_gate_ready',
      'genrm_gate_check_duration_seconds',
    ]) {
      expect(exprs).toContain(m);
    }
  });

  it('lets only the trainers call the API', () => {
    const np = find(objects, 'NetworkPolicy', 'genrm-server');
    const trainers = np.spec.ingress.find((r: any) => r.ports?.length === 1);
    expect(trainers.from[0].namespaceSelector.matchExpressions[0].values).toEqual(['rlhf']);
    expect(trainers.from[0].podSelector.matchLabels).toEqual({ 'app.kubernetes.io/component': 'trainer' });
  });
});

describe('multi-node 2 x 4 GPUs (LeaderWorkerSet with Ray)', async () => {
  const objects = await example('multi-node-2x4.yaml');
  const lws = find(objects, 'LeaderWorkerSet', 'genrm-server');
  const leader = lws.spec.leaderWorkerTemplate.leaderTemplate;
  const worker = lws.spec.leaderWorkerTemplate.workerTemplate;

  it('groups a leader and a worker, restarted together', () => {
    expect(objects.some((o) => o.kind === 'Deployment')).toBe(false);
    expect(lws.spec.leaderWorkerTemplate.size).toBe(2);
    expect(lws.spec.leaderWorkerTemplate.restartPolicy).toBe('RecreateGroupOnPodRestart');
    expect(lws.spec.startupPolicy).toBe('LeaderCreated');
  });

  it('runs tensor parallel 4 within a node and pipeline parallel 2 across nodes, on Ray', () => {
    const vllm = container(leader.spec, 'vllm');
    expect(vllm.command.join(' ')).toContain('multi-node-serving.sh leader --ray_cluster_size=$(LWS_GROUP_SIZE)');
    expect(vllm.command.join(' ')).toContain('exec python3 -m vllm.entrypoints.openai.api_server "$@"');
    expect(flagValue(vllm.args, '--tensor-parallel-size')).toBe('4');
    expect(flagValue(vllm.args, '--pipeline-parallel-size')).toBe('2');
    expect(flagValue(vllm.args, '--distributed-executor-backend')).toBe('ray');
    expect(vllm.resources.limits['nvidia.com/gpu']).toBe(4);
    const w = container(worker.spec, 'vllm');
    expect(w.command.join(' ')).toContain('multi-node-serving.sh worker --ray_address=$(LWS_LEADER_ADDRESS)');
    expect(w.args ?? []).toEqual([]);
    expect(w.resources.limits['nvidia.com/gpu']).toBe(4);
  });

  it('puts the gate, the probes and the Service on the leader only', () => {
    expect(leader.spec.containers.map((c: any) => c.name)).toEqual(['vllm']);
    expect(leader.spec.initContainers.at(-1)).toMatchObject({ name: 'judge-gate', restartPolicy: 'Always' });
    expect(worker.spec.containers.map((c: any) => c.name)).toEqual(['vllm']);
    expect(worker.spec.initContainers.map((c: any) => c.name)).not.toContain('judge-gate');
    expect(container(worker.spec, 'vllm').lifecycle.preStop.httpGet).toBeUndefined();
    expect(container(leader.spec, 'vllm').readinessProbe.httpGet.path).toBe('/ready');
    expect(container(worker.spec, 'vllm').readinessProbe).toBeUndefined();
    const svc = find(objects, 'Service', 'genrm');
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(leader.metadata.labels[k]).toBe(v);
    expect(worker.metadata.labels['app.kubernetes.io/component']).toBe('server-worker');
  });

  it('checks each node with the preflight and waits for the shared weights on every pod', () => {
    for (const t of [leader, worker]) {
      expect(t.spec.initContainers.map((c: any) => c.name).slice(0, 2)).toEqual(['gpu-preflight', 'wait-for-weights']);
      const env = Object.fromEntries(t.spec.initContainers[0].env.map((e: any) => [e.name, e.value]));
      expect(env.GENRM_PREFLIGHT_GPU_COUNT).toBe('4');
      expect(t.spec.serviceAccountName).toBe('genrm-server');
    }
    expect(find(objects, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteMany']);
  });
});
