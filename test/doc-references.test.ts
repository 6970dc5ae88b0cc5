/**
 * Every doc of this project that a source comment points to exists, or is a page of the planned
 * docs/ folder. The comments ship in the package's `.d.ts` files, so a dead pointer reaches users.
 *
 * What counts as a pointer to this project's docs: a bare `name.md`, `docs/page.md` (the docs/
 * folder is flat), or a path under one of the repository's own top-level folders. A deeper
 * `docs/a/b.md` is a citation of another project's docs (vLLM's, Kubernetes'), and so is any path
 * that follows a `/` (a repository or URL prefix).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

/** The pages of docs/ being written; a pointer to one of them is fine before it lands. */
const PLANNED_DOCS = ['configuration', 'gate', 'operations', 'evaluation', 'capacity', 'troubleshooting', 'library', 'benchmarks', 'development'].map(
  (p) => `docs/${p}.md`,
);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|mts|mjs|js)$/.test(name) ? [path] : [];
  });
}

const TOP_LEVEL = new Set(readdirSync(ROOT).filter((n) => !n.startsWith('.') && n !== 'node_modules'));

/** The pointers to this project's docs in a source text, as repository-relative paths. */
function docPointers(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/(?<![\w./@-])((?:[\w-]+\/)*[\w.-]+\.md)\b/g)) {
    const path = m[1];
    const parts = path.split('/');
    if (parts.length === 1) found.add(path);
    else if (parts[0] === 'docs') {
      if (parts.length === 2) found.add(path);
    } else if (TOP_LEVEL.has(parts[0])) found.add(path);
  }
  return [...found];
}

describe('pointers to docs in source comments', () => {
  it('finds the kinds of pointers it means, and leaves other projects\' citations alone', () => {
    expect(
      docPointers(
        '(see docs/gate.md) README.md genrm-protocol.md test/fixtures/crds/README.md vLLM docs/deployment/frameworks/lws.md kubernetes/website `feature-gates/ExecProbeTimeout.md` https://x.io/docs/a.md',
      ).sort(),
    ).toEqual(['README.md', 'docs/gate.md', 'genrm-protocol.md', 'test/fixtures/crds/README.md']);
  });

  it('point to files that exist or to planned docs pages', () => {
    const dead: string[] = [];
    for (const file of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'bin'))]) {
      for (const path of docPointers(readFileSync(file, 'utf8'))) {
        if (!existsSync(join(ROOT, path)) && !PLANNED_DOCS.includes(path)) dead.push(`${relative(ROOT, file)}: ${path}`);
      }
    }
    expect(dead).toEqual([]);
  });
});
