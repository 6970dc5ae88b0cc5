/**
 * Where the end-to-end tier keeps what it builds and what it runs.
 *
 * - The cache (`GENRM_E2E_CACHE`, default `$XDG_CACHE_HOME/genrm-deploy/e2e` or
 *   `~/.cache/genrm-deploy/e2e`) holds built upstream binaries, the vLLM venv and generated model
 *   files, each in a folder named for what it holds and keyed by the versions and a digest of the
 *   files that produce it, so a second run reuses it and a changed pin builds anew beside it.
 *   It lives outside the clone so that every clone on a machine shares one build.
 * - The state folder (`.e2e/` in the repository, git-ignored) holds what a running harness
 *   writes for its users: `kubeconfig`, `vllm-url`, the PIDs and logs of the servers it started.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The root of the e2e build cache. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GENRM_E2E_CACHE) return resolve(env.GENRM_E2E_CACHE);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'genrm-deploy', 'e2e');
}

/** The state folder of running harnesses (`.e2e/` unless `GENRM_E2E_STATE` names another). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GENRM_E2E_STATE ? resolve(env.GENRM_E2E_STATE) : join(repoRoot, '.e2e');
}

/** A short digest of files (paths relative to the repository) and extra strings, for cache keys. */
export function digestOf(files: readonly string[], extra: readonly string[] = []): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file).update('\0').update(readFileSync(join(repoRoot, file))).update('\0');
  }
  for (const item of extra) hash.update(item).update('\0');
  return hash.digest('hex').slice(0, 12);
}
