/** Runs the `genrm` CLI as a real process, the way users and CI run it. */
import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const GENRM_BIN = fileURLToPath(new URL('../../bin/genrm.mjs', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runGenrm(args: string[], options: Options = {}): Promise<CliResult> {
  const r = await execa('node', [GENRM_BIN, ...args], { reject: false, cwd: REPO_ROOT, timeout: 60_000, ...options });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}
