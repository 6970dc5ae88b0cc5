/**
 * Tests that need an outside tool skip without it, saying why, but only outside CI: in CI
 * (`CI=true`) a missing tool is a failure, so the suite never passes by skipping.
 */
import { delimiter } from 'node:path';

/** The reason to skip when `available` is false outside CI; false (run, and fail) otherwise. */
export function skipUnless(available: boolean, reason: string): string | false {
  if (available || process.env.CI === 'true' || process.env.CI === '1') return false;
  return reason;
}

/** A describe/it title that names the skip reason, so the skipped test says why. */
export function titled(title: string, skip: string | false): string {
  return skip ? `${title} (skipped: ${skip})` : title;
}

/**
 * Puts the kubectl that test/setup/tools.ts found first on this worker's PATH; returns the skip
 * reason when there is none (outside CI).
 */
export function useKubectl(kubectl: { dir: string } | { missing: string }): string | false {
  if ('dir' in kubectl) {
    if (kubectl.dir) process.env.PATH = `${kubectl.dir}${delimiter}${process.env.PATH ?? ''}`;
    return false;
  }
  return skipUnless(false, kubectl.missing);
}
