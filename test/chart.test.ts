import { describe, expect, it } from 'vitest';
import { MODEL_ID } from '../src/config/schema.ts';
import { container, find, flagValue, synth } from './helpers/manifests.ts';
import { validateKubeObject } from './helpers/kube-schema.ts';

describe('the default config (the model card)', async () => {
  const objects = await synth();
  const dep = find(objects, 'Deployment', 'genrm-server');
  const pod = dep.spec.template.spec;
  const vllm = container(pod, 'vllm');

  it('synthesizes the namespace first', () => {
    expect(objects[0].kind).toBe('Namespace');
    expect(objects[0].metadata.name).toBe('genrm');
  });

  it('runs vLLM with exactly the card flags', () => {
    const args: string[] = vllm.args;
    expect(vllm.command).toEqual(['python3', '-m', 'vllm.entrypoints.openai.api_server']);
    expect(flagValue(args, '--model')).toBe(MODEL_ID);
    expect(flagValue(args, '--served-model-name')).toBe(MODEL_ID);
    expect(args).toContain('--trust-remote-code');
    expect(flagValue(args, '--seed')).toBe('1');
    expect(flagValue(args, '--host')).toBe('0.0.0.0');
    expect(flagValue(args, '--port')).toBe('5000');
    expect(flagValue(args, '--tensor-parallel-size')).toBe('8');
    expect(flagValue(args, '--max-model-len')).toBe('40000');
    expect(flagValue(args, '--gpu-memory-utilization')).toBe('0.95');
    expect(args).not.toContain('--data-parallel-size');
    // each flag once
    const flags = args.filter((a) => a.startsWith('--'));
    expect(new Set(flags).size).toBe(flags.length);
  });

  it('is one replica, recreated on update (an 8-GPU pod cannot surge)', () => {
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('requests and limits 8 GPUs as a number', () => {
    expect(vllm.resources.limits['nvidia.com/gpu']).toBe(8);
    expect(vllm.resources.requests['nvidia.com/gpu']).toBe(8);
  });

  it('requests CPU, memory and ephemeral storage that fit an 8-GPU node', () => {
    expect(vllm.resources.requests.cpu).toBe('32');
    expect(vllm.resources.requests['ephemeral-storage']).toBe('50Gi');
    // 320 GiB for the process + 32 GiB of memory-backed /dev/shm
    expect(vllm.resources.limits.memory).toBe(`${352 * 1024}Mi`);
    expect(vllm.resources.requests.memory).toBe(vllm.resources.limits.memory);
  });

  it('requires Hopper nodes and tolerates the GPU taint', () => {
    const terms = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([{ matchExpressions: [{ key: 'nvidia.com/gpu.family', operator: 'In', values: ['hopper'] }] }]);
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('mounts a memory-backed /dev/shm with a size limit', () => {
    const shm = pod.volumes.find((v: any) => v.name === 'dshm');
    expect(shm.emptyDir).toEqual({ medium: 'Memory', sizeLimit: '32768Mi' });
    expect(vllm.volumeMounts).toContainEqual({ mountPath: '/dev/shm', name: 'dshm' });
  });

  it('gives the load a startup budget of at least 60 minutes', () => {
    const p = vllm.startupProbe;
    expect(p.httpGet).toMatchObject({ path: '/health', port: 5000 });
    expect(p.periodSeconds * p.failureThreshold).toBeGreaterThanOrEqual(3600);
  });

  it("has a liveness probe on the gate's /engine/live that only starts after the startup probe", () => {
    expect(vllm.livenessProbe.exec.command[2]).toContain('"http://127.0.0.1:8081/engine/live"');
    expect(vllm.startupProbe.httpGet).toMatchObject({ path: '/health', port: 5000 });
    expect(vllm.livenessProbe.initialDelaySeconds ?? 0).toBe(0);
    expect(vllm.startupProbe).toBeDefined(); // liveness is held off by the startup probe
  });

  it('has a readiness probe', () => {
    expect(vllm.readinessProbe).toBeDefined();
    expect(vllm.readinessProbe.periodSeconds).toBeGreaterThan(0);
  });

  it("drains: preStop GETs the gate's /drain from inside the pod, and the grace period covers the drain plus vLLM's stop", () => {
    expect(vllm.lifecycle.preStop.exec.command[2]).toContain('http://127.0.0.1:8081/drain');
    expect(vllm.lifecycle.preStop.httpGet).toBeUndefined();
    const drainMax = Number(container(pod, 'judge-gate').env.find((e: any) => e.name === 'GENRM_GATE_DRAIN_MAX_SECONDS').value);
    expect(drainMax).toBeGreaterThanOrEqual(300); // at least the judging request timeout
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(drainMax + 30);
  });

  it('hardens every container and does not mount a token', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('genrm-server');
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      expect(c.securityContext.allowPrivilegeEscalation, c.name).toBe(false);
      expect(c.securityContext.capabilities.drop, c.name).toEqual(['ALL']);
      expect(c.securityContext.seccompProfile.type, c.name).toBe('RuntimeDefault');
      expect(c.imagePullPolicy, c.name).toBe('IfNotPresent');
    }
    const sa = find(objects, 'ServiceAccount', 'genrm-server');
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  it('exposes port 5000 as http on a ClusterIP Service selecting only server pods', () => {
    const svc = find(objects, 'Service', 'genrm');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 5000, targetPort: 5000, protocol: 'TCP' }]);
    expect(svc.spec.selector).toEqual({
      'app.kubernetes.io/name': 'genrm',
      'app.kubernetes.io/instance': 'genrm',
      'app.kubernetes.io/component': 'server',
    });
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
  });

  it('uses stable readable names and the app.kubernetes.io labels everywhere', () => {
    for (const o of objects) {
      expect(o.metadata.name).toMatch(/^genrm(-[a-z-]+)?$/);
      expect(o.metadata.labels?.['app.kubernetes.io/name'], `${o.kind}/${o.metadata.name}`).toBe('genrm');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('genrm');
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('genrm');
      expect(o.metadata.labels?.['app.kubernetes.io/component']).toBeTruthy();
      if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('genrm');
    }
    expect(JSON.stringify(objects)).not.toContain('cdk8s.io/metadata.addr');
  });

  it('stores the weights on a 600Gi ReadWriteOnce claim the server pod fills itself (no Job to wait on), served offline', () => {
    const pvc = find(objects, 'PersistentVolumeClaim', 'genrm-weights');
    expect(pvc.spec.resources.requests.storage).toBe('600Gi');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(objects.some((o) => o.kind === 'Job')).toBe(false);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['gpu-preflight', 'download-weights', 'judge-gate']);
    const dl = container(pod, 'download-weights');
    expect(dl.volumeMounts).toContainEqual({ name: 'weights', mountPath: '/models' });
    expect(dl.resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(pod.volumes.map((v: any) => v.name)).toContain('download-script');
    const env = Object.fromEntries(dl.env.map((e: any) => [e.name, e.value]));
    expect(env.GENRM_MODEL_ID).toBe(MODEL_ID);
    expect(env.GENRM_MODEL_REVISION).toBe('main');
    const venv = Object.fromEntries(vllm.env.map((e: any) => [e.name, e.value]));
    expect(venv.HF_HUB_OFFLINE).toBe('1');
    expect(venv.HF_HOME).toBe(env.HF_HOME);
  });

  it('fills a ReadWriteMany claim once with a download Job the server pods wait for', async () => {
    const objects = await synth({ weights: { accessMode: 'ReadWriteMany' } });
    const pod = find(objects, 'Deployment').spec.template.spec;
    const vllm = container(pod, 'vllm');
    const job = find(objects, 'Job', 'genrm-weights-download');
    expect(job.spec.template.metadata.labels['app.kubernetes.io/component']).not.toBe('server');
    const dl = container(job.spec.template.spec, 'download');
    const env = Object.fromEntries(dl.env.map((e: any) => [e.name, e.value]));
    expect(env.GENRM_MODEL_ID).toBe(MODEL_ID);
    expect(env.GENRM_MODEL_REVISION).toBe('main');
    expect(Number(env.GENRM_DOWNLOAD_WORKERS)).toBe(8);
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    // the download script resumes and writes a completion marker the server waits for
    const script = find(objects, 'ConfigMap', 'genrm-weights-download').data['download-weights.py'];
    expect(script).toContain('snapshot_download(');
    expect(script).toContain('max_workers=workers');
    expect(script).toContain('os.replace(tmp, marker)');
    const wait = container(pod, 'wait-for-weights');
    expect(wait.env).toContainEqual({ name: 'GENRM_COMPLETE_MARKER', value: env.GENRM_COMPLETE_MARKER });
    const venv = Object.fromEntries(vllm.env.map((e: any) => [e.name, e.value]));
    expect(venv.HF_HUB_OFFLINE).toBe('1');
    expect(venv.HF_HOME).toBe(env.HF_HOME);
    expect(flagValue(vllm.args, '--revision')).toBe('main');
    // the download lands in a zone with GPU nodes: same affinity, no GPUs taken
    expect(job.spec.template.spec.affinity).toEqual(pod.affinity);
    expect(dl.resources.limits['nvidia.com/gpu']).toBeUndefined();
  });

  it('puts no API key in the manifests by default', () => {
    expect(vllm.env.find((e: any) => e.name === 'VLLM_API_KEY')).toBeUndefined();
  });

  it('validates every object against the Kubernetes OpenAPI schema', () => {
    expect(objects.length).toBeGreaterThanOrEqual(7);
    for (const o of objects) expect(() => validateKubeObject(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });
});

describe('config choices', () => {
  it('takes the API key from an existing Secret, never a literal', async () => {
    const objects = await synth({ apiKey: { secretName: 'genrm-api-key' } });
    const vllm = container(find(objects, 'Deployment').spec.template.spec, 'vllm');
    const key = vllm.env.find((e: any) => e.name === 'VLLM_API_KEY');
    expect(key).toEqual({ name: 'VLLM_API_KEY', valueFrom: { secretKeyRef: { name: 'genrm-api-key', key: 'api-key' } } });
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
  });

  it('uses the HF token from a Secret for the download', async () => {
    const objects = await synth({ weights: { hfTokenSecret: { name: 'hf', key: 'token' } } });
    const dl = container(find(objects, 'Deployment').spec.template.spec, 'download-weights');
    expect(dl.env).toContainEqual({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } });
  });

  it('serves staged weights from an existing claim, read-only, with no download', async () => {
    const objects = await synth({ weights: { source: 'existingClaim', existingClaim: 'models', path: 'genrm-2603' } });
    expect(objects.some((o) => o.kind === 'Job')).toBe(false);
    expect(objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    const pod = find(objects, 'Deployment').spec.template.spec;
    const vllm = container(pod, 'vllm');
    expect(flagValue(vllm.args, '--model')).toBe('/models/genrm-2603');
    expect(flagValue(vllm.args, '--served-model-name')).toBe(MODEL_ID);
    expect(pod.volumes).toContainEqual({ name: 'weights', persistentVolumeClaim: { claimName: 'models', readOnly: true } });
    expect((pod.initContainers ?? []).map((c: any) => c.name)).toEqual(['gpu-preflight', 'judge-gate']); // no wait, no download
    for (const o of objects) expect(() => validateKubeObject(o)).not.toThrow();
  });

  it('serves staged weights from a host path', async () => {
    const objects = await synth({ weights: { source: 'hostPath', hostPath: '/mnt/models/hf' } });
    const pod = find(objects, 'Deployment').spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'weights', hostPath: { path: '/mnt/models/hf', type: 'Directory' } });
    const vllm = container(pod, 'vllm');
    expect(flagValue(vllm.args, '--model')).toBe(MODEL_ID); // a Hugging Face cache layout
    expect(vllm.env).toContainEqual({ name: 'HF_HOME', value: '/models' });
  });

  it('rolls out with maxSurge 0 when RollingUpdate is chosen', async () => {
    // ReadWriteOncePod: the scheduler holds the new pod until the old one is gone (a ReadWriteOnce
    // volume would be mounted by both: refused, see synth-cli.test.ts).
    const dep = find(await synth({ rollout: { strategy: 'RollingUpdate' }, weights: { accessMode: 'ReadWriteOncePod' } }), 'Deployment');
    expect(dep.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  it('requires listed GPU products and extra node labels', async () => {
    const pod = find(
      await synth({ scheduling: { gpuFamily: null, gpuProducts: ['NVIDIA-H100-80GB-HBM3', 'NVIDIA-H200'], nodeSelector: { pool: 'genrm' } } }),
      'Deployment',
    ).spec.template.spec;
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-H100-80GB-HBM3', 'NVIDIA-H200'] },
      { key: 'pool', operator: 'In', values: ['genrm'] },
    ]);
  });

  it('sets a priority class when asked', async () => {
    const pod = find(await synth({ scheduling: { priorityClassName: 'genrm-critical' } }), 'Deployment').spec.template.spec;
    expect(pod.priorityClassName).toBe('genrm-critical');
  });

  it('passes extra flags after the card flags and sizes shm and memory together', async () => {
    const objects = await synth({ vllm: { extraArgs: ['--enable-prefix-caching'] }, shm: { sizeGiB: 64 }, resources: { memoryGiB: 256 } });
    const pod = find(objects, 'Deployment').spec.template.spec;
    const vllm = container(pod, 'vllm');
    expect(vllm.args.at(-1)).toBe('--enable-prefix-caching');
    expect(vllm.resources.limits.memory).toBe(`${320 * 1024}Mi`);
    expect(pod.volumes.find((v: any) => v.name === 'dshm').emptyDir.sizeLimit).toBe(`${64 * 1024}Mi`);
  });

  it('names every object from the name prefix and namespace', async () => {
    const objects = await synth({ name: 'judge', namespace: 'rlhf' });
    expect(objects.map((o) => o.metadata.name).sort()).toEqual(
      expect.arrayContaining(['rlhf', 'judge', 'judge-server', 'judge-weights', 'judge-weights-download']),
    );
    for (const o of objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('rlhf');
  });
});
