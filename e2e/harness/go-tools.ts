/**
 * Builds the upstream Go programs named in versions.ts into the e2e cache, once per version: each
 * module's programs land in `<cache>/go-tools/<module>-<version>-<digest>/`, where the digest
 * covers the module's go.mod, go.sum and the stamps, so a changed pin builds beside the old one.
 * A build goes to a temporary folder renamed into place, so an interrupted build leaves nothing
 * that looks finished.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, digestOf, repoRoot } from './paths.ts';
import { GO_TOOLS, type GoTool } from './versions.ts';

/** The folder a module's programs are built into. */
export function toolDir(name: keyof typeof GO_TOOLS & string, env: NodeJS.ProcessEnv = process.env): string {
  const tool = GO_TOOLS[name];
  const files = ['go.mod', 'go.sum'].map((f) => join('e2e/tools', tool.module, f));
  return join(cacheRoot(env), 'go-tools', `${tool.module}-${tool.version}-${digestOf(files, tool.stamps)}`);
}

/** The path of one built program, by its name in versions.ts (e.g. `kube-apiserver`, `helm`). */
export function programPath(program: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const [name, tool] of Object.entries(GO_TOOLS)) {
    if (program in tool.programs) return join(toolDir(name, env), program);
  }
  throw new Error(`no e2e tool builds a program named ${program}`);
}

/** Why Go programs cannot be built here, or undefined when `go` runs. */
export async function goMissing(): Promise<string | undefined> {
  try {
    const { stdout } = await execa('go', ['env', 'GOVERSION'], { timeout: 30_000 });
    const match = /^go1\.(\d+)/.exec(stdout.trim());
    if (!match || Number(match[1]) < 26) return `Go 1.26 or later is needed to build Kubernetes, kwok, LeaderWorkerSet and Helm from their modules (found ${stdout.trim()})`;
    return undefined;
  } catch {
    return 'Go 1.26 or later is needed to build Kubernetes, kwok, LeaderWorkerSet and Helm from their modules, and `go` is not on PATH';
  }
}

/** Builds one module's programs unless the cache holds them. Returns the folder. */
export async function ensureGoTool(name: string, log: (line: string) => void): Promise<string> {
  const tool: GoTool = GO_TOOLS[name];
  const dir = toolDir(name);
  if (Object.keys(tool.programs).every((program) => existsSync(join(dir, program)))) return dir;
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const started = Date.now();
  log(`e2e: building ${Object.keys(tool.programs).join(', ')} (${name} ${tool.version}) from the Go module proxy; the first build takes minutes`);
  const ldflags = ['-s', '-w', ...tool.stamps.map((stamp) => `-X ${stamp}`)].join(' ');
  try {
    for (const [program, pkg] of Object.entries(tool.programs)) {
      await execa('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', join(building, program), pkg], {
        cwd: join(repoRoot, 'e2e/tools', tool.module),
        // -mod=readonly: the build uses exactly go.sum's modules; CGO off: static programs, as
        // upstream release builds are (kubernetes hack/lib/golang.sh sets CGO_ENABLED=0).
        env: { GOFLAGS: '-mod=readonly', CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(building, dir);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
  log(`e2e: built ${name} in ${Math.round((Date.now() - started) / 1000)} s`);
  return dir;
}
