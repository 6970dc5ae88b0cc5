/** `genrm synth [--config FILE] [--out DIR]`: validate the config and write the manifests. */
import { relative } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { synthToDir } from '../synth.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `Usage: genrm synth [--config FILE] [--out DIR]

Validates the config (defaults: the model card's) and writes the Kubernetes manifests.

Options:
  -c, --config FILE   YAML config file (see the config reference in the README)
  -o, --out DIR       output directory (default: dist)
  -h, --help          show this help

Nothing is written when the config is invalid (exit 2).
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('synth', argv, {
    config: { type: 'string', short: 'c' },
    out: { type: 'string', short: 'o' },
  });
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = await loadConfig(values.config as string | undefined);
  const files = await synthToDir(config, (values.out as string | undefined) ?? 'dist');
  for (const f of files) process.stdout.write(`wrote ${relative(process.cwd(), f) || f}\n`);
  if (!/^[0-9a-f]{40}$/.test(config.model.revision)) {
    process.stderr.write(
      `genrm: note: model.revision is '${config.model.revision}', not a 40-hex commit: pin one for reproducible rewards\n`,
    );
  }
  return 0;
}
