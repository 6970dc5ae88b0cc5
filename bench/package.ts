/**
 * Start-up cost of the installed package: `genrm synth` (compiled, from `npm pack`, installed
 * offline into a temp project) against a trivial cdk8s-plus app (one Deployment) in the same
 * project, as real processes, alternating, median wall time of RUNS each. `npx tsx bench/package.ts`
 * prints a markdown table; the goal is `genrm synth` within 1.5x of the trivial app.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { installTarball, npmPack } from '../test/helpers/package.ts';

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

function seconds(cmd: string, args: string[], cwd: string): number {
  const t = process.hrtime.bigint();
  execFileSync(cmd, args, { cwd, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const root = mkdtempSync(join(tmpdir(), 'genrm-bench-package-'));
try {
  const app = join(root, 'app');
  await installTarball(await npmPack(root), app);
  writeFileSync(join(app, 'trivial.mjs'), TRIVIAL_APP);
  const genrm = join(app, 'node_modules/.bin/genrm');
  const cases = {
    'trivial cdk8s-plus app (`node trivial.mjs`)': () => seconds('node', ['trivial.mjs', 'out-trivial'], app),
    '`genrm synth` (installed bin)': () => seconds(genrm, ['synth', '--out', 'out-genrm'], app),
    '`npx genrm synth`': () => seconds('npx', ['--offline', 'genrm', 'synth', '--out', 'out-npx'], app),
  };
  const times = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [name, run] of Object.entries(cases)) times.get(name)!.push(run());
  const base = median(times.get(Object.keys(cases)[0])!);
  const rows = ['| process | median wall time of 9 (s) | vs trivial app |', '|---|---|---|'];
  for (const [name, xs] of times) rows.push(`| ${name} | ${median(xs).toFixed(2)} | ${(median(xs) / base).toFixed(2)}x |`);
  process.stdout.write(`${rows.join('\n')}\n\n(${process.platform} ${process.arch}, Node ${process.version}, load average ${loadavg()[0].toFixed(2)})\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
