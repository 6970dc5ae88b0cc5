/**
 * Benchmark of the readiness gate against the fake GenRM server (loopback only, bounded: ~2 min
 * with the defaults, ~70 s with --run-seconds 8 --load-seconds 3 --busy-seconds 8).
 *
 *   npx tsx bench/gate.ts [--run-seconds 12] [--load-seconds 5] [--rate 200] [--busy-seconds 15]
 *   npx tsx bench/gate.ts --vllm     (against vLLM's own server on CPU instead: bench/gate-vllm.ts)
 *
 * Part A, an idle server:
 * Builds the gate bundle exactly as the pod runs it (esbuild, one file, plain node), then measures:
 * 1. judging requests per hour per pod (and those of the first check, the whole judging suite):
 *    counted on the fake over a short run with a 2 s recheck,
 *    extrapolated (after the first full check), and compared with the bound 3600 / recheck (one
 *    order per periodic recheck while passing) and with a naive probe that judges on every 10 s
 *    probe tick;
 * 2. /ready latency p50/p99 at a fixed request rate, one new connection per request (as kubelet);
 * 3. the gate's resident memory (VmRSS and peak VmHWM from /proc).
 * Part B, a saturating trainer load scaled down from the defaults (request timeout 1 s instead of
 * 300 s; 4 slots, 16 trainer requests of 1 s outstanding, so a new request waits ~3 s in the
 * queue, 3x the timeout; /health takes 1.5 s while requests wait), each with vLLM's FCFS and with
 * priority scheduling (the gate's judgments at priority -10):
 * 4. the time to the first Ready with the load running before the gate starts (the first check
 *    judges the whole judging suite), and readiness availability: the share of /ready samples
 *    (every 200 ms) that answer 200;
 * 5. time to detect a model that starts misjudging under that load (recheck 4 s);
 * 6. judging requests per hour with and without the load (recheck 2 s).
 * Prints markdown tables.
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
import { suiteCaseCount } from '../src/genrm/suite.ts';
import { startFakeGenrm } from '../test/fakes/genrm-server.ts';

const { values } = parseArgs({
  options: {
    'run-seconds': { type: 'string', default: '12' },
    'load-seconds': { type: 'string', default: '5' },
    rate: { type: 'string', default: '200' },
    'busy-seconds': { type: 'string', default: '15' },
    vllm: { type: 'boolean', default: false },
  },
});
if (values.vllm) {
  const { benchRealVllm } = await import('./gate-vllm.ts');
  await benchRealVllm();
  process.exit(0);
}
const RUN_SECONDS = Number(values['run-seconds']);
const LOAD_SECONDS = Number(values['load-seconds']);
const RATE = Number(values.rate);
const BUSY_SECONDS = Number(values['busy-seconds']);
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
  // The first check judges the whole suite before the pod is ever Ready.
  const firstCheckJudgments = fake.stats.judgments;

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
    [`judging requests of the first check (the whole judging suite, ${suiteCaseCount('full')} cases, once before the pod is Ready), measured`, `${firstCheckJudgments}`],
    [`judging requests/h per pod, gate at the default recheck (${DEFAULT_RECHECK_SECONDS} s), bound 3600 / recheck`, `${f(defaultPerHour, 0)} (one order per recheck, alternating; both orders to confirm a failed recheck and after a failure)`],
    [`judging requests/h per pod, gate at recheck ${BENCH_RECHECK_SECONDS} s: measured over ${f(runSeconds, 0)} s (${judgments} requests), extrapolated`, `${f(measuredPerHour, 0)} (bound ${f(boundPerHour, 0)})`],
    [`/ready latency p50 / p99 / max at ${RATE} req/s for ${LOAD_SECONDS} s (new connection each)`, `${f(load.p50, 2)} / ${f(load.p99, 2)} / ${f(load.max, 2)} ms`],
    ['/ready answers during the load: 200 / other / errors', `${load.ok} / ${load.other} / ${load.errors} (sent ${load.sent})`],
    ['/health GETs to the server during the /ready load (polled every 2 s in the background; /ready itself does no I/O)', `${load.healthRequests}`],
    [`judging requests during the load (the ${BENCH_RECHECK_SECONDS} s recheck loop alone allows ≤ ${load.loopBound})`, `${load.judgmentsDuringLoad}`],
    ['gate RSS after the load / peak (VmHWM)', `${f(mem.rssKiB / 1024)} / ${f(mem.hwmKiB / 1024)} MiB`],
  ];
  process.stdout.write(`\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\n`);
  process.stdout.write(`(node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}, fake judge latency ${JUDGE_DELAY_MS} ms, loopback)\n`);
} finally {
  gate.kill('SIGTERM');
  await new Promise((resolve) => (gate.exitCode !== null ? resolve(null) : gate.once('exit', resolve)));
  await fake.stop();
}

// Part B: a saturating load.
const LOAD = { concurrency: 16, serviceMs: 1000 };
const busyRows: string[][] = [];
for (const priority of [false, true]) {
  const policy = priority ? 'priority (gate at -10)' : 'FCFS';
  const availability = await underLoad(priority, 2, async (port, f) => {
    const started = performance.now();
    const judged = f.stats.judgments;
    const statuses = await sampleReady(port, BUSY_SECONDS * 1000);
    const perHour = ((f.stats.judgments - judged) / ((performance.now() - started) / 1000)) * 3600;
    return { ok: statuses.filter((s) => s === 200).length, total: statuses.length, perHour };
  });
  const detect = await underLoad(priority, 4, async (port, f) => {
    await sleep(2000);
    f.mode = 'wrong-verdict';
    const started = performance.now();
    while ((await probe(port)).status !== 503) {
      if (performance.now() - started > 60_000) return Number.NaN;
      await sleep(200);
    }
    return (performance.now() - started) / 1000;
  });
  const firstCheck = await underLoad(priority, 2, async (_port, _f, msToReady) => msToReady / 1000, true);
  busyRows.push([
    policy,
    `${firstCheck.toFixed(1)} s`,
    `${availability.ok} / ${availability.total} (${((100 * availability.ok) / availability.total).toFixed(0)} %)`,
    `${detect.toFixed(1)} s (bound: queue wait 3 s + 2 rechecks = 11 s)`,
    `${availability.perHour.toFixed(0)}`,
  ]);
}
const idlePerHour = await underLoad(false, 2, async (_port, f) => {
  f.stopLoad();
  await sleep(1000);
  const judged = f.stats.judgments;
  const started = performance.now();
  await sleep(BUSY_SECONDS * 1000);
  return ((f.stats.judgments - judged) / ((performance.now() - started) / 1000)) * 3600;
});
process.stdout.write(
  `\n| vLLM scheduling | time to the first Ready, the load running from the start (the first check judges the ${suiteCaseCount('full')}-case suite) | /ready 200 during ${BUSY_SECONDS} s of saturating load | time to detect a misjudging model under load | judging requests/h under load (recheck 2 s; idle: ${idlePerHour.toFixed(0)}, bound 1800) |\n|---|---|---|---|---|\n${busyRows
    .map((r) => `| ${r.join(' | ')} |`)
    .join('\n')}\n\n`,
);
process.stdout.write(`(scaled down: request timeout 1 s, queue wait ~3 s, /health 1.5 s under load; node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)})\n`);
await rm(dir, { recursive: true, force: true });

/**
 * Starts a loaded fake and a gate on it, waits for Ready, runs `body`, stops both. With
 * `loadFirst`, the load runs before the gate starts; `body` gets the time to the first Ready.
 */
