/**
 * Regenerates what the docs derive from the code, so that it cannot drift: `genrm.schema.json`,
 * and the generated regions of docs/ (the config reference and the examples in
 * configuration.md, every diagnosis in troubleshooting.md, the library's API in library.md).
 * `npm run docs`; a test fails when a committed file differs from what this renders.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema, configReferenceMarkdown } from '../src/config/reference.ts';
import { DIAGNOSES } from '../src/status/diagnoses/catalog.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

const begin = (name: string) => `<!-- generated:${name} (npm run docs; edit the source, not this) -->`;
const end = (name: string) => `<!-- generated:${name} end -->`;

/** `text` with the region `name` (between its markers) replaced by `body`. */
export function replaceRegion(text: string, name: string, body: string): string {
  const start = text.indexOf(begin(name));
  const stop = text.indexOf(end(name));
  if (start < 0 || stop < start) throw new Error(`the page lacks the markers ${begin(name)} ... ${end(name)}`);
  return `${text.slice(0, start + begin(name).length)}\n${body.trim()}\n${text.slice(stop)}`;
}

export function renderSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The examples table: each file of examples/ with its leading comment (what it is for). */
export async function examplesMarkdown(): Promise<string> {
  const files = (await readdir(join(ROOT, 'examples'))).filter((f) => f.endsWith('.yaml')).sort();
  const rows = await Promise.all(
    files.map(async (f) => {
      const lines = (await readFile(join(ROOT, 'examples', f), 'utf8')).split('\n');
      const comment = lines
        .filter((l, i) => l.startsWith('#') && lines.slice(0, i).every((p) => p.startsWith('#')))
        .filter((l) => !l.includes('yaml-language-server'))
        .map((l) => l.replace(/^#\s?/, ''))
        .join(' ');
      if (!comment) throw new Error(`examples/${f} has no leading comment saying what it is for`);
      return `| [\`examples/${f}\`](../examples/${f}) | ${cell(comment)} |`;
    }),
  );
  return ['| example | what it is for |', '|---|---|', ...rows].join('\n');
}

/** Every diagnosis, from its entry in the catalog. */
export function diagnosesMarkdown(): string {
  return Object.entries(DIAGNOSES)
    .map(([id, d]) => [`### \`${id}\``, '', `- **Symptom**: ${d.symptom}.`, `- **Cause, as genrm recognises it**: ${d.recognisedFrom}.`, `- **Fix**: ${d.fix}.`].join('\n'))
    .join('\n\n');
}

/** The library's API, from the declarations and their doc comments (TypeDoc, markdown plugin). */
export async function libraryMarkdown(): Promise<string> {
  const { Application } = await import('typedoc');
  const out = await mkdtemp(join(tmpdir(), 'genrm-typedoc-'));
  try {
    const app = await Application.bootstrapWithPlugins({ options: join(ROOT, 'typedoc.json'), out });
    const project = await app.convert();
    if (!project) throw new Error('TypeDoc could not convert src/index.ts');
    await app.generateOutputs(project);
    const files = await readdir(out);
    if (files.length !== 1) throw new Error(`TypeDoc wrote ${files.join(', ')}, expected one page`);
    // One level down: the page's own title is the only level-1 heading.
    return (await readFile(join(out, files[0]), 'utf8')).replace(/^(#{1,5}) /gm, '#$1 ');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** Every generated file: path (from the repository root) -> its content, rendered from the current sources. */
export async function renderDocs(): Promise<Map<string, string>> {
  const page = (p: string) => readFile(join(ROOT, p), 'utf8');
  let configuration = await page('docs/configuration.md');
  configuration = replaceRegion(configuration, 'config-reference', configReferenceMarkdown());
  configuration = replaceRegion(configuration, 'examples', await examplesMarkdown());
  return new Map([
    ['genrm.schema.json', renderSchema()],
    ['docs/configuration.md', configuration],
    ['docs/troubleshooting.md', replaceRegion(await page('docs/troubleshooting.md'), 'diagnoses', diagnosesMarkdown())],
    ['docs/library.md', replaceRegion(await page('docs/library.md'), 'api', await libraryMarkdown())],
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, content] of await renderDocs()) await writeFile(join(ROOT, path), content);
  process.stdout.write('wrote genrm.schema.json and the generated parts of docs/\n');
}
