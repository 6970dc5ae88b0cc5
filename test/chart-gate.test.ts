import { Testing } from 'cdk8s';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GenrmChart } from '../charts/genrm-chart.ts';
import { validateConfig } from '../src/config/load.ts';
import { MODEL_ID } from '../src/config/schema.ts';
import { bundleProgram } from '../src/constructs/bundle.ts';
import { container, find, flagValue, synth } from './helpers/manifests.ts';
import { validateKubeObject } from './helpers/kube-schema.ts';

describe('the judge gate in the server pod', async () => {
  const objects = await synth();
  const pod = find(objects, 'Deployment', 'genrm-server').spec.template.spec;
  const vllm = container(pod, 'vllm');
  const gate = container(pod, 'judge-gate');
  const env = Object.fromEntries(gate.env.map((e: any) => [e.name, e.value]));

  it("wires vLLM's readiness probe to the gate's /ready", () => {
    expect(vllm.readinessProbe.httpGet).toMatchObject({ path: '/ready', port: 8081 });
    expect(vllm.readinessProbe.exec).toBeUndefined();
    expect(gate.ports).toContainEqual({ containerPort: 8081, name: 'gate', protocol: 'TCP' });
  });

  it("carries the gate's code, bundled, in a ConfigMap mounted into the sidecar", () => {
    const cm = find(objects, 'ConfigMap', 'genrm-gate');
    expect(cm.data['gate.mjs']).toBe(bundleProgram('gate'));
    expect(cm.data['gate.mjs']).toContain('/ready');
    expect(cm.data['gate.mjs']).not.toMatch(/from ['"](?!node:)[a-z@][^'"]*['"]/); // no npm imports left
    expect(Buffer.byteLength(JSON.stringify(cm))).toBeLessThan(900 * 1024); // ConfigMaps hold at most 1 MiB
    expect(gate.command).toEqual(['node', '/opt/genrm-gate/gate.mjs']);
    const vol = pod.volumes.find((v: any) => v.configMap?.name === 'genrm-gate');
    expect(gate.volumeMounts).toContainEqual({ mountPath: '/opt/genrm-gate', name: vol.name, readOnly: true });
  });

  it('points the gate at vLLM in the same pod with the served model', () => {
    expect(env.GENRM_GATE_BASE_URL).toBe('http://127.0.0.1:5000/v1');
    expect(env.GENRM_GATE_MODEL).toBe(MODEL_ID);
    expect(Number(env.GENRM_GATE_RECHECK_SECONDS)).toBeGreaterThanOrEqual(300);
    expect(env.GENRM_GATE_PORT).toBe('8081');
  });

  it('runs the gate small, non-root, on a read-only root filesystem, on a pinned image', () => {
    expect(gate.image).toMatch(/^node:24\.\d+\.\d+/);
    expect(gate.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(gate.resources.requests).toEqual({ cpu: '20m', memory: '64Mi' });
    expect(gate.resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(gate.livenessProbe.httpGet).toMatchObject({ path: '/live', port: 8081 });
  });

  it('runs the gate as a native sidecar: the last init container, restartPolicy Always, so it outlives vLLM\'s drain', () => {
    expect(pod.containers.map((c: any) => c.name)).toEqual(['vllm']);
    expect(pod.initContainers.at(-1).name).toBe('judge-gate');
    expect(gate.restartPolicy).toBe('Always');
    expect(gate.readinessProbe.httpGet).toMatchObject({ path: '/live', port: 8081 });
  });

  it("wires vLLM's liveness to /engine/live and its preStop to /drain, by port number, with a budget that outlasts a gate restart", () => {
    expect(vllm.livenessProbe.exec.command[2]).toContain('"http://127.0.0.1:8081/engine/live"');
    expect(vllm.livenessProbe.periodSeconds * vllm.livenessProbe.failureThreshold).toBeGreaterThanOrEqual(60);
    expect(vllm.livenessProbe.timeoutSeconds).toBeGreaterThanOrEqual(3);
    // An exec hook inside the pod: the gate accepts /drain from loopback only.
    expect(vllm.lifecycle.preStop.httpGet).toBeUndefined();
    expect(vllm.lifecycle.preStop.exec.command.slice(0, 2)).toEqual(['python3', '-c']);
    expect(vllm.lifecycle.preStop.exec.command[2]).toContain('"http://127.0.0.1:8081/drain", timeout=310');
    expect(env.GENRM_GATE_STALL_SECONDS).toBe('300');
    expect(env.GENRM_GATE_DRAIN_MAX_SECONDS).toBe('300');
    expect(pod.terminationGracePeriodSeconds).toBe(360);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(env.GENRM_GATE_DRAIN_MAX_SECONDS) + 30);
  });

  it("serves the gate's judgments first: vLLM's priority scheduling and the gate's priority -10, or neither", async () => {
    expect(flagValue(vllm.args, '--scheduling-policy')).toBe('priority');
    expect(env.GENRM_GATE_PRIORITY).toBe('-10');
    const off = find(await synth({ gate: { priorityScheduling: false } }), 'Deployment').spec.template.spec;
    expect(container(off, 'vllm').args).not.toContain('--scheduling-policy');
    expect(container(off, 'judge-gate').env.map((e: any) => e.name)).not.toContain('GENRM_GATE_PRIORITY');
  });

  it('passes drain and stall settings from the config', async () => {
    const objs = await synth({ drain: { maxSeconds: 900, terminationGracePeriodSeconds: 960 }, gate: { stallSeconds: 600 } });
    const p = find(objs, 'Deployment').spec.template.spec;
    const e = Object.fromEntries(container(p, 'judge-gate').env.map((x: any) => [x.name, x.value]));
    expect(e).toMatchObject({ GENRM_GATE_DRAIN_MAX_SECONDS: '900', GENRM_GATE_STALL_SECONDS: '600' });
    expect(p.terminationGracePeriodSeconds).toBe(960);
  });

  it('sizes the first check\'s judging suite for the server\'s window (vllm.maxModelLen) and refuses a window too small for it', async () => {
    const env = async (config: Record<string, unknown>) =>
      Object.fromEntries(container(find(await synth(config), 'Deployment').spec.template.spec, 'judge-gate').env.map((x: any) => [x.name, x.value]));
    expect((await env({})).GENRM_GATE_MAX_MODEL_LEN).toBe('40000');
    expect((await env({ vllm: { maxModelLen: 65536 } })).GENRM_GATE_MAX_MODEL_LEN).toBe('65536');
    // 16384 tokens of window minus 16384 of max_tokens leave nothing for the long-context case.
    const refused = await synth({ vllm: { maxModelLen: 16384 } }).then(
      () => null,
      (err: { problems?: string[] }) => err.problems ?? [],
    );
    expect(refused).toContainEqual(expect.stringMatching(/^gate\.maxTokens: is 16384 with vllm\.maxModelLen 16384: the gate's first check could never pass/));
  });

  it('refuses, in the construct too, a grace period that does not hold the drain plus vLLM\'s stop (property)', () => {
    const base = validateConfig({});
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 6000 }), (maxSeconds, grace) => {
        const config = { ...base, drain: { maxSeconds, terminationGracePeriodSeconds: grace } };
        const build = () => new GenrmChart(Testing.app(), 'c', { config });
        if (grace >= maxSeconds + 30) expect(build).not.toThrow();
        else expect(build).toThrow(new RegExp(`terminationGracePeriodSeconds is ${grace} but the gate's drain may take ${maxSeconds} s.*at least ${maxSeconds + 30}`));
      }),
      { seed: 17, numRuns: 25 },
    );
  });

  it('sends the API key from the Secret, when one is configured, to vLLM and the gate alike', async () => {
    const objs = await synth({ apiKey: { secretName: 'judge-key', key: 'token' } });
    const p = find(objs, 'Deployment').spec.template.spec;
    const ref = { secretKeyRef: { name: 'judge-key', key: 'token' } };
    expect(container(p, 'judge-gate').env).toContainEqual({ name: 'GENRM_API_KEY', valueFrom: ref });
    expect(container(p, 'vllm').env).toContainEqual({ name: 'VLLM_API_KEY', valueFrom: ref });
  });

  it('lets the gate image be mirrored for air-gapped clusters', async () => {
    const objs = await synth({ gate: { image: 'registry.internal/mirror/node:20.19.5-bookworm-slim' } });
    const p = find(objs, 'Deployment').spec.template.spec;
    expect(container(p, 'judge-gate').image).toBe('registry.internal/mirror/node:20.19.5-bookworm-slim');
    expect(container(p, 'gpu-preflight').image).toBe('registry.internal/mirror/node:20.19.5-bookworm-slim');
  });
});

