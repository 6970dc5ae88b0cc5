/**
 * `npm run test:e2e` on a machine without Go or Python says what is missing in one sentence and
 * exits 2, before building anything.
 */
import { execa } from 'execa';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.ts';

describe('the e2e tier on a machine without its prerequisites', () => {
  it('names both missing tools in one sentence and exits 2', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'genrm-nogo-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const cache = mkdtempSync(join(tmpdir(), 'genrm-nogo-cache-'));
    const r = await execa(process.execPath, ['--import', 'tsx', 'e2e/harness/prepare.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: bin, HOME: cache, GENRM_E2E_CACHE: cache },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^test:e2e cannot run on this machine: .*Go 1\.26 or later.*; .*(Python 3\.11|Linux on x86_64).*\.$/);
    expect(r.stdout).toBe('');
  });
});
