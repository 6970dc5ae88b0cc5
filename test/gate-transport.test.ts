/**
 * Nothing the gate or `smoke` sends outlives its bound, a stalled body included: a server that
 * answers 200 with its headers and one byte of the body, then nothing (Node 20's fetch could lose
 * its abort signal there, undici issues 4627/4750). Huge time values are refused with exit 2.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TIMER_SECONDS, request } from '../src/genrm/client.ts';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { get, pollReady, ROOT, startGateProcess, waitFor } from './helpers/gate-process.ts';

describe('the HTTP client', () => {
  let stalls: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write(req.url === '/two' ? '{"' : '{');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stalls = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
  });
  afterAll(() => stalls.close());

  it('ends a request whose body stalls after one byte at its own bound', async () => {
    const started = performance.now();
    const r = await request('GET', `${stalls.url}/one`, undefined, { timeoutMs: 300 });
    const ms = performance.now() - started;
    expect(r).toMatchObject({ ok: false, kind: 'timeout', reason: expect.stringMatching(/no complete answer within 0\.3 s/) });
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1500);
  });

  it('ends a stalled POST at the caller\'s signal too', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const started = performance.now();
    const r = await request('POST', `${stalls.url}/two`, { a: 1 }, { timeoutMs: 60_000, signal: stop.signal });
    expect(r).toMatchObject({ ok: false, kind: 'cancelled' });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('never waits past the bound, whatever bound it is given (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 120 }), async (timeoutMs) => {
        const started = performance.now();
        const r = await request('GET', `${stalls.url}/one`, undefined, { timeoutMs });
        expect(r.ok).toBe(false);
        expect(performance.now() - started).toBeLessThan(timeoutMs + 1000);
      }),
      { seed: 9, numRuns: 12 },
    );
  });

  it('reports a server that closes the connection mid-body', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.destroy(), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const r = await request('GET', `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, undefined, { timeoutMs: 5000 });
      expect(r).toMatchObject({ ok: false, kind: 'network_error' });
    } finally {
      server.close();
    }
  });
});

describe('a stalled body against the gate and smoke', () => {
  let fake: FakeGenrm;
  beforeAll(async () => {
    fake = await startFakeGenrm();
  });
  afterAll(() => fake.stop());

  it('does not freeze the gate: the check fails, the gate recovers, and SIGTERM stops it', async () => {
    fake.mode = 'plain';
    const gate = await startGateProcess(
      ['bin/genrm.mjs', 'gate', '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1', '--recheck-seconds', '2', '--timeout', '1', '--stall-seconds', '2'],
      { GENRM_GATE_ALLOW_FAST_RECHECK: '1' },
    );
    try {
      await pollReady(gate.port, 200, 30_000);
      fake.mode = 'stall-body';
      const down = await pollReady(gate.port, 503, 15_000);
      expect(down.body).toMatchObject({ kind: 'timeout', reason: expect.stringMatching(/no answer within 1\.0 s/) });
      // Still answering, and judging again: no request outlived its bound.
      expect((await get(gate.port, '/live')).status).toBe(200);
      fake.mode = 'plain';
      await pollReady(gate.port, 200, 15_000);
      fake.mode = 'stall-body';
      await waitFor(() => fake.stats.judgments > 0 || undefined, 5000, 'a judgment');
    } finally {
      const { code, ms } = await gate.stop();
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5000);
      fake.mode = 'plain';
    }
  });

  it('bounds smoke --timeout: it prints the failure once and exits', async () => {
    fake.mode = 'stall-body';
    try {
      const started = performance.now();
      const r = await execa('node', ['bin/genrm.mjs', 'smoke', '--base-url', fake.baseUrl, '--timeout', '2'], { cwd: ROOT, reject: false, env: { GENRM_API_KEY: '' }, timeout: 30_000 });
      const ms = performance.now() - started;
      expect(r.exitCode).toBe(1);
      expect(ms).toBeLessThan(8000);
      expect(r.stdout).toMatch(/^FAIL .*: timeout/);
      expect(r.stderr.match(/did not finish within 2\.0 s/g)).toHaveLength(1);
    } finally {
      fake.mode = 'plain';
    }
  });

  it.each([
    ['smoke --timeout', ['smoke', '--base-url', 'http://127.0.0.1:1/v1', '--timeout', '3000000'], /--timeout must be at most 2147483 seconds/],
    ['gate --timeout', ['gate', '--base-url', 'http://127.0.0.1:1/v1', '--timeout', String(MAX_TIMER_SECONDS + 1)], /--timeout: must be at most 2147483 seconds/],
  ])('refuses a time past Node\'s timer limit (%s) with exit 2', async (_name, args, message) => {
    const r = await execa('node', ['bin/genrm.mjs', ...args], { cwd: ROOT, reject: false, env: { GENRM_API_KEY: '' }, timeout: 30_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
