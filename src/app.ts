/**
 * The synth entry of `npm run synth` and of `cdk8s synth` (through cdk8s.yaml): synthesizes the
 * config named by GENRM_CONFIG (default: the model card's defaults) as `genrm synth` does, into
 * cdk8s's output directory when cdk8s runs it (CDK8S_OUTDIR), else into dist/. A bad config is
 * reported in the same lines as `genrm synth` (exit 2) and writes nothing; only genrm's own
 * manifests are replaced.
 */
import { relative, resolve } from 'node:path';
import { reportError } from './cli/errors.ts';
import { loadConfig } from './config/load.ts';
import { synthToDir } from './synth.ts';

try {
  // npm runs the script in the package's folder; a relative GENRM_CONFIG means the folder the
  // user ran `npm run synth` in (npm's INIT_CWD).
  const given = process.env.GENRM_CONFIG || undefined;
  const from = process.env.INIT_CWD || process.cwd();
  const file = given && from !== process.cwd() ? resolve(from, given) : given;
  const config = await loadConfig(file, { namedBy: 'GENRM_CONFIG' });
  const files = await synthToDir(config, process.env.CDK8S_OUTDIR || 'dist');
  for (const f of files) process.stdout.write(`wrote ${relative(process.cwd(), f)}\n`);
} catch (err) {
  const code = reportError(err);
  // Under `cdk8s synth`, a config error (exit 2) ends the app with 0 and no output folder: cdk8s
  // then fails with its one line ("app expected to create ...", exit 1) instead of a stack trace
  // of its own (cdk8s-cli 2.207, lib/util.js synthApp).
  process.exitCode = code === 2 && process.env.CDK8S_OUTDIR ? 0 : code;
}
