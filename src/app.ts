/**
 * The cdk8s app entry (`cdk8s synth`, through cdk8s.yaml): synthesizes the config named by
 * GENRM_CONFIG (default: the model card's defaults) into cdk8s's output directory.
 */
import { reportError } from './cli/errors.ts';
import { loadConfig } from './config/load.ts';
import { buildApp } from './synth.ts';

try {
  const config = await loadConfig(process.env.GENRM_CONFIG || undefined);
  buildApp(config).synth();
} catch (err) {
  process.exitCode = reportError(err);
}
