/** `genrm synth [--config FILE] [--out DIR]`: validate the config and write the manifests. */
import { relative } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { assertChartVersion, writeHelmChart } from '../helm.ts';
import { synthToDir, synthToText } from '../synth.ts';
import { UserError } from './errors.ts';
import { version } from './version.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `Usage: genrm synth [--config FILE] [--out DIR] [--format raw|helm] [--chart-version X]

Validates the config (defaults: the model card's) and writes the Kubernetes manifests.

Options:
  -c, --config FILE      YAML config file (keys: docs/configuration.md)
  -o, --out DIR          output directory (default: dist; dist-helm with --format helm)
  --format raw|helm      raw manifests (default), or a Helm chart of the same objects
  --chart-version X      the Helm chart's SemVer version (default: genrm-deploy's version)
  -h, --help             show this help

Nothing is written when the config is invalid (exit 2).
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('synth', argv, {
    config: { type: 'string', short: 'c' },
    out: { type: 'string', short: 'o' },
    format: { type: 'string' },
    'chart-version': { type: 'string' },
  });
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const format = (values.format as string | undefined) ?? 'raw';
  if (format !== 'raw' && format !== 'helm') throw new UserError(`synth: --format must be raw or helm, got '${format}'`);
  const chartVersion = values['chart-version'] as string | undefined;
  if (chartVersion !== undefined && format !== 'helm') throw new UserError('synth: --chart-version only applies to --format helm');
  if (chartVersion !== undefined) assertChartVersion(chartVersion);
  const config = await loadConfig(values.config as string | undefined);
  const out = values.out as string | undefined;
  const files =
    format === 'helm'
      ? await writeHelmChart(await synthToText(config), out ?? 'dist-helm', { chartVersion: chartVersion ?? version(), appVersion: version() })
      : await synthToDir(config, out ?? 'dist');
  for (const f of files) {
    const rel = relative(process.cwd(), f);
    process.stdout.write(`wrote ${rel.startsWith('..') ? f : rel}\n`);
  }
  if (!/^[0-9a-f]{40}$/.test(config.model.revision)) {
    process.stderr.write(
      `genrm: note: model.revision is '${config.model.revision}', not a 40-hex commit: pin one for reproducible rewards\n`,
    );
  }
  return 0;
}
