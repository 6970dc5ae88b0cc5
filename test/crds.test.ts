import { Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { LeaderWorkerSet, PodMonitor, ScaledObject, ServiceMonitor, durationSeconds, prometheusTrigger, type LeaderWorkerSetProps, type ScaledObjectProps } from '../src/crds/index.ts';
import { validateCrdObject } from './helpers/crd-schema.ts';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, any> };

/** Synthesizes a fresh chart built by `build`, validates every object against its CRD, returns them. */
function synth(build: (chart: ReturnType<typeof Testing.chart>) => void): Obj[] {
  const chart = Testing.chart();
  build(chart);
  const objects = Testing.synth(chart) as Obj[];
  for (const o of objects) validateCrdObject(o);
  return objects;
}

const WAITING = 'sum(vllm:num_requests_waiting{namespace="genrm"})';

function scaledObjectProps(overrides: Partial<ScaledObjectProps> = {}): ScaledObjectProps {
  return {
    metadata: { name: 'genrm', namespace: 'genrm' },
    scaleTargetRef: { name: 'genrm-server' },
    maxReplicaCount: 4,
    triggers: [prometheusTrigger({ serverAddress: 'http://prometheus-operated.monitoring:9090', query: WAITING, threshold: 5 })],
    ...overrides,
  };
}

const podTemplate: k8s.PodTemplateSpec = {
  metadata: { labels: { 'app.kubernetes.io/name': 'genrm', 'app.kubernetes.io/component': 'server' } },
  spec: {
    containers: [
      {
        name: 'vllm',
        image: 'vllm/vllm-openai:v0.11.0',
        resources: { limits: { 'nvidia.com/gpu': k8s.Quantity.fromNumber(8), memory: k8s.Quantity.fromString('352Gi') } },
      },
    ],
  },
};

function lwsProps(overrides: Partial<LeaderWorkerSetProps> = {}): LeaderWorkerSetProps {
  return { metadata: { name: 'genrm', namespace: 'genrm' }, size: 2, workerTemplate: podTemplate, ...overrides };
}

