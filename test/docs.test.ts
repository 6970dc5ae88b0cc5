/**
 * The docs a user reads (README.md and docs/) against the code: every relative link and anchor
 * resolves, every `genrm` command line shown uses only flags that command's `--help` lists, and
 * every config key named exists in the schema. (That the generated pages are fresh is checked
 * in generated-files.test.ts.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/reference.ts';
import { REPO_ROOT, runGenrm } from './helpers/cli.ts';
import { genrmCommandLines, readMarkdown } from './helpers/markdown.ts';

const PAGES = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const facts = new Map(PAGES.map((p) => [p, readMarkdown(readFileSync(join(REPO_ROOT, p), 'utf8'))]));

describe('the docs pages', () => {
  it('are the README and the pages it indexes', () => {
    for (const page of ['configuration', 'gate', 'operations', 'evaluation', 'capacity', 'troubleshooting', 'library', 'benchmarks', 'development']) {
      expect(PAGES).toContain(`docs/${page}.md`);
      expect(facts.get('README.md')!.links).toContain(`docs/${page}.md`);
    }
  });

  it('the README stays short', () => {
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(250);
  });

  it('every relative link names a file that exists, and every anchor a heading of that page', () => {
    const broken: string[] = [];
    for (const [page, f] of facts) {
      for (const href of f.links) {
        if (/^[a-z]+:/i.test(href)) continue; // https:, mailto: (not fetched: the tests are offline)
        const [path, anchor] = href.split('#');
        const target = path === '' ? page : relative(REPO_ROOT, resolve(dirname(join(REPO_ROOT, page)), decodeURIComponent(path)));
        if (!existsSync(join(REPO_ROOT, target))) broken.push(`${page}: ${href} (no file ${target})`);
        else if (anchor !== undefined) {
          const anchors = facts.get(target)?.anchors;
          if (!anchors) broken.push(`${page}: ${href} (an anchor into a file that is not a docs page)`);
          else if (!anchors.has(anchor)) broken.push(`${page}: ${href} (no heading with that anchor in ${target})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the genrm command lines shown in the docs', () => {
  const help = new Map<string, string>();
  beforeAll(async () => {
    const top = await runGenrm(['--help']);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
    expect(commands).toContain('synth');
    await Promise.all(commands.map(async (c) => help.set(c, (await runGenrm([c, '--help'])).stdout)));
  }, 120_000);

  it('use only commands that exist and flags their --help lists', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [page, f] of facts) {
      const code = [...f.codeSpans, ...f.codeBlocks.filter((b) => ['', 'sh', 'bash', 'shell', 'console'].includes(b.lang)).map((b) => b.text)];
      for (const text of code) {
        for (const { command, flags, line } of genrmCommandLines(text)) {
          const usage = help.get(command);
          if (usage === undefined) {
            // Prose that merely starts with the word (an error message quoted) is not a command line.
            if (/(^|\s)npx genrm /.test(text)) wrong.push(`${page}: \`${line}\`: no command '${command}'`);
            continue;
          }
          checked++;
          for (const flag of flags) if (!new RegExp(`(^|[\\s,])${flag}(?![a-z0-9-])`, 'm').test(usage)) wrong.push(`${page}: \`${line}\`: ${flag} is not an option of genrm ${command}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });
});

describe('the config keys named in the docs', () => {
  const schema = configJsonSchema() as { properties: Record<string, unknown> };
  const resolves = (path: string[]): boolean => {
    let node: unknown = schema;
    for (const key of path) {
      const n = node as { properties?: Record<string, unknown>; anyOf?: unknown[]; additionalProperties?: unknown };
      const options = [n, ...((n.anyOf ?? []) as typeof n[])];
      const next = options.map((o) => o.properties?.[key]).find(Boolean);
      if (next) node = next;
      else if (options.some((o) => typeof o.additionalProperties === 'object')) return true; // a map: any key
      else return false;
    }
    return true;
  };

  it('exist in the schema (every `a.b` code span whose first part is a top-level key)', () => {
    const unknown: string[] = [];
    let checked = 0;
    for (const [page, f] of facts) {
      for (const span of f.codeSpans) {
        const m = /^([a-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)+)(?::.*)?$/.exec(span.trim());
        if (!m || !(m[1].split('.')[0] in schema.properties)) continue;
        if (/\.(json|ya?ml|py|ts|js|mjs|md|sh|txt)$/.test(m[1])) continue; // a file name, not a key
        checked++;
        if (!resolves(m[1].split('.'))) unknown.push(`${page}: \`${span}\``);
      }
    }
    expect(unknown).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });
});

describe('the readers behind these checks', () => {
  it('see anchors as GitHub makes them, links, and command lines with their flags', () => {
    const f = readMarkdown('# A `genrm eval`: A/B, fast\n\n## Dup\n\n## Dup\n\nsee [x](other.md#y) and `genrm logs --previous`\n\n```sh\nnpx genrm eval --input a.jsonl \\\n  --bogus-flag 3 | jq . # --not-this\n```\n');
    expect([...f.anchors]).toEqual(['a-genrm-eval-ab-fast', 'dup', 'dup-1']);
    expect(f.links).toEqual(['other.md#y']);
    expect(f.codeSpans).toEqual(['genrm eval', 'genrm logs --previous']);
    expect(genrmCommandLines(f.codeSpans[1])).toEqual([{ command: 'logs', flags: ['--previous'], line: 'genrm logs --previous' }]);
    expect(genrmCommandLines(f.codeBlocks[0].text).map((c) => c.flags)).toEqual([['--input', '--bogus-flag']]);
  });
});
