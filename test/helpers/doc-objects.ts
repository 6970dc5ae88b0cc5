/**
 * The objects a doc page says the default config deploys: the first Markdown table whose first two
 * columns are `object` (or `kind`) and `name`. A cell may join kinds that share a name
 * (`Job + ConfigMap`); names are written as code (`genrm`).
 */
import { readFileSync } from 'node:fs';

export interface DocObject {
  kind: string;
  name: string;
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** The kinds and names of the objects table in Markdown `text`; throws when there is none. */
export function objectsTable(text: string, where = 'the document'): DocObject[] {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => {
    if (!l.trim().startsWith('|')) return false;
    const [first, second] = cells(l).map((c) => c.toLowerCase());
    return (first === 'object' || first === 'kind') && second === 'name';
  });
  if (header < 0) throw new Error(`${where} has no table whose columns start with object (or kind) and name`);
  const rows: DocObject[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.trim().startsWith('|')) break;
    const [kinds, name] = cells(line);
    const bare = name.replace(/^`|`$/g, '');
    for (const kind of kinds.split('+').map((k) => k.trim())) rows.push({ kind, name: bare });
  }
  return rows;
}

/** The objects table of a Markdown file. */
export function objectsTableOf(file: string): DocObject[] {
  return objectsTable(readFileSync(file, 'utf8'), file);
}