describe('the GPU preflight', async () => {
  const objects = await synth();
  const pod = find(objects, 'Deployment', 'genrm-server').spec.template.spec;

  it('runs first, on the same 8 GPUs, checking count, family and the memory the plan needs', () => {
    expect(pod.initContainers[0].name).toBe('gpu-preflight');
    const pre = pod.initContainers[0];
    expect(pre.resources.limits['nvidia.com/gpu']).toBe(8);
    const env = Object.fromEntries(pre.env.map((e: any) => [e.name, e.value]));
    expect(env.GENRM_PREFLIGHT_GPU_COUNT).toBe('8');
    expect(env.GENRM_PREFLIGHT_FAMILY).toBe('hopper');
    expect(Number(env.GENRM_PREFLIGHT_MIN_MEMORY_MIB)).toBeGreaterThan(60_000);
    expect(Number(env.GENRM_PREFLIGHT_MIN_MEMORY_MIB)).toBeLessThan(81_559); // an H100 passes
    expect(find(objects, 'ConfigMap', 'genrm-preflight').data['preflight.mjs']).toBe(bundleProgram('preflight'));
  });

  it('can be turned off', async () => {
    const p = find(await synth({ preflight: { enabled: false } }), 'Deployment').spec.template.spec;
    expect(p.initContainers.map((c: any) => c.name)).toEqual(['download-weights', 'judge-gate']);
  });

  it('all objects stay schema-valid', () => {
    for (const o of objects) expect(() => validateKubeObject(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });
});
