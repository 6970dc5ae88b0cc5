/**
 * Configs a user (or an attacker) can hand to `genrm synth` and `genrm plan`: each is a config
 * error (exit 2) with a line or a key path, no stack trace, nothing written; or refused before
 * it is read (devices, pipes, huge files).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/cli/errors.ts';
import { CONFIG_LIMITS, loadConfig, parseYaml, readConfigFile, validateConfig } from '../src/config/load.ts';
import { terminalSafe } from '../src/cli/terminal.ts';
import { runGenrm } from './helpers/cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genrm-hostile-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const STACK = /\n\s+at .+:\d+:\d+|internal error/;

/** The `UserError` that loading `text` throws (fails the test if it loads or throws anything else). */
function loadError(text: string): UserError {
  try {
    validateConfig(parseYaml(text, 'c.yaml'), 'config file c.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error(`loaded: ${text}`);
}

/** Runs a command on a config text; returns the result and whether the output folder exists. */
async function cli(command: 'synth' | 'plan', text: string, extra: string[] = []) {
  const sub = await mkdtemp(join(dir, 'case-'));
  const cfg = join(sub, 'c.yaml');
  await writeFile(cfg, text);
  const out = join(sub, 'out');
  const r = await runGenrm(command === 'synth' ? ['synth', '--config', cfg, '--out', out, ...extra] : ['plan', '-c', cfg, ...extra]);
  const written = await readdir(out).catch(() => undefined);
  return { ...r, written };
}

const BILLION_LAUGHS = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)].join('\n');

