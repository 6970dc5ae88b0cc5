/**
 * The wrappers against the REAL kubectl binary, where it works without a cluster: its argument
 * errors, a kubeconfig without a current context, and unreachable servers on 127.0.0.1 (a refused
 * port, and a port that accepts connections but never answers).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkReachable, connect, currentContext, KubectlError, runKubectl, type KubeTarget } from '../src/kube/index.ts';
import { runCli } from './fakes/kubectl/run-cli.ts';
import { titled, useKubectl } from './helpers/requires.ts';

// The real kubectl: from PATH, or the e2e tier's build put first on PATH (test/setup/tools.ts).
const noKubectl = useKubectl(inject('tools').kubectl);

const dir = mkdtempSync(join(tmpdir(), 'genrm-kubeconfig-'));
let hangPort = 0;
let server: Server;
const sockets: Socket[] = [];

function kubeconfig(file: string, serverUrl: string, currentContext = 'test'): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "${serverUrl}", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: not-a-real-token}
contexts:
- name: test
  context: {cluster: c, user: u}
current-context: "${currentContext}"
`,
  );
  return path;
}

beforeAll(async () => {
  server = createServer((s) => {
    sockets.push(s);
    s.on('data', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hangPort = (server.address() as { port: number }).port;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = (kc: string) => ({ KUBECONFIG: kc, HOME: dir, PATH: process.env.PATH });
const target = (extra: Partial<KubeTarget> = {}): KubeTarget => ({ namespace: 'genrm', requestTimeoutSeconds: 10, ...extra });

async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  }
}

describe.skipIf(noKubectl)(titled('the real kubectl', noKubectl), () => {
  it('reports a refused API server (127.0.0.1:1) in one sentence', async () => {
    const kc = kubeconfig('refused.yaml', 'https://127.0.0.1:1');
    const err = await withEnv({ KUBECONFIG: kc, HOME: dir }, () => checkReachable(target()).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(KubectlError);
    expect((err as KubectlError).kind).toBe('unreachable');
    expect((err as KubectlError).message).toMatch(/^cannot reach the Kubernetes API server at 127\.0\.0\.1:1 \(connection refused\)/);
  });

  it('reports a server that never answers within the request timeout', async () => {
    const kc = kubeconfig('hang.yaml', `https://127.0.0.1:${hangPort}`);
    const start = Date.now();
    const err = await withEnv({ KUBECONFIG: kc, HOME: dir }, () => checkReachable(target({ requestTimeoutSeconds: 2 })).catch((e: unknown) => e));
    expect((err as KubectlError).kind).toBe('unreachable');
    expect((err as KubectlError).message).toContain('did not answer within 2 s');
    expect(Date.now() - start).toBeLessThan(8000);
  });

  it('reports a kubeconfig without a current context, without contacting anything', async () => {
    const kc = kubeconfig('nocontext.yaml', 'https://127.0.0.1:1', '');
    const err = await withEnv({ KUBECONFIG: kc, HOME: dir }, () => currentContext(target()).catch((e: unknown) => e));
    expect((err as KubectlError).kind).toBe('no-context');
  });

  it('rejects a --context the kubeconfig lacks', async () => {
    const kc = kubeconfig('ctx.yaml', 'https://127.0.0.1:1');
    const err = await withEnv({ KUBECONFIG: kc, HOME: dir }, () => connect(target({ context: 'staging' })).catch((e: unknown) => e));
    expect((err as KubectlError).message).toContain("kubectl context 'staging' does not exist");
    const ok = await withEnv({ KUBECONFIG: kc, HOME: dir }, () => currentContext(target({ context: 'test' })));
    expect(ok).toBe('test');
  });

  it('turns an argument error into a sentence that quotes kubectl', async () => {
    const err = await runKubectl(target(), ['get', 'pods', '--bogus-flag'], { operation: 'list the pods' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubectlError);
    expect((err as KubectlError).message).toBe('kubectl could not list the pods: unknown flag: --bogus-flag');
  });

  it('CLI: an unreachable cluster exits 1 with one sentence, no stack, within 15 s (default request timeout)', async () => {
    const kc = kubeconfig('hang-cli.yaml', `https://127.0.0.1:${hangPort}`);
    const r = await runCli(['status'], env(kc));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^genrm: the Kubernetes API server at .*127\.0\.0\.1:\d+.* did not answer within 10 s|^genrm: the Kubernetes API server did not answer within 10 s/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('CLI: a refused cluster exits 1 at once, for apply too', async () => {
    const kc = kubeconfig('refused-cli.yaml', 'https://127.0.0.1:1');
    const r = await runCli(['apply'], env(kc));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^genrm: cannot reach the Kubernetes API server at 127\.0\.0\.1:1 \(connection refused\): check that the cluster is running/);
  });

  it('CLI: no current context exits 1 naming the fix', async () => {
    const kc = kubeconfig('nocontext-cli.yaml', 'https://127.0.0.1:1', '');
    const r = await runCli(['diff'], env(kc));
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('genrm: kubectl has no current context: pick a cluster with `kubectl config use-context NAME`');
  });
});
