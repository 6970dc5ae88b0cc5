import { describe, expect, it } from 'vitest';
import { CrdValidationError, isKnownCrdKind, knownCrdKinds, readablePath, validateCrdObject } from './helpers/crd-schema.ts';

const meta = { name: 'genrm', namespace: 'genrm' };

function scaledObject(spec: Record<string, unknown>) {
  return { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: meta, spec };
}

const validScaledObject = scaledObject({
  scaleTargetRef: { name: 'genrm-server' },
  minReplicaCount: 1,
  maxReplicaCount: 4,
  triggers: [{ type: 'prometheus', metadata: { serverAddress: 'http://prometheus:9090', query: 'sum(vllm:num_requests_waiting)', threshold: '5' } }],
});

const validServiceMonitor = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  metadata: meta,
  spec: { selector: { matchLabels: { 'app.kubernetes.io/instance': 'genrm' } }, endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }] },
};

const validPodMonitor = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PodMonitor',
  metadata: meta,
  spec: { selector: { matchLabels: { 'app.kubernetes.io/instance': 'genrm' } }, podMetricsEndpoints: [{ port: 'gate', targetPort: 9090 }] },
};

const validLws = {
  apiVersion: 'leaderworkerset.x-k8s.io/v1',
  kind: 'LeaderWorkerSet',
  metadata: meta,
  spec: {
    replicas: 2,
    startupPolicy: 'LeaderCreated',
    rolloutStrategy: { type: 'RollingUpdate', rollingUpdateConfiguration: { maxSurge: 0, maxUnavailable: '50%' } },
    leaderWorkerTemplate: { size: 2, restartPolicy: 'RecreateGroupOnPodRestart', workerTemplate: { spec: { containers: [{ name: 'vllm', image: 'vllm/vllm-openai' }] } } },
  },
};

/** The problems reported for `obj` (fails the test when it validates). */
function problems(obj: unknown, options?: { rejectUnknownFields?: boolean }): string[] {
  try {
    validateCrdObject(obj, options);
  } catch (e) {
    expect(e).toBeInstanceOf(CrdValidationError);
    return [...(e as CrdValidationError).problems];
  }
  throw new Error('expected a validation error');
}

describe('knownCrdKinds', () => {
  it('lists the four CRD fixtures by apiVersion and kind', () => {
    expect(knownCrdKinds().map((k) => `${k.apiVersion} ${k.kind}`)).toEqual([
      'keda.sh/v1alpha1 ScaledObject',
      'leaderworkerset.x-k8s.io/v1 LeaderWorkerSet',
      'monitoring.coreos.com/v1 PodMonitor',
      'monitoring.coreos.com/v1 ServiceMonitor',
    ]);
    expect(isKnownCrdKind('monitoring.coreos.com/v1', 'ServiceMonitor')).toBe(true);
    expect(isKnownCrdKind('monitoring.coreos.com/v1alpha1', 'ServiceMonitor')).toBe(false);
  });
});

