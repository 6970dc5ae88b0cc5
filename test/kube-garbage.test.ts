/**
 * A kubectl that answers garbage (truncated JSON, an HTML error page, `items: [null]`, fields of
 * the wrong type, escape sequences) for each verb: every command fails with one sentence naming
 * the kubectl command (exit 1), never a TypeError or a stack trace, and prints nothing that drives
 * the terminal.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseList } from '../src/kube/index.ts';
import { KubectlError } from '../src/kube/failure.ts';
import { installFakeKubectl, type FakeKubectl } from './fakes/kubectl/install.ts';
import { runCli } from './fakes/kubectl/run-cli.ts';

let fake: FakeKubectl;
beforeEach(() => {
  fake = installFakeKubectl();
});
afterEach(() => fake.cleanup());

const STACK = /\n\s+at .+:\d+:\d+|internal error|TypeError/;
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function garbage(kind: string, verbs?: string) {
  return fake.env('ready', { FAKE_KUBECTL_GARBAGE: kind, ...(verbs ? { FAKE_KUBECTL_GARBAGE_VERBS: verbs } : {}) });
}

function expectOneSentence(r: { exitCode: number; stdout: string; stderr: string }, command: RegExp): void {
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(STACK);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^genrm: /);
  expect(lines[0]).toMatch(command);
  expect(r.stdout + r.stderr).not.toMatch(TERMINAL_CONTROL);
}

const GET = /`kubectl get .* -o json` printed output genrm cannot use/;

describe('a kubectl that prints garbage on `get`', () => {
  it.each([
    ['truncated-json', /not JSON: it starts with "\{\\"items\\":\[\{\\"kind\\":"/],
    ['html', /not JSON: it starts with "<!DOCTYPE html>/],
    ['null-item', /items\[0\]: .*expected object, received null/],
    ['wrong-types', /items\[0\]\.metadata\.labels: /],
  ])('%s: status, delete and apply fail with one sentence naming the command and what is wrong', async (kind, what) => {
    const env = garbage(kind, 'get');
    const status = await runCli(['status'], env);
    expectOneSentence(status, GET);
    expect(status.stderr).toMatch(what);
    expectOneSentence(await runCli(['delete', '--yes'], env), GET);
    const apply = await runCli(['apply'], env);
    // The objects were applied; the garbage came while listing leftovers to prune.
    expect(apply.stdout).toContain('deployment.apps/genrm-server serverside-applied');
    expectOneSentence(apply, /the objects were applied, but pruning stopped: `kubectl get .* -o json` printed output genrm cannot use/);
    expect(fake.calls().some((c) => c.argv.includes('delete'))).toBe(false);
  });
});

describe('a kubectl that prints garbage for every verb', () => {
  it('escape sequences: status, apply, delete, logs (--follow too) and diff never crash nor pass them on', async () => {
    const env = garbage('escapes');
    for (const args of [['status'], ['apply'], ['delete', '--yes'], ['logs'], ['logs', '--follow'], ['diff']]) {
      const r = await runCli(args, env);
      expect([0, 1, 3], `${args.join(' ')}: ${r.stderr}`).toContain(r.exitCode);
      expect(r.stderr, args.join(' ')).not.toMatch(STACK);
      expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(TERMINAL_CONTROL);
    }
  });

  it('an answer past the most genrm reads (65 MiB) is one sentence saying so, not "could not reach the cluster"', async () => {
    const r = await runCli(['status'], garbage('huge', 'get-raw'));
    expectOneSentence(r, /^genrm: `kubectl get --raw \/version` printed output genrm cannot use \(it printed more than 64 MiB, more than genrm reads from one call/);
    expect(r.stderr).not.toMatch(/reach the cluster/);
  });

  it('an HTML page as the current context is one sentence, not a context name', async () => {
    expectOneSentence(await runCli(['status'], garbage('html')), /`kubectl config current-context` printed no context name/);
  });
});

describe('a kubectl apply that exits 0 without confirming every object', () => {
  it.each([
    ['', /confirmed 0 of the 1 objects with a "serverside-applied" line; genrm stopped before pruning/],
    ['html', /confirmed 0 of the 1 objects .*; it printed "<!DOCTYPE html>.*genrm stopped before pruning/],
  ])('%j: apply fails with one sentence and prunes nothing', async (kind, why) => {
    const r = await runCli(['apply'], garbage(kind, 'apply'));
    expectOneSentence(r, /^genrm: `kubectl apply --server-side --field-manager=genrm -f -` printed output genrm cannot use/);
    expect(r.stderr).toMatch(why);
    expect(fake.calls().some((c) => c.argv.includes('delete'))).toBe(false);
  });
});

describe('a kubectl diff whose answer contradicts its exit code', () => {
  it.each([
    ['html', '0', /exited 0, "no differences", yet printed "<!DOCTYPE html>/],
    ['escapes', '0', /exited 0, "no differences", yet printed "deployment\.apps\/x serverside-applied red"/],
    ['', '1', /exited 1, "differences found", yet printed no diff/],
  ])('%s with exit %s is a failed diff (exit 3), never "no changes"', async (kind, exit, why) => {
    const r = await runCli(['diff'], fake.env('ready', { FAKE_KUBECTL_GARBAGE: kind, FAKE_KUBECTL_GARBAGE_VERBS: 'diff', FAKE_KUBECTL_GARBAGE_EXIT: exit }));
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).not.toContain('no changes');
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^genrm: `kubectl diff --server-side` printed output genrm cannot use/);
    expect(lines[0]).toMatch(why);
    expect(r.stderr).not.toMatch(TERMINAL_CONTROL);
  });
});

describe('parseList (kubectl get -o json)', () => {
  it('accepts kubectl\'s real shapes, null fields as absent, and strips escape sequences from strings', () => {
    const list = parseList(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: 'e1', namespace: 'genrm' },
            involvedObject: { kind: 'Pod', name: 'p' },
            message: 'pulled \u001b[2J\u001b]0;pwned\u0007image',
            eventTime: null,
            firstTimestamp: '2026-03-20T10:00:00Z',
          },
        ],
      }),
      'kubectl get events -o json',
    );
    expect(list.items[0]).toMatchObject({ message: 'pulled image', firstTimestamp: '2026-03-20T10:00:00Z' });
    expect('eventTime' in list.items[0]).toBe(false);
  });

  it.each([
    ['{"items":[{"kind":', /not JSON/],
    ['{"items":[null]}', /items\[0\]/],
    ['{"items":"all"}', /items: /],
    ['[1,2]', /expected object, received array/],
    ['{"items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":"yesterday"}}]}', /creationTimestamp: expected an RFC 3339 timestamp/],
    ['{"items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"status":{"containerStatuses":[{"name":"vllm"}]}}]}', /items\[0\]\.status\.containerStatuses\[0\]\.ready/],
    ['{"items":[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"status":{"readyReplicas":"1"}}]}', /items\[0\]\.status\.readyReplicas/],
    ['{"__proto__":{"items":[]},"apiVersion":"v1","kind":"x"}', /metadata/],
  ])('%s is a KubectlError naming the command', (stdout, why) => {
    let err: unknown;
    try {
      parseList(stdout, 'kubectl get pods -o json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubectlError);
    expect((err as KubectlError).kind).toBe('unexpected-output');
    expect((err as Error).message).toMatch(/^`kubectl get pods -o json` printed output genrm cannot use/);
    expect((err as Error).message).toMatch(why);
  });
});
