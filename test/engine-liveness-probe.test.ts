/**
 * vLLM's liveness probe, the exec command itself run by python3 against a stand-in gate on
 * 127.0.0.1: it fails only when the gate says the engine is stuck, never because the gate is down,
 * silent or confused. And the synthesized probe, single-node and multi-node (the leader). Also
 * vLLM's preStop drain command, which asks the same gate on the same loopback.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { drainHookScript, ENGINE_LIVE_ANSWER_SECONDS, ENGINE_LIVE_PROBE_TIMEOUT_SECONDS, engineLiveScript } from '../src/constructs/judge-gate.ts';
import { startFakeGenrm } from './fakes/genrm-server.ts';
import { get, pollReady, startGateProcess, waitFor } from './helpers/gate-process.ts';
import { container, find, MULTI_NODE, synth } from './helpers/manifests.ts';
import { skipUnless, titled } from './helpers/requires.ts';

const PYTHON = process.env.GENRM_TEST_PYTHON ?? 'python3';
const python = await execa(PYTHON, ['--version'], { reject: false });
const noPython = skipUnless(python.exitCode === 0, `needs ${PYTHON} on PATH (the vLLM image runs the probe with python3)`);

const servers: Array<Server | HttpServer> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server | HttpServer): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A gate whose /engine/live answers `status` with `body`. */
function gate(status: number, body: string): Promise<number> {
  return listen(
    createHttpServer((req, res) => {
      expect(req.url).toBe('/engine/live');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    }),
  );
}

