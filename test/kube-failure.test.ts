import { describe, expect, it } from 'vitest';
import { describeKubectlFailure, sanitizeMessage, redactObject } from '../src/kube/index.ts';
import { serverOf, firstLine } from '../src/kube/failure.ts';

const base = { operation: 'list the pods', requestTimeoutSeconds: 10 };

describe('describeKubectlFailure', () => {
  it('says kubectl is needed when it is not on PATH', () => {
    const r = describeKubectlFailure({ ...base, stderr: '', spawnCode: 'ENOENT' });
    expect(r.kind).toBe('missing');
    expect(r.message).toMatch(/^genrm needs kubectl on PATH: install it \(https:\/\/kubernetes\.io\/docs\/tasks\/tools\/\)/);
  });

  it('names a missing current context, also when kubectl fell back to localhost:8080', () => {
    expect(describeKubectlFailure({ ...base, stderr: 'error: current-context is not set\n' }).kind).toBe('no-context');
    const fallback = 'E1126 23:42:03.055226 memcache.go:265] couldn\'t get current server API group list: Get "http://localhost:8080/api?timeout=3s": dial tcp 127.0.0.1:8080: connect: connection refused\nThe connection to the server localhost:8080 was refused - did you specify the right host or port?\n';
    const r = describeKubectlFailure({ ...base, stderr: fallback });
    expect(r.kind).toBe('no-context');
    expect(r.message).toContain('kubectl config use-context');
  });

  it('names an unknown --context', () => {
    const r = describeKubectlFailure({ ...base, stderr: 'Error in configuration: context was not found for specified context: staging' });
    expect(r).toEqual({ kind: 'unknown-context', message: expect.stringContaining("kubectl context 'staging' does not exist") });
  });

  it('names the verb and resource of an RBAC refusal', () => {
    const r = describeKubectlFailure({
      ...base,
      operation: 'apply the manifests',
      stderr: 'Error from server (Forbidden): deployments.apps "genrm-server" is forbidden: User "alice@example.com" cannot patch resource "deployments" in API group "apps" in the namespace "genrm"\n',
    });
    expect(r.kind).toBe('forbidden');
    expect(r.message).toBe(
      "the cluster refused to apply the manifests: user 'alice@example.com' may not patch deployments.apps in namespace 'genrm' (RBAC forbidden); ask a cluster admin to grant it, or use a context that has it",
    );
  });

  it('names cluster-scoped refusals', () => {
    const r = describeKubectlFailure({ ...base, stderr: 'Error from server (Forbidden): namespaces "genrm" is forbidden: User "bob" cannot patch resource "namespaces" in API group "" at the cluster scope' });
    expect(r.message).toContain("user 'bob' may not patch namespaces at the cluster scope");
  });

  it('classifies refused, DNS and timed-out connections as unreachable, naming the server', () => {
    const refused = describeKubectlFailure({ ...base, stderr: 'The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?' });
    expect(refused).toEqual({ kind: 'unreachable', message: expect.stringMatching(/^cannot reach the Kubernetes API server at 127\.0\.0\.1:1 \(connection refused\)/) });
    const dns = describeKubectlFailure({ ...base, stderr: 'Unable to connect to the server: dial tcp: lookup k8s.example.invalid on 10.0.0.2:53: no such host' });
    expect(dns.message).toContain('(no such host)');
    const timeout = describeKubectlFailure({ ...base, stderr: 'Unable to connect to the server: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)' });
    expect(timeout).toEqual({ kind: 'unreachable', message: expect.stringContaining('did not answer within 10 s') });
    const killed = describeKubectlFailure({ ...base, stderr: '', timedOut: true });
    expect(killed.kind).toBe('unreachable');
  });

  it('names server-side apply conflicts and suggests --force-conflicts', () => {
    const r = describeKubectlFailure({
      ...base,
      stderr: 'error: Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas\nPlease review the fields above--they currently have other managers. Here\nare the ways you can resolve this warning:\n',
    });
    expect(r.kind).toBe('conflict');
    expect(r.message).toContain('.spec.replicas (owned by kubectl-edit)');
    expect(r.message).toContain('--force-conflicts');
  });

  it('never echoes an object dump, which can carry env values', () => {
    const stderr = 'The Job "genrm-weights-download" is invalid: spec.template: Invalid value: core.PodTemplateSpec{Spec:core.PodSpec{Containers:[]core.Container{core.Container{Env:[]core.EnvVar{core.EnvVar{Name:"HF_TOKEN", Value:"hf_abcdefSECRET"}}}}}}: field is immutable';
    const r = describeKubectlFailure({ ...base, stderr });
    expect(r.kind).toBe('immutable');
    expect(r.message).not.toContain('hf_');
    expect(sanitizeMessage(stderr)).not.toContain('hf_abcdefSECRET');
    expect(sanitizeMessage('Authorization: Bearer eyJhbGciOi.abc')).toBe('Authorization: Bearer [redacted]');
  });

  it('falls back to kubectl\'s first meaningful line', () => {
    expect(firstLine('E1126 23:42:02.648925 4381 memcache.go:265] noise\nerror: unknown flag: --bogus\nSee kubectl get --help')).toBe('unknown flag: --bogus');
    expect(serverOf('Get "https://10.1.2.3:6443/api?timeout=10s": dial tcp 10.1.2.3:6443: i/o timeout')).toBe('https://10.1.2.3:6443');
  });
});

describe('redactObject', () => {
  it('redacts Secret data and sensitive literal env values, keeps secretKeyRef references', () => {
    const pod = {
      kind: 'Pod',
      spec: { containers: [{ env: [{ name: 'HF_TOKEN', value: 'hf_x' }, { name: 'LOG_LEVEL', value: 'info' }, { name: 'VLLM_API_KEY', valueFrom: { secretKeyRef: { name: 'k', key: 'api-key' } } }] }] },
    };
    const out = redactObject(pod);
    expect(out.spec.containers[0].env).toEqual([
      { name: 'HF_TOKEN', value: '[redacted]' },
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'VLLM_API_KEY', valueFrom: { secretKeyRef: { name: 'k', key: 'api-key' } } },
    ]);
    expect(redactObject({ kind: 'Secret', data: { token: 'aGZfeA==' } })).toEqual({ kind: 'Secret', data: { token: '[redacted]' } });
    expect(pod.spec.containers[0].env[0].value).toBe('hf_x');
  });
});
