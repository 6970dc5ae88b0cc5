/**
 * The `--input` file of `genrm eval`, read as a stream (constant memory per row, whatever the
 * file's size): a first pass checks every row and computes the digest of the pairs, the later passes
 * hand the rows over one at a time.
 */
import { createHash } from 'node:crypto';
import { MAX_LINE_BYTES, readLines } from './lines.ts';
import { parseRow, type PairRow } from './rows.ts';

/** Problems kept for the message (the count goes on). */
const PROBLEMS_SHOWN = 20;

export interface InputScan {
  rows: number;
  /** The first problems, one per bad line: `line N: field: what is wrong (how to fix)`. */
  problems: string[];
  problemCount: number;
  /**
   * sha256 over every row's id and pair, in order: what decides the verdicts. Labels are left out
   * (a corrected label needs no new judgment), and so are blank lines, a BOM and line ends.
   */
  digest: string;
}

/**
 * A short map key for a row's key: ids are usually short; a long one is hashed, so that the maps of
 * a large file hold a bounded size per row.
 */
export function rowKey(key: string): string {
  return key.length <= 64 ? key : `#${createHash('sha256').update(key).digest('base64')}`;
}

/** Checks every row of the file; reads it once, holding one line at a time (and one key per row). */
export async function scanInput(path: string, { maxLineBytes = MAX_LINE_BYTES } = {}): Promise<InputScan> {
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (p: string) => {
    problemCount++;
    if (problems.length < PROBLEMS_SHOWN) problems.push(p);
  };
  const seen = new Map<string, number>();
  const digest = createHash('sha256');
  let rows = 0;
  for await (const l of readLines(path, { maxLineBytes })) {
    if ('tooLong' in l) {
      problem(`line ${l.line}: longer than ${maxLineBytes / 1024 / 1024} MiB (${l.bytes} bytes), more than any model window holds; shorten the pair or leave the row out`);
      continue;
    }
    if (l.text.trim() === '') continue;
    const row = parseRow(l.text, l.line);
    if (typeof row === 'string') {
      problem(`line ${l.line}: ${row}`);
      continue;
    }
    const key = rowKey(row.key);
    const first = seen.get(key);
    if (first !== undefined) {
      problem(`line ${l.line}: id ${JSON.stringify(row.id)} is already used on line ${first} (ids must be unique; rows without an id are named by their line number)`);
      continue;
    }
    seen.set(key, l.line);
    digest.update(`${row.key}\t${row.digest}\n`);
    rows++;
  }
  return { rows, problems, problemCount, digest: `sha256:${digest.digest('hex')}` };
}

/** The rows of a file `scanInput` found valid, one at a time. */
export async function* streamRows(path: string, { maxLineBytes = MAX_LINE_BYTES } = {}): AsyncGenerator<PairRow> {
  for await (const l of readLines(path, { maxLineBytes })) {
    if ('tooLong' in l || l.text.trim() === '') continue;
    const row = parseRow(l.text, l.line);
    if (typeof row !== 'string') yield row;
  }
}
