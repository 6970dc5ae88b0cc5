/**
 * Puts the stand-in kubectl first on PATH for a test: a temp dir holding a `kubectl` shim that
 * runs ./kubectl.mjs, and a log file of every call it receives.
 */
import { mkdtempSync, readFileSync, existsSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KubectlCall {
  argv: string[];
  stdin: string;
}

export interface FakeKubectl {
  dir: string;
  /** Environment for a child process: PATH with the fake first, the scenario and the log. */
  env(scenario: string, extra?: Record<string, string>): Record<string, string>;
  /** Every call recorded so far. */
  calls(): KubectlCall[];
  cleanup(): void;
}

const SCRIPT = fileURLToPath(new URL('./kubectl.mjs', import.meta.url));

export function installFakeKubectl(): FakeKubectl {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-fake-kubectl-'));
  const shim = join(dir, 'kubectl');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${SCRIPT}" "$@"\n`);
  chmodSync(shim, 0o755);
  const log = join(dir, 'calls.jsonl');
  return {
    dir,
    env: (scenario, extra = {}) => ({
      PATH: `${dir}${delimiter}${process.env.PATH ?? ''}`,
      FAKE_KUBECTL_SCENARIO: scenario,
      FAKE_KUBECTL_LOG: log,
      ...extra,
    }),
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as KubectlCall)
        : [],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