/** A cluster's proxy settings, which must not matter: the gate is on the pod's loopback. */
const PROXIED = { HTTP_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', NO_PROXY: '', no_proxy: '' };

async function probe(port: number, answerSeconds = 2) {
  const started = Date.now();
  const r = await execa(PYTHON, ['-c', engineLiveScript(port, answerSeconds)], { reject: false, timeout: 30_000, env: PROXIED });
  return { exitCode: r.exitCode, stderr: r.stderr, seconds: (Date.now() - started) / 1000 };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(noPython)(titled("vLLM's liveness command (python3, as the kubelet runs it in the vLLM container)", noPython), () => {
  it('passes when the gate says the engine is live', async () => {
    const r = await probe(await gate(200, '{"live":true}'));
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it("fails when the gate says the engine is stuck (503, live: false), and says the gate's reason", async () => {
    const r = await probe(await gate(503, '{"live":false,"reason":"no token generated for 300 s while 2 requests run"}'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('no token generated for 300 s while 2 requests run');
  });

  it('passes when the gate is down (connection refused): a crash-looping gate never kills the engine', async () => {
    const r = await probe(await closedPort());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('not evidence of a stuck engine');
  });

  it('passes when the gate accepts the connection and never answers, within its own bound', async () => {
    const port = await listen(createServer(() => {}));
    const r = await probe(port, 2);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.seconds).toBeLessThan(2 + 3);
  });

  it('passes when the gate sends the headers of a 503 and then stalls in the body', async () => {
    const port = await listen(
      createServer((s) => {
        s.once('data', () => s.write('HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{"live":'));
      }),
    );
    const r = await probe(port, 2);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.seconds).toBeLessThan(2 + 3);
  });

  it('passes when the connection is reset, and on answers that are not the gate\'s verdict', async () => {
    const reset = await listen(createServer((s) => s.once('data', () => s.resetAndDestroy())));
    expect((await probe(reset)).exitCode).toBe(0);
    for (const [status, body] of [
      [503, 'upstream connect error'],
      [503, '{"live":true}'],
      [500, '{"live":false}'],
      [404, '{"error":"not found"}'],
    ] as const) {
      const r = await probe(await gate(status, body));
      expect(r.exitCode, `${status} ${body}: ${r.stderr}`).toBe(0);
    }
  });
});

describe.skipIf(noPython)(titled("vLLM's preStop drain command (python3, as the kubelet runs it)", noPython), () => {
  const drain = (port: number) => execa(PYTHON, ['-c', drainHookScript(port, 5)], { reject: false, timeout: 30_000, env: PROXIED });

  it("asks the gate's /drain on loopback with the proxy variables set, and prints its answer", async () => {
    const asked: string[] = [];
    const port = await listen(
      createHttpServer((req, res) => {
        asked.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"drained":true,"waitedSeconds":3}');
      }),
    );
    const r = await drain(port);
    expect(asked).toEqual(['/drain']);
    expect(r.stdout).toBe('{"drained":true,"waitedSeconds":3}');
    expect(r.exitCode).toBe(0);
  });

  it('says so and lets the pod stop when the gate is down', async () => {
    const r = await drain(await closedPort());
    expect(r.stderr).toMatch(/^genrm: the drain did not answer: .*Connection refused/);
    expect(r.exitCode).toBe(0);
  });
});

describe.skipIf(noPython)(titled("vLLM's liveness command against the real gate program", noPython), () => {
  it('fails while the gate finds the engine stuck, passes once tokens advance, and passes with the gate stopped', async () => {
    const fake = await startFakeGenrm({ slots: 4, judgeDelayMs: 300 });
    const gate = await startGateProcess(
      ['bin/genrm.mjs', 'gate', '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1', '--recheck-seconds', '2', '--timeout', '1', '--stall-seconds', '2'],
      { GENRM_GATE_ALLOW_FAST_RECHECK: '1' },
    );
    try {
      await pollReady(gate.port, 200, 30_000);
      expect((await probe(gate.port)).exitCode).toBe(0);
      fake.startLoad({ concurrency: 16, serviceMs: 1000 });
      await waitFor(() => fake.running >= 4 || undefined, 10_000, 'requests to run');
      fake.stall = true;
      await waitFor(async () => ((await get(gate.port, '/engine/live')).status === 503 ? true : undefined), 20_000, '/engine/live to answer 503');
      const stuck = await probe(gate.port);
      expect(stuck.exitCode).toBe(1);
      expect(stuck.stderr).toMatch(/engine stuck: .*generation_tokens_total has not advanced/);
      fake.stall = false;
      await waitFor(async () => ((await get(gate.port, '/engine/live')).status === 200 ? true : undefined), 10_000, '/engine/live to recover');
      expect((await probe(gate.port)).exitCode).toBe(0);
    } finally {
      await gate.stop();
      fake.stopLoad();
      await fake.stop();
    }
    const down = await probe(gate.port);
    expect(down.exitCode, down.stderr).toBe(0);
  }, 60_000);
});

describe("vLLM's synthesized liveness probe", () => {
  function expectGateSafe(probe: any) {
    expect(probe.httpGet).toBeUndefined();
    expect(probe.exec.command.slice(0, 2)).toEqual(['python3', '-c']);
    expect(probe.exec.command[2]).toBe(engineLiveScript(8081, ENGINE_LIVE_ANSWER_SECONDS));
    // The script ends on its own well before the kubelet's timeout (which would count as a failure).
    expect(probe.timeoutSeconds).toBe(ENGINE_LIVE_PROBE_TIMEOUT_SECONDS);
    expect(probe.timeoutSeconds).toBeGreaterThanOrEqual(ENGINE_LIVE_ANSWER_SECONDS + 5);
    expect(probe.periodSeconds).toBeGreaterThan(probe.timeoutSeconds);
  }

  it('asks the gate from inside the vLLM container (single node)', async () => {
    const pod = find(await synth(), 'Deployment', 'genrm-server').spec.template.spec;
    expectGateSafe(container(pod, 'vllm').livenessProbe);
  });

  it("asks the leader's gate from inside the leader's vLLM container (multi-node); workers have no liveness on a gate", async () => {
    const lws = find(
      await synth(MULTI_NODE),
      'LeaderWorkerSet',
    );
    expectGateSafe(container(lws.spec.leaderWorkerTemplate.leaderTemplate.spec, 'vllm').livenessProbe);
    const worker = container(lws.spec.leaderWorkerTemplate.workerTemplate.spec, 'vllm');
    expect(JSON.stringify(worker.livenessProbe ?? {})).not.toContain('engine/live');
  });
});
