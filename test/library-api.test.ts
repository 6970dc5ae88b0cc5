/** The library's public surface (src/index.ts): small, and every export documented. */
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.ts';

const INDEX = join(REPO_ROOT, 'src/index.ts');

function exportedDocs(): Map<string, string> {
  const program = ts.createProgram([INDEX], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!;
  const docs = new Map<string, string>();
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const own = ts.displayPartsToString(exported.getDocumentationComment(checker));
    docs.set(exported.getName(), (own || ts.displayPartsToString(target.getDocumentationComment(checker))).trim());
  }
  return docs;
}

describe('the library index', () => {
  const docs = exportedDocs();

  it('exports the construct, the chart, the config, the planner and the judging client', () => {
    for (const name of ['Genrm', 'GenrmChart', 'loadConfig', 'parseConfig', 'planFromConfig', 'runJudgeCheck', 'parseChatCompletion']) {
      expect(docs.has(name), name).toBe(true);
    }
    expect(docs.size).toBeLessThan(45);
  });

  it('documents every export', () => {
    const undocumented = [...docs].filter(([, doc]) => doc.length < 10).map(([name]) => name);
    expect(undocumented).toEqual([]);
  });
});
