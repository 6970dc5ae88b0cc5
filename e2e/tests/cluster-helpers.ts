/**
 * What the cluster tests share: the real `genrm` CLI and the built kubectl run against the
 * cluster of the global setup; configs written into a temporary folder; namespaces that a file
 * deletes when it ends.
 */
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../harness/paths.ts';

export const GENRM_BIN = join(repoRoot, 'bin/genrm.mjs');

export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function clusterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { env } = inject('cluster');
  // NO_COLOR and no CI: plain output; CI=1 makes --wait print one line per change.
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs `genrm <args>` as a user would, against the test cluster. */
export async function genrm(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<Run> {
  const r = await execa('node', [GENRM_BIN, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: clusterEnv(options.env),
    extendEnv: false,
    reject: false,
    input: options.input,
    timeout: options.timeoutMs ?? 240_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs the built kubectl against the test cluster; throws on failure unless `reject: false`. */
export async function kubectl(args: string[], options: { input?: string; reject?: boolean; timeoutMs?: number } = {}): Promise<Run> {
  const r = await execa('kubectl', args, {
    env: clusterEnv(),
    extendEnv: false,
    reject: options.reject ?? true,
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs the built helm against the test cluster. */
export async function helm(args: string[], options: { reject?: boolean; cwd?: string } = {}): Promise<Run> {
  const r = await execa('helm', args, { env: clusterEnv(), extendEnv: false, reject: options.reject ?? true, cwd: options.cwd, timeout: 240_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** `kubectl get -o json` of one object or a list, parsed. */
export async function getJson<T = any>(args: string[]): Promise<T> {
  return JSON.parse((await kubectl(['get', ...args, '-o', 'json'])).stdout) as T;
}

/** Writes a config document into a new temporary folder and returns its path. */
export function writeConfig(config: Record<string, unknown>, name = 'genrm.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-e2e-config-'));
  const file = join(dir, name);
  writeFileSync(file, stringify(config));
  return file;
}

/** The objects `genrm synth` writes for a config (raw format). */
export async function synth(configFile: string | undefined): Promise<Record<string, any>[]> {
  const out = mkdtempSync(join(tmpdir(), 'genrm-e2e-synth-'));
  const r = await genrm(['synth', ...(configFile ? ['--config', configFile] : []), '--out', out]);
  if (r.exitCode !== 0) throw new Error(`genrm synth failed (${r.exitCode}): ${r.stderr}`);
  const { readFileSync, readdirSync } = await import('node:fs');
  const docs: Record<string, any>[] = [];
  for (const f of readdirSync(out).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(out, f), 'utf8'))) {
      const v = d.toJS();
      if (v) docs.push(v);
    }
  }
  return docs;
}

/** Deletes namespaces and waits until they are gone (their pods free the GPUs). */
export async function deleteNamespaces(...names: string[]): Promise<void> {
  if (names.length === 0) return;
  await kubectl(['delete', 'namespace', ...names, '--ignore-not-found', '--wait=true', '--timeout=180s'], { reject: false });
}

/** Polls until `check` returns a value other than undefined. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(500);
  }
}
