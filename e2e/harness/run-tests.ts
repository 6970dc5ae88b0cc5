/**
 * `npm run test:e2e`, after the prepare step: runs the two projects of vitest.e2e.config.ts side by
 * side, one vitest process each, because vitest runs projects one after another. The cluster tests
 * mostly wait on the control plane (a load average near 1 on 2 cores) while vLLM's CPU engine
 * wants a core: together they take about as long as the vLLM tests alone.
 *
 * Arguments after `--` go to both vitest processes; `--outputFile.json=FILE` is given to each as a
 * file of its own and the two JSON reports are merged into FILE, so that a caller (`.ci/run`) reads
 * one report. Each line of output is prefixed with its project. Exit status: the first non-zero one.
 * A file filter (`e2e/tests/vllm-gate`) runs only the project whose files it names.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.ts';

const PROJECTS = ['cluster', 'vllm'] as const;
type Project = (typeof PROJECTS)[number];

/** The project a file filter belongs to, by the test files' prefixes (see vitest.e2e.config.ts). */
export function projectOf(filter: string): Project | undefined {
  const name = filter.split('/').pop() ?? '';
  if (name.startsWith('vllm-')) return 'vllm';
  if (name.startsWith('cluster-') || name.startsWith('helm-')) return 'cluster';
  return undefined;
}

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
  numPassedTestSuites: number;
  numFailedTestSuites: number;
  numPendingTestSuites: number;
  numTotalTestSuites: number;
  success: boolean;
  startTime: number;
  testResults: unknown[];
  [key: string]: unknown;
}

/** Two vitest JSON reports as one: counts summed, results concatenated. */
export function mergeReports(reports: Report[]): Report {
  const sum = (k: keyof Report) => reports.reduce((n, r) => n + Number(r[k] ?? 0), 0);
  return {
    ...reports[0],
    numPassedTests: sum('numPassedTests'),
    numFailedTests: sum('numFailedTests'),
    numPendingTests: sum('numPendingTests'),
    numTodoTests: sum('numTodoTests'),
    numTotalTests: sum('numTotalTests'),
    numPassedTestSuites: sum('numPassedTestSuites'),
    numFailedTestSuites: sum('numFailedTestSuites'),
    numPendingTestSuites: sum('numPendingTestSuites'),
    numTotalTestSuites: sum('numTotalTestSuites'),
    success: reports.every((r) => r.success),
    startTime: Math.min(...reports.map((r) => r.startTime)),
    testResults: reports.flatMap((r) => r.testResults),
  };
}

function run(project: Project, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '-c', 'vitest.e2e.config.ts', '--project', project, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WritableStream) =>
    createInterface({ input: stream }).on('line', (line) => out.write(`[${project}] ${line}\n`));
  prefix(child.stdout!, process.stdout);
  prefix(child.stderr!, process.stderr);
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function main(argv: string[]): Promise<number> {
  const jsonFlag = argv.find((a) => a.startsWith('--outputFile.json='));
  const json = jsonFlag?.slice('--outputFile.json='.length);
  const rest = argv.filter((a) => a !== jsonFlag);
  const filters = rest.filter((a) => !a.startsWith('-'));
  const wanted = filters.length === 0 ? [...PROJECTS] : PROJECTS.filter((p) => filters.some((f) => projectOf(f) === p || projectOf(f) === undefined));
  const codes = await Promise.all(
    wanted.map((p) => {
      const own = filters.length === 0 ? rest : rest.filter((a) => a.startsWith('-') || projectOf(a) === p || projectOf(a) === undefined);
      return run(p, json ? [...own, `--outputFile.json=${json}.${p}`] : own);
    }),
  );
  if (json) {
    const reports: Report[] = [];
    for (const p of wanted) {
      try {
        reports.push(JSON.parse(readFileSync(`${json}.${p}`, 'utf8')) as Report);
      } catch {
        // that vitest wrote no report (it failed before running): its exit status says so
      }
      rmSync(`${json}.${p}`, { force: true });
    }
    if (reports.length > 0) writeFileSync(json, JSON.stringify(mergeReports(reports)));
  }
  return codes.find((c) => c !== 0) ?? 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
