/**
 * bin/genrm.mjs in a clone: the compiled lib/ while it was built from the sources as they are now
 * (the stamp `npm run build` writes), the TypeScript sources through tsx as soon as one changes,
 * appears or disappears. Run in a scratch copy of the layout whose two entry points say which ran.
 */
import { execa } from 'execa';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libIsFresh, sourceStamp, STAMP_FILE } from '../scripts/source-stamp.mjs';
import { REPO_ROOT } from './helpers/cli.ts';

let dir: string;
const said = (which: string) => `export async function main() { process.stdout.write('${which}'); return 0; }\n`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'genrm-bin-'));
  cpSync(join(REPO_ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'scripts'));
  cpSync(join(REPO_ROOT, 'scripts/source-stamp.mjs'), join(dir, 'scripts/source-stamp.mjs'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  mkdirSync(join(dir, 'src/cli'), { recursive: true });
  writeFileSync(join(dir, 'src/cli/main.ts'), said('sources'));
  mkdirSync(join(dir, 'charts'));
  writeFileSync(join(dir, 'charts/chart.ts'), 'export {};\n');
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) writeFileSync(join(dir, f), '{}\n');
  writeFileSync(join(dir, 'scripts/build.ts'), '\n');
  mkdirSync(join(dir, 'lib/cli'), { recursive: true });
  writeFileSync(join(dir, 'lib/cli/genrm.js'), said('lib'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stamp = () => writeFileSync(join(dir, STAMP_FILE), `${sourceStamp(dir)}\n`);
const run = async () => (await execa('node', [join(dir, 'bin/genrm.mjs')], { cwd: dir })).stdout;

describe('bin/genrm.mjs in a clone', () => {
  it('runs the sources through tsx without a stamp (never built, or an older build)', async () => {
    rmSync(join(dir, STAMP_FILE), { force: true });
    expect(await run()).toBe('sources');
  });

  it('runs the compiled lib/ while the stamp matches the sources', async () => {
    stamp();
    expect(await run()).toBe('lib');
  });

  it('runs the sources once one is edited, touched, added or deleted', async () => {
    const main = join(dir, 'src/cli/main.ts');
    const later = new Date(Date.now() + 5000);
    for (const change of [
      () => utimesSync(main, later, later),
      () => writeFileSync(join(dir, 'charts/chart.ts'), 'export {}; \n'),
      () => writeFileSync(join(dir, 'src/cli/new.ts'), 'export {};\n'),
      () => rmSync(join(dir, 'src/cli/new.ts')),
      () => writeFileSync(join(dir, 'tsconfig.build.json'), '{ }\n'),
    ]) {
      stamp();
      expect(libIsFresh(dir)).toBe(true);
      change();
      expect(libIsFresh(dir)).toBe(false);
    }
    // What bin/genrm.mjs does with it (after the last change).
    expect(await run()).toBe('sources');
  }, 30_000);

  it('is written by the build: the repository\'s lib/ carries the stamp of its sources', () => {
    // `npm ci` runs the build (prepare); a stale lib/ here would mean the tests run old code.
    expect(readFileSync(join(REPO_ROOT, STAMP_FILE), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  });
});