describe('validateCrdObject', () => {
  it.each([
    ['ScaledObject', validScaledObject],
    ['ServiceMonitor', validServiceMonitor],
    ['PodMonitor', validPodMonitor],
    ['LeaderWorkerSet', validLws],
  ])('accepts a valid %s', (_kind, obj) => {
    expect(() => validateCrdObject(obj)).not.toThrow();
  });

  it('reports a missing required field with its path', () => {
    const p = problems(scaledObject({ scaleTargetRef: {}, triggers: [{ metadata: {} }] }));
    expect(p).toContain('spec.scaleTargetRef.name: required field is missing');
    expect(p).toContain('spec.triggers[0].type: required field is missing');
  });

  it('reports a wrong type with the field and the value', () => {
    const p = problems(scaledObject({ scaleTargetRef: { name: 'x' }, maxReplicaCount: '4', triggers: [{ type: 'prometheus', metadata: { threshold: 5 } }] }));
    expect(p).toContain('spec.maxReplicaCount: must be integer, got string "4"');
    expect(p).toContain('spec.triggers[0].metadata.threshold: must be string, got integer 5');
  });

  it('puts the kind, the name and every problem in the message', () => {
    expect(() => validateCrdObject(scaledObject({ triggers: [] }))).toThrow(/ScaledObject genrm\/genrm does not match the keda.sh\/v1alpha1 CRD schema[\s\S]*spec.scaleTargetRef: required field is missing/);
  });

  it('rejects an int32 overflow, an enum outside its values and a bound violation', () => {
    expect(problems(scaledObject({ scaleTargetRef: { name: 'x' }, triggers: [], pollingInterval: 2 ** 31 }))).toContain(`spec.pollingInterval: must match format "int32", got ${2 ** 31}`);
    const lws = { ...validLws, spec: { ...validLws.spec, startupPolicy: 'WorkersFirst' } };
    expect(problems(lws)).toContain('spec.startupPolicy: must be one of "LeaderCreated", "LeaderReady", got "WorkersFirst"');
    const behavior = { scaleDown: { stabilizationWindowSeconds: 4000 } };
    expect(problems(scaledObject({ scaleTargetRef: { name: 'x' }, triggers: [], advanced: { horizontalPodAutoscalerConfig: { behavior } } }))[0]).toMatch(
      /^spec\.advanced\.horizontalPodAutoscalerConfig\.behavior\.scaleDown\.stabilizationWindowSeconds: must be <= 3600/,
    );
  });

  it('accepts int-or-string fields as integers or strings and nothing else', () => {
    const withTarget = (targetPort: unknown) => ({ ...validPodMonitor, spec: { ...validPodMonitor.spec, podMetricsEndpoints: [{ port: 'gate', targetPort }] } });
    expect(() => validateCrdObject(withTarget('gate'))).not.toThrow();
    expect(() => validateCrdObject(withTarget(9090))).not.toThrow();
    expect(problems(withTarget(true))).toEqual(['spec.podMetricsEndpoints[0].targetPort: must be an integer or a string (int-or-string), got boolean']);
  });

  it('checks the pattern of a ServiceMonitor interval', () => {
    const sm = { ...validServiceMonitor, spec: { ...validServiceMonitor.spec, endpoints: [{ port: 'http', interval: '30 seconds' }] } };
    expect(problems(sm)[0]).toMatch(/^spec\.endpoints\[0\]\.interval: must match pattern/);
  });

  it('rejects unknown fields like kubectl --validate=strict, and prunes them when asked', () => {
    const typo = { ...validServiceMonitor, spec: { ...validServiceMonitor.spec, endpoint: [] } };
    expect(problems(typo)).toEqual(['spec.endpoint: unknown field (not in the schema)']);
    expect(() => validateCrdObject(typo, { rejectUnknownFields: false })).not.toThrow();
  });

  it('keeps unknown fields inside trimmed pod templates (validated separately with kubernetes-models)', () => {
    const lws = structuredClone(validLws) as any;
    lws.spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].resources = { limits: { 'nvidia.com/gpu': 8 } };
    expect(() => validateCrdObject(lws)).not.toThrow();
    delete lws.spec.leaderWorkerTemplate.workerTemplate.spec.containers;
    expect(problems(lws)).toContain('spec.leaderWorkerTemplate.workerTemplate.spec.containers: required field is missing');
  });

  it('checks metadata: a DNS-1123 name is required', () => {
    expect(problems({ ...validServiceMonitor, metadata: { namespace: 'genrm' } })).toContain('metadata.name: required field is missing');
    expect(problems({ ...validServiceMonitor, metadata: { name: 'GenRM_Server' } })[0]).toMatch(/^metadata\.name: must match pattern/);
    expect(problems({ ...validServiceMonitor, metadata: { name: 'x', labels: { a: 1 } } })).toContain('metadata.labels.a: must be string, got integer 1');
  });

  it('throws a plain error for a kind without fixture, naming the known ones', () => {
    expect(() => validateCrdObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: meta })).toThrow(
      /no CRD fixture for monitoring.coreos.com\/v1 PrometheusRule .*known: keda.sh\/v1alpha1 ScaledObject/,
    );
    expect(() => validateCrdObject({ kind: 'ScaledObject' })).toThrow(/not a Kubernetes object/);
  });
});

describe('readablePath', () => {
  it('turns JSON pointers into dotted paths with indices and quoted keys', () => {
    expect(readablePath('/spec/triggers/0/metadata', 'threshold')).toBe('spec.triggers[0].metadata.threshold');
    expect(readablePath('/metadata/labels/app.kubernetes.io~1name')).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(readablePath('')).toBe('(root)');
  });
});
