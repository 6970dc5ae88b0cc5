/**
 * Synth speed: wall time of `genrm synth` per example config, run as a real process (what a user
 * waits for), and in-process (the cost of the chart itself, without Node and tsx start-up).
 * `npx tsx bench/synth.ts` prints a markdown table. Offline: synth never calls out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libIsFresh } from '../scripts/source-stamp.mjs';
import { loadConfig } from '../src/config/load.ts';
import { synthToText } from '../src/synth.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yaml')).sort();
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// bin/genrm.mjs runs the compiled lib/ when it is fresh, the sources through tsx otherwise.
const entry = libIsFresh(root) ? 'compiled lib/' : 'sources through tsx';
const rows: string[] = [`| config | \`genrm synth\` process (${entry}), median of ${RUNS} (s) | chart in-process, median of ${RUNS} (ms) |`, '|---|---|---|'];
for (const f of examples) {
  const cfg = join(root, 'examples', f);
  const out = mkdtempSync(join(tmpdir(), 'genrm-bench-'));
  const proc: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    execFileSync('node', [join(root, 'bin/genrm.mjs'), 'synth', '--config', cfg, '--out', out], { stdio: 'ignore' });
    proc.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  const config = await loadConfig(cfg);
  const inproc: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await synthToText(config);
    inproc.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  rows.push(`| ${f} | ${median(proc).toFixed(2)} | ${median(inproc).toFixed(0)} |`);
}
const { cpus, loadavg } = await import('node:os');
process.stdout.write(`${rows.join('\n')}\n\n(${process.platform} ${process.arch}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0].toFixed(2)} at the end)\n`);
