/** diff, logs, delete and the environment errors, as real processes. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installFakeKubectl, type FakeKubectl } from './fakes/kubectl/install.ts';
import { runCli } from './fakes/kubectl/run-cli.ts';

let fake: FakeKubectl;
beforeEach(() => {
  fake = installFakeKubectl();
});
afterEach(() => fake.cleanup());
const verb = (argv: string[]) => argv.find((a) => !a.startsWith('--'));

describe('environment errors', () => {
  it('without kubectl on PATH says kubectl is needed (exit 1, one sentence)', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'genrm-nokubectl-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const r = await runCli(['status'], { PATH: bin });
      expect(r.exitCode).toBe(1);
      expect(r.stderr.trim()).toBe('genrm: genrm needs kubectl on PATH: install it (https://kubernetes.io/docs/tasks/tools/) and check that `kubectl version --client` runs');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('without a current context names the fix', async () => {
    const r = await runCli(['status'], fake.env('no-context'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('kubectl has no current context');
    expect(fake.calls().some((c) => c.argv.includes('pods'))).toBe(false);
  });

  it('an RBAC refusal while listing names the verb and the resource', async () => {
    const r = await runCli(['status'], fake.env('forbidden'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe(
      "genrm: the cluster refused to list the deployments.apps, pods, jobs.batch, persistentvolumeclaims: user 'system:serviceaccount:ci:deployer' may not list pods in namespace 'genrm' (RBAC forbidden); ask a cluster admin to grant it, or use a context that has it",
    );
  });
});

describe('genrm diff', () => {
  it('exits 1 and prints the diff when the cluster differs (kubectl diff --server-side)', async () => {
    const r = await runCli(['diff'], fake.env('diff-changes'));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('+        - --max-model-len=40000');
    const call = fake.calls().find((c) => verb(c.argv) === 'diff')!;
    expect(call.argv).toEqual(expect.arrayContaining(['diff', '--server-side', '--field-manager=genrm', '-f', '-']));
    expect(call.stdin).toContain('kind: Deployment');
  });

  it('exits 0 without changes, 3 when the diff itself fails', async () => {
    expect((await runCli(['diff'], fake.env('ready'))).exitCode).toBe(0);
    const failed = await runCli(['diff'], fake.env('no-context'));
    expect(failed.exitCode).toBe(3);
  });
});

describe('genrm logs', () => {
  it('refuses a --tail past a whole number kubectl reads (1e99 became --tail=1e+99)', async () => {
    const r = await runCli(['logs', '--tail', '1e99'], fake.env('ready'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^genrm: logs: --tail must be at most 9007199254740991, got '1e99'$/m);
    expect(fake.calls().filter((c) => verb(c.argv) === 'logs')).toEqual([]);
  });


  it('reads the gate container of the server pods, by label, with --tail', async () => {
    const r = await runCli(['logs', 'gate', '--tail', '5'], fake.env('ready'));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('"event":"check"');
    const call = fake.calls().find((c) => verb(c.argv) === 'logs')!;
    expect(call.argv).toEqual(
      expect.arrayContaining(['--selector=app.kubernetes.io/instance=genrm,app.kubernetes.io/part-of=genrm-deploy,app.kubernetes.io/component=server', '--container=judge-gate', '--tail=5', '--prefix']),
    );
  });

  it('reads the download Job (shared weights) or the server pods\' download container, and rejects an unknown log', async () => {
    await runCli(['logs', 'download', '--config', 'test/fixtures/config/shared-weights.yaml'], fake.env('hf-rate-limited'));
    expect(fake.calls().find((c) => verb(c.argv) === 'logs')!.argv).toEqual(expect.arrayContaining(['job/genrm-weights-download', '--container=download']));
    await runCli(['logs', 'download'], fake.env('hf-rate-limited'));
    expect(fake.calls().filter((c) => verb(c.argv) === 'logs').at(-1)!.argv).toEqual(expect.arrayContaining(['--container=download-weights']));
    const bad = await runCli(['logs', 'weights'], fake.env('ready'));
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("unknown log 'weights'");
  });
});

describe('genrm delete', () => {
  it('keeps the weights claim and the namespace unless --purge-weights', async () => {
    const r = await runCli(['delete', '--yes'], fake.env('prune'));
    expect(r.exitCode).toBe(0);
    const refs = fake.calls().find((c) => verb(c.argv) === 'delete')!.argv.filter((a) => a.includes('/'));
    expect(refs).toContain('deployment.apps/genrm-server');
    expect(refs).toContain('job.batch/genrm-weights-download');
    expect(refs.some((x) => x.startsWith('persistentvolumeclaim/'))).toBe(false);
    expect(refs.some((x) => x.startsWith('namespace/'))).toBe(false);
    expect(refs).not.toContain('configmap/other-gate');
    expect(refs).not.toContain('configmap/kube-root-ca.crt');
    expect(r.stdout).toContain('persistentvolumeclaim/genrm-weights kept');
  });

  it('deletes the claims with --purge-weights, and refuses without --yes when stdin is not a terminal', async () => {
    await runCli(['delete', '--yes', '--purge-weights'], fake.env('prune'));
    const refs = fake.calls().find((c) => verb(c.argv) === 'delete')!.argv;
    expect(refs).toContain('persistentvolumeclaim/genrm-weights');
    const refused = await runCli(['delete'], fake.env('prune'));
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
  });
});