describe('ScaledObject', () => {
  it('synthesizes a queue-depth autoscaler that matches the KEDA CRD, with every default written', () => {
    const [so] = synth((c) => new ScaledObject(c, 'scaler', scaledObjectProps()));
    expect(so.apiVersion).toBe('keda.sh/v1alpha1');
    expect(so.kind).toBe('ScaledObject');
    expect(so.metadata).toMatchObject({ name: 'genrm', namespace: 'genrm' });
    expect(so.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'genrm-server' });
    expect(so.spec.minReplicaCount).toBe(1);
    expect(so.spec.maxReplicaCount).toBe(4);
    expect(so.spec.pollingInterval).toBe(30);
    expect(so.spec.cooldownPeriod).toBe(300);
    expect(so.spec.advanced).toBeUndefined();
    expect(so.spec.triggers).toEqual([
      { type: 'prometheus', metadata: { serverAddress: 'http://prometheus-operated.monitoring:9090', query: WAITING, threshold: '5' } },
    ]);
  });

  it('renders the HPA behaviour, fallback and initial cooldown for a slow-starting model', () => {
    const [so] = synth(
      (c) =>
        new ScaledObject(
          c,
          'scaler',
          scaledObjectProps({
            scaleTargetRef: { name: 'genrm', kind: 'LeaderWorkerSet', apiVersion: 'leaderworkerset.x-k8s.io/v1' },
            initialCooldownPeriodSeconds: 3600,
            fallback: { failureThreshold: 3, replicas: 1 },
            scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 600 }] },
            scaleDown: { stabilizationWindowSeconds: 1800, selectPolicy: 'Min' },
            hpaName: 'genrm-hpa',
          }),
        ),
    );
    expect(so.spec.scaleTargetRef).toEqual({ apiVersion: 'leaderworkerset.x-k8s.io/v1', kind: 'LeaderWorkerSet', name: 'genrm' });
    expect(so.spec.initialCooldownPeriod).toBe(3600);
    expect(so.spec.fallback).toEqual({ failureThreshold: 3, replicas: 1 });
    expect(so.spec.advanced).toEqual({
      restoreToOriginalReplicaCount: false,
      horizontalPodAutoscalerConfig: {
        name: 'genrm-hpa',
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 600 }] },
          scaleDown: { stabilizationWindowSeconds: 1800, selectPolicy: 'Min' },
        },
      },
    });
  });

  it('renders every prometheus trigger option as the strings KEDA expects', () => {
    const trigger = prometheusTrigger({
      serverAddress: 'https://thanos-querier.monitoring:9091',
      query: WAITING,
      threshold: 2.5,
      activationThreshold: 1,
      name: 'queue',
      metricType: 'Value',
      namespace: 'genrm',
      ignoreNullValues: false,
      unsafeSsl: true,
      authModes: ['bearer'],
      authenticationRef: { name: 'prometheus-token', kind: 'ClusterTriggerAuthentication' },
      customHeaders: { 'X-Scope-OrgID': 'genrm' },
    });
    const [so] = synth((c) => new ScaledObject(c, 'scaler', scaledObjectProps({ triggers: [trigger] })));
    expect(so.spec.triggers[0]).toEqual({
      type: 'prometheus',
      name: 'queue',
      metricType: 'Value',
      authenticationRef: { name: 'prometheus-token', kind: 'ClusterTriggerAuthentication' },
      metadata: {
        serverAddress: 'https://thanos-querier.monitoring:9091',
        query: WAITING,
        threshold: '2.5',
        activationThreshold: '1',
        namespace: 'genrm',
        ignoreNullValues: 'false',
        unsafeSsl: 'true',
        authModes: 'bearer',
        customHeaders: 'X-Scope-OrgID=genrm',
      },
    });
  });

  it('fails when minReplicaCount exceeds maxReplicaCount', () => {
    expect(() => new ScaledObject(Testing.chart(), 's', scaledObjectProps({ minReplicaCount: 5, maxReplicaCount: 2 }))).toThrow(/minReplicaCount \(5\) exceeds maxReplicaCount \(2\)/);
  });

  it('fails when idleReplicaCount is not below minReplicaCount', () => {
    expect(() => new ScaledObject(Testing.chart(), 's', scaledObjectProps({ idleReplicaCount: 1 }))).toThrow(/idleReplicaCount \(1\) must be below minReplicaCount \(1\)/);
  });

  it('fails without triggers, with a fractional replica count or an out-of-range stabilization window', () => {
    expect(() => new ScaledObject(Testing.chart(), 's', scaledObjectProps({ triggers: [] }))).toThrow(/at least one trigger/);
    expect(() => new ScaledObject(Testing.chart(), 's', scaledObjectProps({ maxReplicaCount: 2.5 }))).toThrow(/maxReplicaCount must be an integer ≥ 1, got 2.5/);
    expect(() => new ScaledObject(Testing.chart(), 's', scaledObjectProps({ scaleDown: { stabilizationWindowSeconds: 7200 } }))).toThrow(/scaleDown.stabilizationWindowSeconds must be at most 3600, got 7200/);
  });

  it('fails on a prometheus trigger without a positive threshold or an http(s) server', () => {
    expect(() => prometheusTrigger({ serverAddress: 'http://p:9090', query: WAITING, threshold: 0 })).toThrow(/threshold must be > 0/);
    expect(() => prometheusTrigger({ serverAddress: 'prometheus:9090', query: WAITING, threshold: 5 })).toThrow(/serverAddress must be an http\(s\) URL/);
    expect(() => prometheusTrigger({ serverAddress: 'http://p:9090', query: '  ', threshold: 5 })).toThrow(/query is empty/);
  });
});

