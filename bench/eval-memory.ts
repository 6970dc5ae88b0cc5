/**
 * Peak memory of `genrm eval` on a large input, against the fake GenRM server (loopback only).
 *
 *   npx tsx bench/eval-memory.ts [--size-mb 1024] [--row-kb 16] [--genrm bin/genrm.mjs] [--concurrency 32]
 *
 * Writes a JSONL file of about --size-mb MiB (rows of about --row-kb KiB: a long prompt, short
 * responses, a label) into a temporary folder, then runs `genrm eval --output` on it twice under
 * `/usr/bin/time -v`: a first run that judges every row, and a second that resumes past all of them.
 * Prints a markdown table: exit code, wall time, peak resident memory (time's "Maximum resident set
 * size"), and the summary's counts. --genrm runs another checkout's bin/genrm.mjs (a before/after
 * comparison). The folder is removed at the end.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeGenrm } from '../test/fakes/genrm-server.ts';

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '1024' },
    'row-kb': { type: 'string', default: '16' },
    genrm: { type: 'string', default: 'bin/genrm.mjs' },
    concurrency: { type: 'string', default: '32' },
  },
});
const sizeBytes = Number(values['size-mb']) * 1024 * 1024;
const rowBytes = Number(values['row-kb']) * 1024;
const bin = resolve(values.genrm);

const dir = await mkdtemp(join(tmpdir(), 'genrm-eval-bench-'));
const fake = await startFakeGenrm({ behaviour: { oracle: () => 1, completionTokens: 50 } });
try {
  const input = join(dir, 'pairs.jsonl');
  const rows = await writeInput(input);
  const size = (await stat(input)).size;
  console.log(`input: ${rows} rows, ${(size / 1024 / 1024).toFixed(0)} MiB; genrm: ${bin}\n`);
  console.log('| run | exit | wall s | peak RSS MiB | summary |');
  console.log('| --- | --- | --- | --- | --- |');
  const output = join(dir, 'out.jsonl');
  for (const run of ['judge every row', 'resume past every row']) {
    const r = await timed(['eval', '--input', input, '--base-url', fake.baseUrl, '--output', output, '--concurrency', values.concurrency, '--json']);
    let summary = r.stderr.split('\n').filter((l) => l.startsWith('genrm:')).join(' ').slice(0, 160);
    try {
      const s = JSON.parse(r.stdout) as { judged: number; run: { judgedNow: number; resumed: number } };
      summary = `judged ${s.judged}, now ${s.run.judgedNow}, resumed ${s.run.resumed}`;
    } catch {
      // not JSON: the error line stands
    }
    console.log(`| ${run} | ${r.exitCode} | ${r.wallSeconds.toFixed(1)} | ${(r.maxRssKb / 1024).toFixed(0)} | ${summary} |`);
  }
} finally {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
}

/** Writes rows until the file holds `sizeBytes`; returns the row count. */
async function writeInput(path: string): Promise<number> {
  const out = createWriteStream(path);
  const filler = 'lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(rowBytes / 57)).slice(0, rowBytes);
  let written = 0;
  let rows = 0;
  while (written < sizeBytes) {
    rows++;
    const line = `${JSON.stringify({ id: `row-${rows}`, messages: [{ role: 'user', content: `${rows}: ${filler}` }], response_1: `answer one ${rows}`, response_2: `answer two ${rows}`, preferred: 1 })}\n`;
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

/** Runs the CLI under /usr/bin/time -v; its peak RSS from the report on stderr. */
async function timed(args: string[]): Promise<{ exitCode: number; wallSeconds: number; maxRssKb: number; stdout: string; stderr: string }> {
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-v', process.execPath, bin, ...args], { env: { ...process.env, GENRM_API_KEY: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return { exitCode: code ?? -1, wallSeconds: (performance.now() - started) / 1000, maxRssKb: rss ? Number(rss[1]) : NaN, stdout, stderr };
}
