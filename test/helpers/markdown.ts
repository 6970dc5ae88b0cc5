/**
 * What the docs checks read from Markdown: headings (as GitHub makes their anchors), links,
 * inline code spans and code blocks. Parsed with marked's lexer, anchors by github-slugger (the
 * algorithm GitHub uses for heading ids), so that the checks see a page as GitHub renders it.
 */
import GithubSlugger from 'github-slugger';
import { marked, type Token, type Tokens } from 'marked';

export interface MarkdownFacts {
  /** The anchors of the page's headings, as GitHub makes them (duplicates get -1, -2, ...). */
  anchors: Set<string>;
  links: string[];
  codeSpans: string[];
  codeBlocks: { lang: string; text: string }[];
}

/** A heading's text as GitHub slugs it: the rendered text, without Markdown's markers. */
const plain = (s: string) => s.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '').replace(/<[^>]+>/g, '');

export function readMarkdown(text: string): MarkdownFacts {
  const slugger = new GithubSlugger();
  const facts: MarkdownFacts = { anchors: new Set(), links: [], codeSpans: [], codeBlocks: [] };
  const walk = (tokens: Token[] | undefined) => {
    for (const t of tokens ?? []) {
      if (t.type === 'heading') facts.anchors.add(slugger.slug(plain((t as Tokens.Heading).text)));
      if (t.type === 'link') facts.links.push((t as Tokens.Link).href);
      if (t.type === 'codespan') facts.codeSpans.push(unescapeHtml((t as Tokens.Codespan).text));
      if (t.type === 'code') facts.codeBlocks.push({ lang: (t as Tokens.Code).lang ?? '', text: (t as Tokens.Code).text });
      const nested = t as { tokens?: Token[]; items?: Tokens.ListItem[]; header?: Tokens.TableCell[]; rows?: Tokens.TableCell[][] };
      walk(nested.tokens);
      for (const item of nested.items ?? []) walk(item.tokens);
      for (const cell of nested.header ?? []) walk(cell.tokens);
      for (const row of nested.rows ?? []) for (const cell of row) walk(cell.tokens);
    }
  };
  walk(marked.lexer(text));
  // Explicit anchors (<a id="...">) count too.
  for (const m of text.matchAll(/<a (?:id|name)="([^"]+)"/g)) facts.anchors.add(m[1]);
  return facts;
}

function unescapeHtml(s: string): string {
  return s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
}

/**
 * The `genrm` command lines in a code block or span: `[npx] genrm <command> <args>` at the start of
 * a line or after `npx` (not `helm install genrm charts/genrm`, where it is a release name), joined over
 * trailing backslashes, cut at a comment, a pipe, `&&`, `;` or a redirection.
 */
export function genrmCommandLines(code: string): { command: string; flags: string[]; line: string }[] {
  const joined = code.replace(/\\\n\s*/g, ' ');
  const found: { command: string; flags: string[]; line: string }[] = [];
  for (const raw of joined.split('\n')) {
    for (const m of raw.matchAll(/(?:^\s*|\bnpx\s+|[(`"'])genrm ([a-z][a-z-]*)([^\n]*)/g)) {
      const rest = m[2].split(/\s#|\s\||&&|;|\s>|\$\(/)[0];
      const flags = [...rest.matchAll(/(?:^|[\s[(|])(--[a-z][a-z0-9-]*)/g)].map((f) => f[1]);
      found.push({ command: m[1], flags, line: `genrm ${m[1]}${rest}`.trim() });
    }
  }
  return found;
}
