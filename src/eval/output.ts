/**
 * The `--output` file of `genrm eval`: a settings line first, then one JSON line per judged row.
 *
 * The settings line names everything that decides a verdict (server, model, generation budget,
 * sampling, seed, and the digest of the input's pairs). A resume reuses rows only when every one of
 * them is the same; otherwise it refuses and says which setting differs. The rows are indexed by
 * their byte position, never held in memory, so that a resume of any size stays small.
 */
import { open, rename, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { readLines } from './lines.ts';
import { rowKey } from './input.ts';
import type { EvalRecord } from './records.ts';

/** What decides a verdict. Written as `{"genrmEval": {...}}` on the output's first line. */
export interface EvalSettings {
  /** Bumped when the rows' meaning changes. */
  format: 1;
  baseUrl: string;
  model: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  /** The per-request seed (eval keeps it fixed, so that a verdict can be replayed). */
  seed: number;
  input: { rows: number; digest: string };
}

/** The settings as a user names them: the flag, or what genrm fixes. */
const NAMES: Record<Exclude<keyof EvalSettings, 'input'>, string> = {
  format: 'output format',
  baseUrl: '--base-url',
  model: '--model',
  maxTokens: '--max-tokens',
  temperature: 'temperature (fixed by this genrm version)',
  topP: 'top_p (fixed by this genrm version)',
  seed: 'seed (fixed by this genrm version)',
};

export function settingsLine(s: EvalSettings): string {
  return `${JSON.stringify({ genrmEval: s })}\n`;
}

/** Each setting that differs, as `NAME was OLD, now NEW`; empty when the output can be resumed. */
export function settingsDiff(old: EvalSettings, now: EvalSettings): string[] {
  const out: string[] = [];
  for (const k of Object.keys(NAMES) as (keyof typeof NAMES)[]) {
    if (old[k] !== now[k]) out.push(`${NAMES[k]} was ${JSON.stringify(old[k])}, now ${JSON.stringify(now[k])}`);
  }
  if (old.input?.digest !== now.input.digest) {
    out.push(`--input's pairs changed: ${old.input?.rows ?? '?'} rows with digest ${old.input?.digest}, now ${now.input.rows} rows with digest ${now.input.digest}`);
  }
  return out;
}

/** Where one row's last record sits in the output, and whether it needs no new judgment. */
export interface IndexEntry {
  offset: number;
  bytes: number;
  digest: string;
  ok: boolean;
  swapped: boolean;
}

export type OutputState =
  | { kind: 'new' }
  /** The first line is not a settings line (an older genrm's output, or another file). */
  | { kind: 'foreign'; firstLine: number }
  /** `size`: the bytes up to the last complete line (a torn line after it is cut off on open). */
  | { kind: 'resumable'; settings: EvalSettings; index: Map<string, IndexEntry>; size: number; skipped: number };

/**
 * Reads an earlier output, without changing it: its settings and the position of every row's last
 * valid record. A last line cut short (a crash mid-write) is left out.
 */
export async function readOutput(path: string): Promise<OutputState> {
  try {
    await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'new' };
    throw err;
  }
  let settings: EvalSettings | null = null;
  const index = new Map<string, IndexEntry>();
  let skipped = 0;
  let end = 0;
  let seenLine = false;
  for await (const l of readLines(path)) {
    if (!l.complete) break;
    end = l.offset + l.bytes + 1;
    if ('tooLong' in l) {
      skipped++;
      continue;
    }
    if (l.text.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(l.text);
    } catch {
      v = undefined;
    }
    if (!seenLine) {
      seenLine = true;
      const s = (v as { genrmEval?: EvalSettings } | undefined)?.genrmEval;
      if (!s || typeof s !== 'object') return { kind: 'foreign', firstLine: l.line };
      settings = s;
      continue;
    }
    const r = v as EvalRecord | undefined;
    if (!r || (typeof r.id !== 'string' && typeof r.id !== 'number') || typeof r.digest !== 'string') {
      skipped++;
      continue;
    }
    index.set(rowKey(JSON.stringify(r.id)), { offset: l.offset, bytes: l.bytes, digest: r.digest, ok: r.error === null && !!r.judged, swapped: !!r.swapped });
  }
  // Nothing complete: a file cut short while its settings line was written holds no verdict.
  if (!settings) return { kind: 'new' };
  return { kind: 'resumable', settings, index, size: end, skipped };
}

/** Appends records to the output, keeping each one's position in the index. */
export class OutputWriter {
  private constructor(
    private readonly fh: FileHandle,
    private size: number,
    readonly index: Map<string, IndexEntry>,
  ) {}

  /** Starts a new output (its settings line) or continues a resumable one. */
  static async open(path: string, settings: EvalSettings, resume: Extract<OutputState, { kind: 'resumable' }> | null): Promise<OutputWriter> {
    if (!resume) {
      const line = settingsLine(settings);
      await writeFile(path, line, 'utf8');
      return new OutputWriter(await open(path, 'a'), Buffer.byteLength(line), new Map());
    }
    // A torn last line is cut off, so that new rows start on a line of their own.
    await truncate(path, resume.size);
    return new OutputWriter(await open(path, 'a'), resume.size, resume.index);
  }

  async append(record: EvalRecord): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(line);
    await this.fh.write(line, null, 'utf8');
    this.index.set(rowKey(JSON.stringify(record.id)), {
      offset: this.size,
      bytes: bytes - 1,
      digest: record.digest,
      ok: record.error === null && !!record.judged,
      swapped: !!record.swapped,
    });
    this.size += bytes;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Reads one record back from the output by its index entry. */
export async function readRecord(fh: FileHandle, e: IndexEntry): Promise<EvalRecord> {
  const buf = Buffer.alloc(e.bytes);
  await fh.read(buf, 0, e.bytes, e.offset);
  return JSON.parse(buf.toString('utf8')) as EvalRecord;
}

/**
 * Rewrites the output as its settings line and one record per input row in input order, via a
 * temporary file and a rename (a crash leaves the old file whole). `rows` yields the records.
 */
export async function rewriteOutput(path: string, settings: EvalSettings, records: AsyncIterable<EvalRecord>): Promise<void> {
  const target = resolve(path);
  const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const out = createWriteStream(temp, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  try {
    const write = async (s: string) => {
      if (!out.write(s)) await Promise.race([once(out, 'drain'), failed]);
    };
    await write(settingsLine(settings));
    for await (const r of records) await write(`${JSON.stringify(r)}\n`);
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(temp, target);
  } catch (err) {
    out.destroy();
    await rm(temp, { force: true });
    throw err;
  }
}