describe('ServiceMonitor', () => {
  it('synthesizes a scrape of the vLLM Service port that matches the prometheus-operator CRD', () => {
    const [sm] = synth(
      (c) =>
        new ServiceMonitor(c, 'monitor', {
          metadata: { name: 'genrm-server', namespace: 'genrm', labels: { release: 'kube-prometheus-stack' } },
          selector: { 'app.kubernetes.io/instance': 'genrm', 'app.kubernetes.io/component': 'server' },
          endpoints: [{ port: 'http', metricRelabelings: [{ action: 'keep', sourceLabels: ['__name__'], regex: 'vllm:.*' }] }],
        }),
    );
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.kind).toBe('ServiceMonitor');
    expect(sm.metadata).toMatchObject({ name: 'genrm-server', namespace: 'genrm', labels: { release: 'kube-prometheus-stack' } });
    expect(sm.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': 'genrm', 'app.kubernetes.io/component': 'server' } });
    expect(sm.spec.namespaceSelector).toBeUndefined();
    expect(sm.spec.endpoints).toEqual([
      {
        port: 'http',
        path: '/metrics',
        interval: '30s',
        scrapeTimeout: '10s',
        scheme: 'http',
        honorLabels: false,
        metricRelabelings: [{ action: 'keep', sourceLabels: ['__name__'], regex: 'vllm:.*' }],
      },
    ]);
  });

  it('renders credentials, namespaces and copied labels', () => {
    const [sm] = synth(
      (c) =>
        new ServiceMonitor(c, 'monitor', {
          metadata: { name: 'genrm-server', namespace: 'monitoring' },
          selector: { 'app.kubernetes.io/instance': 'genrm' },
          namespaces: ['genrm'],
          targetLabels: ['app.kubernetes.io/instance'],
          podTargetLabels: ['app.kubernetes.io/version'],
          sampleLimit: 50000,
          endpoints: [{ port: 'https', scheme: 'https', interval: '1m', scrapeTimeout: '30s', authorization: { secretName: 'scrape-token', key: 'token' } }],
        }),
    );
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['genrm'] });
    expect(sm.spec.targetLabels).toEqual(['app.kubernetes.io/instance']);
    expect(sm.spec.podTargetLabels).toEqual(['app.kubernetes.io/version']);
    expect(sm.spec.sampleLimit).toBe(50000);
    expect(sm.spec.endpoints[0]).toMatchObject({ scheme: 'https', interval: '1m', scrapeTimeout: '30s', authorization: { type: 'Bearer', credentials: { name: 'scrape-token', key: 'token' } } });
  });

  it('fails when the scrape timeout exceeds the interval', () => {
    expect(
      () =>
        new ServiceMonitor(Testing.chart(), 'm', {
          metadata: { name: 'm', namespace: 'genrm' },
          selector: { a: 'b' },
          endpoints: [{ port: 'http', interval: '15s', scrapeTimeout: '20s' }],
        }),
    ).toThrow(/scrapeTimeout 20s exceeds interval 15s/);
  });

  it('fails on an empty selector, a bad duration or a replace relabeling without target label', () => {
    const base = { metadata: { name: 'm', namespace: 'genrm' }, selector: { a: 'b' } };
    expect(() => new ServiceMonitor(Testing.chart(), 'm', { ...base, selector: {}, endpoints: [{ port: 'http' }] })).toThrow(/selector is empty/);
    expect(() => new ServiceMonitor(Testing.chart(), 'm', { ...base, endpoints: [{ port: 'http', interval: '30 seconds' }] })).toThrow(/interval: invalid Prometheus duration "30 seconds"/);
    expect(() => new ServiceMonitor(Testing.chart(), 'm', { ...base, endpoints: [{ port: 'http', relabelings: [{ sourceLabels: ['a'] }] }] })).toThrow(/relabelings\[0\]: action replace needs targetLabel/);
    expect(() => new ServiceMonitor(Testing.chart(), 'm', { ...base, endpoints: [] })).toThrow(/at least one endpoint/);
  });
});

