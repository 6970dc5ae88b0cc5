/**
 * The one atomic file write that serves `genrm synth` (manifests, chart files) and `genrm smoke
 * --junit` (the report): folders made as needed, a path that cannot be written refused with the
 * reason (never a hang), and no temporary file left behind.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWriteError, replaceFile } from '../src/write-file.ts';
import { runGenrm } from './helpers/cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genrm-write-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The reason `replaceFile(file)` gives up, in words (fails the test when it writes). */
async function refusal(file: string): Promise<string> {
  try {
    await replaceFile(file, 'x');
  } catch (err) {
    return describeWriteError(err);
  }
  throw new Error(`wrote ${file}`);
}

describe('replaceFile', () => {
  it('creates the folders, replaces the file, and leaves nothing else beside it', async () => {
    const file = join(dir, 'a', 'b', 'report.xml');
    await replaceFile(file, 'one');
    await replaceFile(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['report.xml']);
  });

  it('refuses, with the reason, a folder in the way, a file as a folder, and /proc (where Node 20\'s recursive mkdir never returns)', async () => {
    const sub = await mkdtemp(join(dir, 'refuse-'));
    await mkdir(join(sub, 'folder'));
    await writeFile(join(sub, 'file'), 'keep');
    expect(await refusal(join(sub, 'folder'))).toBe('a folder of that name is in the way');
    expect(await refusal(join(sub, 'file', 'report.xml'))).toBe('a part of the path is a file, not a folder');
    expect(await refusal('/proc/genrm-no-such-dir/report.xml')).toBe('the folder cannot be created there');
    await symlink('loop-b', join(sub, 'loop-a'));
    await symlink('loop-a', join(sub, 'loop-b'));
    expect(await refusal(join(sub, 'loop-a', 'report.xml'))).toBe('the path is a loop of symbolic links');
    await rm(join(sub, 'loop-a'));
    await rm(join(sub, 'loop-b'));
    expect((await readdir(sub)).sort()).toEqual(['file', 'folder']);
    expect(await readFile(join(sub, 'file'), 'utf8')).toBe('keep');
  });
});

describe('genrm smoke --junit at a path that cannot be written', () => {
  it.each([
    ['/proc/genrm-no-such-dir/report.xml', 'the folder cannot be created there'],
    ['{dir}', 'a folder of that name is in the way'],
  ])('%s: one line with the reason, in seconds, not a hang', async (path, reason) => {
    const junit = path.replace('{dir}', dir);
    const started = Date.now();
    // Nothing listens on port 1: the check fails at once, then the report is written.
    const r = await runGenrm(['smoke', '--base-url', 'http://127.0.0.1:1/v1', '--timeout', '10', '--junit', junit], { timeout: 30_000 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr.split('\n')).toContain(`genrm: smoke: cannot write the JUnit report to ${junit}: ${reason}`);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  }, 40_000);
});
