/**
 * The gate as a real process for tests: spawn it, read its JSON log lines, poll it like a kubelet
 * (a new connection per request, a bounded wait), and stop it with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { afterEach } from 'vitest';
import { startFakeGenrm, type FakeGenrm, type FakeGenrmOptions } from '../fakes/genrm-server.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const POLL_MS = 200;

export interface GateProcess {
  child: ChildProcess;
  port: number;
  stdout: string[];
  stderr: string[];
  logs(): Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM; resolves with the exit code and how long the exit took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

export function spawnGate(command: string[], env: Record<string, string>): { child: ChildProcess; stdout: string[]; stderr: string[]; exited: GateProcess['exited'] } {
  const child = spawn('node', command, { cwd: ROOT, env: { ...process.env, GENRM_API_KEY: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => stdout.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout, stderr, exited };
}

export async function startGateProcess(command: string[], env: Record<string, string> = {}): Promise<GateProcess> {
  const { child, stdout, stderr, exited } = spawnGate(command, env);
  const logs = () =>
    stdout.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  const listening = await waitFor(
    () => {
      if (exitedEarly) throw new Error(`the gate exited: ${stderr.join('\n')}`);
      return logs().find((l) => l.event === 'listening');
    },
    30_000,
    'the gate to log its listening port',
  );
  return {
    child,
    port: listening.port as number,
    stdout,
    stderr,
    logs,
    exited,
    async stop() {
      const started = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const { code } = await exited;
      return { code, ms: performance.now() - started };
    },
  };
}

/**
 * For each test of the calling file: `start(flags, fake)` starts a fake vLLM and `genrm gate`
 * against it (a free port on 127.0.0.1, short rechecks allowed, `flags` added); after each test,
 * both are stopped.
 */
export function gateAgainstFakeEachTest(): (flags: string[], fake?: FakeGenrmOptions) => Promise<{ fake: FakeGenrm; gate: GateProcess }> {
  let fake: FakeGenrm | undefined;
  let gate: GateProcess | undefined;
  afterEach(async () => {
    await gate?.stop();
    await fake?.stop();
    gate = fake = undefined;
  });
  return async (flags, options) => {
    fake = await startFakeGenrm(options);
    gate = await startGateProcess(
      ['bin/genrm.mjs', 'gate', '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1', '--timeout', '10', ...flags],
      { GENRM_GATE_ALLOW_FAST_RECHECK: '1' },
    );
    return { fake, gate };
  };
}

/** One GET on a new connection (as the kubelet probes), bounded by `timeoutMs`. */
export function get(port: number, path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${path} took longer than ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** Polls /ready every 200 ms like a kubelet until `want` (200 or 503); returns the answer and the time it took. */
export async function pollReady(port: number, want: 200 | 503, timeoutMs: number): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const answer = await waitFor(
    async () => {
      const r = await get(port, '/ready');
      return r.status === want ? r : undefined;
    },
    timeoutMs,
    `/ready to answer ${want}`,
  );
  return { status: answer.status, body: JSON.parse(answer.body), ms: performance.now() - started };
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
      if (String(err).includes('the gate exited')) throw err;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}