async function underLoad<T>(
  priority: boolean,
  recheckSeconds: number,
  body: (port: number, f: Awaited<ReturnType<typeof startFakeGenrm>>, msToReady: number) => Promise<T>,
  loadFirst = false,
): Promise<T> {
  const f = await startFakeGenrm({ slots: 4, judgeDelayMs: 300, healthDelayUnderLoadMs: 1500, priorityScheduling: priority });
  const args = [bundle, '--base-url', f.baseUrl, '--port', '0', '--host', '127.0.0.1', '--recheck-seconds', String(recheckSeconds), '--timeout', '1', '--stall-seconds', '2'];
  if (priority) args.push('--priority=-10');
  if (loadFirst) {
    f.startLoad(LOAD);
    while (f.waiting < 8) await sleep(100);
  }
  const started = performance.now();
  const g = spawn('node', args, { env: { ...process.env, GENRM_GATE_ALLOW_FAST_RECHECK: '1', GENRM_API_KEY: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await listeningPort(g);
    await waitReady(port, 60_000);
    const msToReady = performance.now() - started;
    if (!loadFirst) {
      f.startLoad(LOAD);
      while (f.waiting < 8) await sleep(100);
    }
    return await body(port, f, msToReady);
  } finally {
    g.kill('SIGTERM');
    await new Promise((resolve) => (g.exitCode !== null ? resolve(null) : g.once('exit', resolve)));
    f.stopLoad();
    await f.stop();
  }
}

async function sampleReady(port: number, ms: number): Promise<number[]> {
  const statuses: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    statuses.push(await probe(port).then((r) => r.status, () => 0));
    await sleep(200);
  }
  return statuses;
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

async function waitReady(port: number, withinMs = 20_000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    if ((await probe(port)).status === 200) return;
    await sleep(200);
  }
  throw new Error(`the gate did not become ready within ${withinMs / 1000} s`);
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
