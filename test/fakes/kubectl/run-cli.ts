/** Runs the real `genrm` CLI as a process (node bin/genrm.mjs), as a user would. */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function runCli(args: string[], env: Record<string, string | undefined>, { timeoutMs = 45_000, input }: { timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  const start = Date.now();
  const r = await execa(process.execPath, ['bin/genrm.mjs', ...args], {
    cwd: REPO,
    env: { NO_COLOR: '1', ...env },
    reject: false,
    timeout: timeoutMs,
    input: input ?? '',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), ms: Date.now() - start };
}