describe('YAML errors of every kind are config errors with a line', () => {
  it.each([
    ['an alias without an anchor', 'replicas: *undefined\n', /line 1, column 11: the alias \*undefined has no anchor/],
    ['a billion laughs', `${BILLION_LAUGHS}\n`, /line \d+, column \d+: more than 100 aliases/],
    ['an alias inside its own anchor', 'vllm: &a\n  extraArgs: *a\n', /line 2, column 14: the alias \*a refers to a mapping or list that contains it/],
    ['a tag outside the core schema', 'replicas: !!binary aGVsbG8=\n', /line 1, column 11: Unresolved tag/],
    ['a list as a key', '? [a, b]\n: 1\n', /line 1, column 3: a key of the top level is a list or mapping/],
    ['a mapping as a key', 'vllm:\n  {port: 1}: 2\n', /line 2, column 3: a key of vllm is a list or mapping/],
    ['nesting beyond the limit', `a: ${'['.repeat(40)}${']'.repeat(40)}\n`, /nested deeper than 32 levels/],
    ['two documents', 'replicas: 1\n---\nreplicas: 2\n', /^line 2, column 1: a second YAML document starts here \(after a '---' line\); a config is one document/],
    ['flow nesting past the parser\'s stack', `a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, /^line 1, column \d+: nested too deeply to read \(a config nests at most 32 levels\)$/],
    ['block nesting past the parser\'s stack', `a:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}x\n`, /^line \d+, column \d+: nested too deeply to read \(a config nests at most 32 levels\)$/],
  ])('%s', async (_name, text, expected) => {
    const err = loadError(text);
    expect(err.message).toMatch(/is not valid YAML/);
    expect(err.problems.join('\n')).toMatch(expected);
    expect(err.problems.join('\n')).not.toMatch(/parseAllDocuments|call stack/);
  });

  it('synth and plan report an alias error with its line, exit 2, no stack; plan --json prints JSON', async () => {
    const synth = await cli('synth', 'a: *undefined\n');
    expect(synth.exitCode).toBe(2);
    expect(synth.stderr).toMatch(/line 1, column 4: the alias \*undefined has no anchor/);
    expect(synth.stderr).not.toMatch(STACK);
    expect(synth.written).toBeUndefined();

    const plan = await cli('plan', `${BILLION_LAUGHS}\n`, ['--json']);
    expect(plan.exitCode).toBe(2);
    expect(plan.stderr).not.toMatch(STACK);
    const json = JSON.parse(plan.stdout);
    expect(json.error).toMatch(/not valid YAML/);
    expect(json.problems[0]).toMatch(/more than 100 aliases/);
  });
});

describe('a config of ten thousand unknown keys', () => {
  it('synth prints the first 20 problems and how many more, not ten thousand lines; exit 2, nothing written', async () => {
    const r = await cli('synth', Array.from({ length: 10_000 }, (_, i) => `k${i}: ${i}`).join('\n'));
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^genrm: config file .* is not valid$/);
    expect(lines.slice(1, 21).every((l, i) => l.startsWith(`  - k${i}: unknown key`))).toBe(true);
    expect(lines.slice(21)).toEqual(['  ... and 9980 more problems (fix the ones above first)']);
    expect(r.written).toBeUndefined();
  });
});

describe('a 200 KB value in a config', () => {
  it('is elided in its middle where a message quotes it; the fix stays readable', async () => {
    const r = await cli('synth', `vllm:\n  image: "${'a'.repeat(200_000)}:latest"\n`);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.length).toBeLessThan(1000);
    expect(r.stderr).toMatch(/^ {2}- vllm\.image: 'a{199}…\(199709 more characters\)…a{92}:latest' is not pinned \(replace :latest with a version tag/m);
    expect(r.written).toBeUndefined();
  });
});

describe('keys that reach JavaScript machinery are unknown keys at any depth', () => {
  it.each([
    ['__proto__: {namespace: sneaky}\n', '__proto__'],
    ['constructor: {namespace: sneaky}\n', 'constructor'],
    ['vllm:\n  __proto__: {port: 1}\n', 'vllm.__proto__'],
    ['scheduling:\n  nodeSelector:\n    prototype: x\n', 'scheduling.nodeSelector.prototype'],
  ])('%j', (text, path) => {
    const err = loadError(text);
    expect(err.problems.some((p) => p.startsWith(`${path}: unknown key`))).toBe(true);
  });

  it('a top-level __proto__ does not move the objects to another namespace (synth exits 2)', async () => {
    const r = await cli('synth', '__proto__: {namespace: sneaky}\n');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/__proto__: unknown key/);
    expect(r.written).toBeUndefined();
  });

  it('`profile: constructor` is an unknown profile, not a crash', () => {
    expect(loadError('profile: constructor\n').problems.join('\n')).toMatch(/profile: must be one of/);
  });
});

describe('values and keys that print badly', () => {
  it('`replicas: .inf` and `.nan` name a finite number', () => {
    expect(loadError('replicas: .inf\n').problems).toEqual(['replicas: must be a finite number, got Infinity (write a number such as 1)']);
    expect(loadError('vllm:\n  gpuMemoryUtilization: .nan\n').problems[0]).toMatch(/^vllm\.gpuMemoryUtilization: must be a finite number, got NaN/);
  });

  it('a key with control characters is shown escaped, and nothing raw reaches the terminal', async () => {
    const r = await cli('synth', '"\\e[2J\\e]0;pwned\\a\\u202eevil": 1\n');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('"\\u001b[2J\\u001b]0;pwned\\u0007evil": unknown key');
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('collection keys make no Node warning', async () => {
    const r = await cli('synth', '? [a]\n: 1\n');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(/Warning|stringified/);
    expect(r.stderr).toMatch(/line 1, column 3/);
  });
});

describe('files that are not configs are refused before they are read', () => {
  it('a device (/dev/urandom) is refused at once', async () => {
    const started = performance.now();
    await expect(readConfigFile('/dev/urandom')).rejects.toThrow(/is not a regular file/);
    expect(performance.now() - started).toBeLessThan(1000);
    const r = await runGenrm(['plan', '--config', '/dev/urandom']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not a regular file/);
  });

  it('a named pipe is refused without waiting for a writer', async () => {
    const fifo = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    await expect(readConfigFile(fifo)).rejects.toThrow(/is not a regular file/);
  });

  it('a file over the size limit is refused', async () => {
    const big = join(dir, 'big.yaml');
    await writeFile(big, `# ${'x'.repeat(CONFIG_LIMITS.maxBytes)}\n`);
    await expect(loadConfig(big)).rejects.toThrow(/larger than 1024 KiB/);
  });

  it('a file that is not UTF-8 is refused', async () => {
    const bin = join(dir, 'bin.yaml');
    await writeFile(bin, Buffer.from([0x72, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    await expect(loadConfig(bin)).rejects.toThrow(/not UTF-8 text/);
  });
});

describe('terminalSafe', () => {
  it('strips CSI, OSC and 8-bit escapes, control characters and bidi overrides; keeps text, tabs and newlines', () => {
    expect(terminalSafe('a\u001b[2Jb\u001b]0;title\u0007c\u001b]8;;http://x\u001b\\d\u009b31me\u0000f\rg\u202eh\ti\nj')).toBe('abcdefgh\ti\nj');
    expect(terminalSafe('plain text: ünïcode ✓')).toBe('plain text: ünïcode ✓');
  });
});

describe('the CLI', () => {
  it('`genrm help synth` prints the help of synth', async () => {
    const r = await runGenrm(['help', 'synth']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: genrm synth/);
  });

  it('`genrm help nope` is a usage error', async () => {
    const r = await runGenrm(['help', 'nope']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'nope'/);
  });

  it('`plan -c FILE` reads the config', async () => {
    const r = await cli('plan', 'gpu: h200\n', ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(r.stdout))).toMatch(/H200/);
  });
});
