/**
 * The CustomResourceDefinitions the cluster serves (LeaderWorkerSet, KEDA ScaledObject,
 * prometheus-operator ServiceMonitor and PodMonitor), read from their Go modules in the module
 * cache: `go mod download -json` fetches a module from the Go module proxy (checked against the
 * checksum database) and names its folder.
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRD_SOURCES } from './versions.ts';

/** The folder of a module at a version, downloading it into the module cache when needed. */
export async function moduleDir(module: string, version: string): Promise<string> {
  // Outside any module, so that the project's own go.mod files play no part.
  const scratch = mkdtempSync(join(tmpdir(), 'genrm-e2e-mod-'));
  try {
    const { stdout } = await execa('go', ['mod', 'download', '-json', `${module}@${version}`], {
      cwd: scratch,
      env: { GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
      timeout: 600_000,
    });
    const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no folder'}`);
    return info.Dir;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Absolute paths of every CRD file, downloading the modules that hold them when needed. */
export async function crdFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const source of CRD_SOURCES) {
    const dir = await moduleDir(source.module, source.version);
    for (const file of source.files) files.push(join(dir, file));
  }
  return files;
}
