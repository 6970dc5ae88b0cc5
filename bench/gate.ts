/**
 * Benchmark of the readiness gate against the fake GenRM server (loopback only, bounded: ~40 s).
 *
 *   npx tsx bench/gate.ts [--run-seconds 20] [--load-seconds 10] [--rate 200]
 *
 * Builds the gate bundle exactly as the pod runs it (esbuild, one file, plain node), then measures:
 * 1. judging requests per hour per pod: counted on the fake over a short run with a 2 s recheck,
 *    extrapolated (after the first full check), and compared with the bound 3600 / recheck (one
 *    order per periodic recheck while passing) and with a naive probe that judges on every 10 s
 *    probe tick;
 * 2. /ready latency p50/p99 at a fixed request rate, one new connection per request (as kubelet);
 * 3. the gate's resident memory (VmRSS and peak VmHWM from /proc).
 * Prints a markdown table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { startFakeGenrm } from '../test/fakes/genrm-server.ts';

const { values } = parseArgs({
  options: {
    'run-seconds': { type: 'string', default: '20' },
    'load-seconds': { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
  },
});
const RUN_SECONDS = Number(values['run-seconds']);
const LOAD_SECONDS = Number(values['load-seconds']);
const RATE = Number(values.rate);
const BENCH_RECHECK_SECONDS = 2;
const DEFAULT_RECHECK_SECONDS = 600;
const NAIVE_PROBE_PERIOD_SECONDS = 10;
const JUDGE_DELAY_MS = 50;

const root = new URL('..', import.meta.url).pathname;
const dir = await mkdtemp(join(tmpdir(), 'genrm-gate-bench-'));
const bundle = join(dir, 'gate.mjs');
await build({ entryPoints: [join(root, 'src/gate/main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' });
const bundleBytes = (await stat(bundle)).size;

const fake = await startFakeGenrm({ judgeDelayMs: JUDGE_DELAY_MS });
const gate = spawn('node', [bundle, '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1', '--recheck-seconds', String(BENCH_RECHECK_SECONDS)], {
  env: { ...process.env, GENRM_GATE_ALLOW_FAST_RECHECK: '1', GENRM_API_KEY: '' },
  stdio: ['ignore', 'pipe', 'inherit'],
});

try {
  const port = await listeningPort(gate);
  await waitReady(port);

  // 1. Judging requests per hour.
  const judgmentsBefore = fake.stats.judgments;
  const runStarted = performance.now();
  await sleep(RUN_SECONDS * 1000);
  const runSeconds = (performance.now() - runStarted) / 1000;
  const judgments = fake.stats.judgments - judgmentsBefore;
  const measuredPerHour = (judgments / runSeconds) * 3600;
  const boundPerHour = 3600 / BENCH_RECHECK_SECONDS;
  const defaultPerHour = 3600 / DEFAULT_RECHECK_SECONDS;
  const naiveChecksPerHour = 3600 / NAIVE_PROBE_PERIOD_SECONDS;

  // 2. /ready latency under load.
  const load = await loadReady(port, RATE, LOAD_SECONDS);

  // 3. Memory.
  const mem = await memory(gate.pid!);

  const f = (n: number, d = 1) => n.toFixed(d);
  const rows: [string, string][] = [
    ['gate bundle size (one file, plain node)', `${f(bundleBytes / 1024)} KiB`],
    [`judging requests/h per pod, naive probe judging every ${NAIVE_PROBE_PERIOD_SECONDS} s tick`, `${naiveChecksPerHour} (1 request per tick; ${2 * naiveChecksPerHour} with both orders)`],
    [`judging requests/h per pod, gate at the default recheck (${DEFAULT_RECHECK_SECONDS} s), bound 3600 / recheck`, `${f(defaultPerHour, 0)} (one order per recheck, alternating; both orders on the first check and after a failure)`],
    [`judging requests/h per pod, gate at recheck ${BENCH_RECHECK_SECONDS} s: measured over ${f(runSeconds, 0)} s (${judgments} requests), extrapolated`, `${f(measuredPerHour, 0)} (bound ${f(boundPerHour, 0)})`],
    [`/ready latency p50 / p99 / max at ${RATE} req/s for ${LOAD_SECONDS} s (new connection each)`, `${f(load.p50, 2)} / ${f(load.p99, 2)} / ${f(load.max, 2)} ms`],
    ['/ready answers during the load: 200 / other / errors', `${load.ok} / ${load.other} / ${load.errors} (sent ${load.sent})`],
    ['/health GETs to the server during the load (2 s cache, shared in-flight)', `${load.healthRequests}`],
    [`judging requests during the load (the ${BENCH_RECHECK_SECONDS} s recheck loop alone allows ≤ ${load.loopBound})`, `${load.judgmentsDuringLoad}`],
    ['gate RSS after the load / peak (VmHWM)', `${f(mem.rssKiB / 1024)} / ${f(mem.hwmKiB / 1024)} MiB`],
  ];
  process.stdout.write(`\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\n`);
  process.stdout.write(`(node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}, fake judge latency ${JUDGE_DELAY_MS} ms, loopback)\n`);
} finally {
  gate.kill('SIGTERM');
  await new Promise((resolve) => (gate.exitCode !== null ? resolve(null) : gate.once('exit', resolve)));
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
}

async function listeningPort(child: ChildProcess): Promise<number> {
  const lines = createInterface({ input: child.stdout! });
  return await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the gate did not start within 20 s')), 20_000);
    lines.on('line', (line) => {
      try {
        const log = JSON.parse(line) as { event?: string; port?: number };
        if (log.event === 'listening' && log.port) {
          clearTimeout(timer);
          resolve(log.port);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', () => reject(new Error('the gate exited')));
  });
}

async function waitReady(port: number): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    if ((await probe(port)).status === 200) return;
    await sleep(200);
  }
  throw new Error('the gate did not become ready within 20 s');
}

function probe(port: number): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/ready', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function loadReady(port: number, rate: number, seconds: number) {
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const latencies: number[] = [];
  let ok = 0;
  let other = 0;
  let errors = 0;
  const healthBefore = fake.stats.health;
  const judgmentsBefore = fake.stats.judgments;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      probe(port).then(
        (r) => {
          latencies.push(r.ms);
          if (r.status === 200) ok++;
          else other++;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return {
    sent: total,
    ok,
    other,
    errors,
    p50: pct(50),
    p99: pct(99),
    max: latencies.at(-1) ?? Number.NaN,
    healthRequests: fake.stats.health - healthBefore,
    judgmentsDuringLoad: fake.stats.judgments - judgmentsBefore,
    // one order per recheck while passing; one extra for a check already in flight
    loopBound: Math.ceil(elapsed / BENCH_RECHECK_SECONDS + 1),
  };
}

async function memory(pid: number): Promise<{ rssKiB: number; hwmKiB: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(/^\w+:\s+(\d+) kB$/m.exec(status.split('\n').find((l) => l.startsWith(`${key}:`)) ?? '')?.[1] ?? Number.NaN);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}
