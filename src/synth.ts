/**
 * Synthesis: from a validated config to Kubernetes objects and to `dist/*.k8s.yaml`, each file
 * replaced atomically, and nothing but genrm's own manifests touched.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import { GenrmChart } from '../charts/genrm-chart.ts';
import { UserError } from './cli/errors.ts';
import type { Config } from './config/schema.ts';
import { prepareOutDir, writeFileAtomically } from './out-dir.ts';
import { planFromConfig } from './plan/compute.ts';

/** A synthesized Kubernetes object, as plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The chart id: the output file is `<CHART_ID>.k8s.yaml`. */
export const CHART_ID = 'genrm';

/**
 * Refuses a config whose capacity plan does not fit its GPUs (exit 2), with the plan's numbers:
 * better now than after a 30-minute load.
 */
export function assertFits(config: Config): void {
  const plan = planFromConfig(config);
  if (!plan.fits) {
    throw new UserError(`the config does not fit on ${plan.gpu.productName} GPUs (see \`genrm plan\`)`, plan.reasons);
  }
}

/** Builds the cdk8s app for a config (refused when it cannot fit). `outdir` is where `app.synth()` writes. */
export function buildApp(config: Config, outdir?: string): App {
  assertFits(config);
  const app = new App({ outdir, outputFileExtension: '.k8s.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  new GenrmChart(app, CHART_ID, { config });
  return app;
}

/** Every synthesized object, in apply order (the Namespace first). */
export async function synthesizeObjects(config: Config): Promise<KubeObject[]> {
  const app = buildApp(config);
  const objects = app.charts.flatMap((chart) => chart.toJson()) as KubeObject[];
  return [...objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
}

/** Synthesizes `config` into the (empty) directory `dir`; returns the manifest file names. */
async function synthInto(config: Config, dir: string): Promise<string[]> {
  buildApp(config, dir).synth();
  return (await readdir(dir)).filter((f) => f.endsWith('.k8s.yaml')).sort();
}

/** The manifest files of a config, by file name, as `app.synth()` writes them. */
export async function synthToText(config: Config): Promise<Record<string, string>> {
  const tmp = await mkdtemp(join(tmpdir(), 'genrm-synth-'));
  try {
    const files = await synthInto(config, tmp);
    return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(tmp, f), 'utf8')] as const)));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Synthesizes `config` into `outDir` (created when missing). Synthesis happens first, elsewhere,
 * so a failure writes nothing; then each manifest (`genrm.k8s.yaml`) replaces its previous
 * version atomically. Only genrm's own manifests are written, and no file is ever deleted: other
 * tools' manifests in the same folder stay. Returns the paths written.
 */
export async function synthToDir(config: Config, outDir: string): Promise<string[]> {
  const manifests = await synthToText(config);
  const target = await prepareOutDir('synth', outDir);
  const written: string[] = [];
  for (const [name, text] of Object.entries(manifests)) {
    await writeFileAtomically('synth', join(target, name), text);
    written.push(join(target, name));
  }
  return written;
}
