/**
 * The rows `genrm eval` judges, read from JSONL in either of two formats:
 * - ours: `{id?, messages: [{role: user|assistant, content}, ... ending on user], response_1,
 *   response_2, preferred?: 1|2}`;
 * - HelpSteer3-Preference's: `{context: [...same turns...], response1, response2,
 *   overall_preference: -3..3}`; negative means response 1 is better, positive response 2, and 0
 *   (a tie) carries no label.
 */
import { createHash } from 'node:crypto';
import type { HistoryTurn } from '../genrm/request.ts';

export type RowFormat = 'genrm' | 'helpsteer3';

export interface PairRow {
  /** 1-based line number in the input file. */
  line: number;
  /** The row's id, or its line number when it has none: the output row's `id`. */
  id: string | number;
  /** Identifies the row in the output across runs (resume). */
  key: string;
  /** A digest of the pair, so that a changed row is judged again on resume. */
  digest: string;
  format: RowFormat;
  history: HistoryTurn[];
  response1: string;
  response2: string;
  /** The labelled better response; null when unlabelled or a tie. */
  label: 1 | 2 | null;
}

export interface ParsedRows {
  rows: PairRow[];
  /** One per bad line: `line N: field: what is wrong (how to fix)`. */
  problems: string[];
}

/** Parses a JSONL document; blank lines are skipped, and so is a UTF-8 byte order mark. */
export function parseRows(text: string): ParsedRows {
  text = text.replace(/^\uFEFF/, '');
  const rows: PairRow[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const row = parseRow(raw, line);
    if (typeof row === 'string') return void problems.push(`line ${line}: ${row}`);
    const first = seen.get(row.key);
    if (first !== undefined) return void problems.push(`line ${line}: id ${JSON.stringify(row.id)} is already used on line ${first} (ids must be unique; rows without an id are named by their line number)`);
    seen.set(row.key, line);
    rows.push(row);
  });
  return { rows, problems };
}

/** One row, or a problem message. */
export function parseRow(raw: string, line: number): PairRow | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return 'not a JSON object (each line must be one JSON object)';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object (each line must be one JSON object)';
  const o = v as Record<string, unknown>;
  if ('context' in o) return helpsteer3Row(o, line);
  if ('messages' in o) return genrmRow(o, line);
  return "neither format: expected 'messages', 'response_1', 'response_2' (ours) or 'context', 'response1', 'response2', 'overall_preference' (HelpSteer3)";
}

function genrmRow(o: Record<string, unknown>, line: number): PairRow | string {
  const history = turns(o.messages, 'messages');
  if (typeof history === 'string') return history;
  const [r1, r2] = [o.response_1, o.response_2];
  if (typeof r1 !== 'string') return notText('response_1', r1);
  if (typeof r2 !== 'string') return notText('response_2', r2);
  let label: 1 | 2 | null = null;
  if (o.preferred !== undefined && o.preferred !== null) {
    if (o.preferred !== 1 && o.preferred !== 2) return `preferred: must be 1 or 2 (or absent for an unlabelled pair), got ${JSON.stringify(o.preferred)}`;
    label = o.preferred;
  }
  let id: string | number = line;
  if (o.id !== undefined && o.id !== null) {
    if (typeof o.id !== 'string' && typeof o.id !== 'number') return `id: must be a string or a number, got ${JSON.stringify(o.id)}`;
    if (o.id === '') return 'id: must not be empty';
    id = o.id;
  }
  return row(line, id, 'genrm', history, r1, r2, label);
}

function helpsteer3Row(o: Record<string, unknown>, line: number): PairRow | string {
  const history = turns(o.context, 'context');
  if (typeof history === 'string') return history;
  const [r1, r2] = [o.response1, o.response2];
  if (typeof r1 !== 'string') return notText('response1', r1);
  if (typeof r2 !== 'string') return notText('response2', r2);
  const p = o.overall_preference;
  let label: 1 | 2 | null = null;
  if (p !== undefined && p !== null) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < -3 || p > 3) return `overall_preference: must be an integer from -3 to 3, got ${JSON.stringify(p)}`;
    label = p < 0 ? 1 : p > 0 ? 2 : null;
  }
  return row(line, line, 'helpsteer3', history, r1, r2, label);
}

function row(line: number, id: string | number, format: RowFormat, history: HistoryTurn[], response1: string, response2: string, label: 1 | 2 | null): PairRow {
  const digest = createHash('sha256').update(JSON.stringify([history, response1, response2])).digest('hex').slice(0, 16);
  return { line, id, key: JSON.stringify(id), digest, format, history, response1, response2, label };
}

function notText(field: string, v: unknown): string {
  return `${field}: must be a string, got ${v === undefined ? 'nothing' : String(JSON.stringify(v)).slice(0, 40)}`;
}

function turns(v: unknown, field: string): HistoryTurn[] | string {
  if (!Array.isArray(v) || v.length === 0) return `${field}: must be a non-empty list of {role, content} turns ending on a user turn`;
  const out: HistoryTurn[] = [];
  for (const [i, t] of v.entries()) {
    const role = (t as { role?: unknown } | null)?.role;
    const content = (t as { content?: unknown } | null)?.content;
    if (role !== 'user' && role !== 'assistant') return `${field}[${i}].role: must be 'user' or 'assistant', got ${JSON.stringify(role)}`;
    if (typeof content !== 'string') return `${field}[${i}].content: must be a string`;
    out.push({ role, content });
  }
  if (out[out.length - 1].role !== 'user') return `${field}: must end on a user turn (the one both responses answer)`;
  return out;
}
