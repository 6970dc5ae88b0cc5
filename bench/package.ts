/**
 * Start-up cost of the installed package: `genrm synth` (compiled, from `npm pack`, installed
 * offline into a temp project) against a trivial cdk8s-plus app (one Deployment) in the same
 * project, as real processes, alternating: the median of RUNS each, in CPU time (user + system, as
 * bash's `times` reports a child's; steady on a busy machine) and in wall time.
 * The same command in this clone too: bin/genrm.mjs on the compiled lib/ (fresh: its stamp
 * matches the sources) and on the sources through tsx (the stamp set aside for those runs).
 * `npx tsx bench/package.ts` prints a markdown table; the goal is the installed `genrm synth`
 * within 1.5x of the trivial app, in CPU and in wall time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libIsFresh, STAMP_FILE } from '../scripts/source-stamp.mjs';
import { installTarball, npmPack } from '../test/helpers/package.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const GOAL = 1.5;

const RUNS = 9;

const TRIVIAL_APP = `
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
const app = new App({ outdir: process.argv[2] });
const chart = new Chart(app, 'trivial');
new kplus.Deployment(chart, 'web', { containers: [{ image: 'nginx:1.27', portNumber: 80 }] });
app.synth();
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Timing {
  cpu: number;
  wall: number;
}

/** Runs `cmd args` under bash; its `times` builtin gives the child's CPU seconds (user, system). */
function measure(cmd: string, args: string[], cwd: string): Timing {
  const quoted = [cmd, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const t = process.hrtime.bigint();
  const out = execFileSync('bash', ['-c', `${quoted} >/dev/null 2>&1 || exit 1; times`], { cwd, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  const children = out.trim().split('\n').at(-1)!;
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { cpu, wall };
}

const root = mkdtempSync(join(tmpdir(), 'genrm-bench-package-'));
try {
  const app = join(root, 'app');
  await installTarball(await npmPack(root), app);
  writeFileSync(join(app, 'trivial.mjs'), TRIVIAL_APP);
  const genrm = join(app, 'node_modules/.bin/genrm');
  const cases = {
    'trivial cdk8s-plus app (`node trivial.mjs`)': () => measure('node', ['trivial.mjs', 'out-trivial'], app),
    '`genrm synth` (installed bin)': () => measure(genrm, ['synth', '--out', 'out-genrm'], app),
    '`npx genrm synth`': () => measure('npx', ['--offline', 'genrm', 'synth', '--out', 'out-npx'], app),
    'clone: `node bin/genrm.mjs synth`, compiled lib/ (fresh)': () => measure('node', [join(REPO, 'bin/genrm.mjs'), 'synth', '--out', join(app, 'out-clone-lib')], app),
    'clone: `node bin/genrm.mjs synth`, sources through tsx': () => withoutStamp(() => measure('node', [join(REPO, 'bin/genrm.mjs'), 'synth', '--out', join(app, 'out-clone-tsx')], app)),
  };
  // `npm pack` ran the build: the clone's lib/ is fresh now.
  if (!libIsFresh(REPO)) throw new Error('lib/ is not fresh after the build: the clone rows would both run tsx');
  const times = new Map<string, Timing[]>(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [name, run] of Object.entries(cases)) times.get(name)!.push(run());
  const med = (name: string, key: keyof Timing) => median(times.get(name)!.map((t) => t[key]));
  const base = Object.keys(cases)[0];
  const rows = [`| process (median of ${RUNS}) | CPU (s) | vs trivial | wall (s) | vs trivial |`, '|---|---|---|---|---|'];
  for (const name of times.keys()) {
    const [cpu, wall] = [med(name, 'cpu'), med(name, 'wall')];
    rows.push(`| ${name} | ${cpu.toFixed(2)} | ${(cpu / med(base, 'cpu')).toFixed(2)}x | ${wall.toFixed(2)} | ${(wall / med(base, 'wall')).toFixed(2)}x |`);
  }
  const installed = '`genrm synth` (installed bin)';
  const ratios = (['cpu', 'wall'] as const).map((k) => med(installed, k) / med(base, k));
  const verdict = ratios.every((r) => r <= GOAL) ? 'within' : 'NOT within';
  rows.push('', `Installed \`genrm synth\`: ${ratios[0].toFixed(2)}x CPU, ${ratios[1].toFixed(2)}x wall of the trivial app: ${verdict} the goal of ${GOAL}x.`);
  process.stdout.write(`${rows.join('\n')}\n\n(${process.platform} ${process.arch}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0].toFixed(2)} at the end)\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

/** Runs `fn` with the clone's lib/ stamp set aside, so that bin/genrm.mjs runs the sources. */
function withoutStamp<T>(fn: () => T): T {
  const stamp = join(REPO, STAMP_FILE);
  const aside = `${stamp}.bench`;
  if (existsSync(stamp)) renameSync(stamp, aside);
  try {
    return fn();
  } finally {
    if (existsSync(aside)) renameSync(aside, stamp);
  }
}