describe('PodMonitor', () => {
  it('synthesizes a scrape of the gate sidecar port that matches the prometheus-operator CRD', () => {
    const [pm] = synth(
      (c) =>
        new PodMonitor(c, 'gate', {
          metadata: { name: 'genrm-gate', namespace: 'genrm' },
          selector: { 'app.kubernetes.io/instance': 'genrm', 'app.kubernetes.io/component': 'server' },
          podMetricsEndpoints: [{ port: 'gate', interval: '15s' }, { portNumber: 5000, path: '/metrics' }],
        }),
    );
    expect(pm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pm.kind).toBe('PodMonitor');
    expect(pm.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': 'genrm', 'app.kubernetes.io/component': 'server' } });
    expect(pm.spec.podMetricsEndpoints).toEqual([
      { port: 'gate', path: '/metrics', interval: '15s', scrapeTimeout: '10s', scheme: 'http', honorLabels: false },
      { portNumber: 5000, path: '/metrics', interval: '30s', scrapeTimeout: '10s', scheme: 'http', honorLabels: false },
    ]);
  });

  it('fails unless an endpoint names exactly one of port and portNumber', () => {
    const base = { metadata: { name: 'm', namespace: 'genrm' }, selector: { a: 'b' } };
    expect(() => new PodMonitor(Testing.chart(), 'm', { ...base, podMetricsEndpoints: [{}] })).toThrow(/exactly one of port .* and portNumber/);
    expect(() => new PodMonitor(Testing.chart(), 'm', { ...base, podMetricsEndpoints: [{ port: 'http', portNumber: 5000 }] })).toThrow(/exactly one of port/);
    expect(() => new PodMonitor(Testing.chart(), 'm', { ...base, podMetricsEndpoints: [{ portNumber: 70000 }] })).toThrow(/portNumber must be an integer in 1..65535, got 70000/);
  });
});

describe('LeaderWorkerSet', () => {
  it('synthesizes a two-node group that matches the LWS CRD, with safe rollout defaults', () => {
    const [lws] = synth((c) => new LeaderWorkerSet(c, 'group', lwsProps()));
    expect(lws.apiVersion).toBe('leaderworkerset.x-k8s.io/v1');
    expect(lws.kind).toBe('LeaderWorkerSet');
    expect(lws.spec.replicas).toBe(1);
    expect(lws.spec.startupPolicy).toBe('LeaderCreated');
    // No partition unless asked: LWS v0.6 has no such field and strict field validation rejects it.
    expect(lws.spec.rolloutStrategy).toEqual({ type: 'RollingUpdate', rollingUpdateConfiguration: { maxSurge: 0, maxUnavailable: 1 } });
    expect(lws.spec.networkConfig).toBeUndefined();
    expect(lws.spec.leaderWorkerTemplate.size).toBe(2);
    expect(lws.spec.leaderWorkerTemplate.restartPolicy).toBe('RecreateGroupOnPodRestart');
    expect(lws.spec.leaderWorkerTemplate.leaderTemplate).toBeUndefined();
    const container = lws.spec.leaderWorkerTemplate.workerTemplate.spec.containers[0];
    expect(container.name).toBe('vllm');
    // Quantities are resolved to their Kubernetes values, not left as objects.
    expect(container.resources.limits).toEqual({ 'nvidia.com/gpu': 8, memory: '352Gi' });
    expect(lws.spec.leaderWorkerTemplate.workerTemplate.metadata.labels['app.kubernetes.io/component']).toBe('server');
  });

  it('renders a separate leader template, percentages and the subdomain policy', () => {
    const leader: k8s.PodTemplateSpec = { spec: { containers: [{ name: 'vllm-leader', image: 'vllm/vllm-openai:v0.11.0', command: ['sh', '-c', 'ray start --head && vllm serve'] }] } };
    const [lws] = synth(
      (c) => new LeaderWorkerSet(c, 'group', lwsProps({ replicas: 3, leaderTemplate: leader, maxSurge: '0%', maxUnavailable: '34%', partition: 1, subdomainPolicy: 'UniquePerReplica', restartPolicy: 'None' })),
    );
    expect(lws.spec.replicas).toBe(3);
    expect(lws.spec.leaderWorkerTemplate.leaderTemplate.spec.containers[0].name).toBe('vllm-leader');
    expect(lws.spec.leaderWorkerTemplate.restartPolicy).toBe('None');
    expect(lws.spec.rolloutStrategy.rollingUpdateConfiguration).toEqual({ maxSurge: '0%', maxUnavailable: '34%', partition: 1 });
    expect(lws.spec.networkConfig).toEqual({ subdomainPolicy: 'UniquePerReplica' });
  });

  it('fails when maxSurge and maxUnavailable are both zero', () => {
    expect(() => new LeaderWorkerSet(Testing.chart(), 'g', lwsProps({ maxUnavailable: 0 }))).toThrow(/maxSurge and maxUnavailable are both 0/);
  });

  it('fails on a pod template without containers, a zero size or a malformed percentage', () => {
    expect(() => new LeaderWorkerSet(Testing.chart(), 'g', lwsProps({ workerTemplate: { spec: { containers: [] } } }))).toThrow(/workerTemplate.spec.containers is empty/);
    expect(() => new LeaderWorkerSet(Testing.chart(), 'g', lwsProps({ size: 0 }))).toThrow(/size must be an integer ≥ 1, got 0/);
    expect(() => new LeaderWorkerSet(Testing.chart(), 'g', lwsProps({ maxSurge: '10 percent' }))).toThrow(/maxSurge must be an integer or a percentage/);
  });
});

describe('durationSeconds', () => {
  it('parses compound Prometheus durations', () => {
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('500ms')).toBe(0.5);
    expect(durationSeconds('0')).toBe(0);
    expect(() => durationSeconds('')).toThrow(/invalid Prometheus duration/);
    expect(() => durationSeconds('1.5m')).toThrow(/invalid Prometheus duration/);
  });
});
