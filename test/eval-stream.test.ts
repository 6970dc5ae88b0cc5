/** The streaming pieces of `genrm eval`: lines of any length at any chunk boundary, the output's settings line and index. */
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLines } from '../src/eval/lines.ts';
import { scanInput } from '../src/eval/input.ts';
import { OutputWriter, readOutput, settingsDiff, settingsLine, type EvalSettings } from '../src/eval/output.ts';
import { createProgress } from '../src/eval/progress.ts';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genrm-eval-stream-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
async function file(content: string | Buffer): Promise<string> {
  const path = join(dir, `f-${++n}`);
  await writeFile(path, content);
  return path;
}
async function lines(path: string, o: { maxLineBytes?: number; chunkBytes?: number } = {}) {
  const out = [];
  for await (const l of readLines(path, o)) out.push(l);
  return out;
}

describe('readLines', () => {
  it('yields the same lines as a split, with byte offsets, for any text at any chunk size (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\r\n\uFEFF]/g, '')), { maxLength: 12 }), fc.boolean(), fc.integer({ min: 1, max: 50 }), async (parts, endsOnNewline, chunkBytes) => {
        const text = parts.join('\n') + (endsOnNewline && parts.length ? '\n' : '');
        const path = await file(text);
        const got = await lines(path, { chunkBytes });
        const buf = Buffer.from(text);
        const ends = text.endsWith('\n');
        const expected = text === '' ? [] : ends ? text.slice(0, -1).split('\n') : text.split('\n');
        expect(got.map((l) => ('text' in l ? l.text : null))).toEqual(expected);
        for (const l of got) if ('text' in l) expect(buf.subarray(l.offset, l.offset + l.bytes).toString()).toBe(l.text);
        if (got.length) expect(got.at(-1)!.complete).toBe(ends);
      }),
      { seed: 7, numRuns: 150 },
    );
  });

  it('drops a BOM on line 1 only, and a CR before the newline', async () => {
    const got = await lines(await file('\uFEFF{"a":1}\r\n\uFEFFx\n'), { chunkBytes: 2 });
    expect(got.map((l) => ('text' in l ? l.text : null))).toEqual(['{"a":1}', '\uFEFFx']);
    expect(got[0]).toMatchObject({ offset: 3, line: 1 });
  });

  it('marks a line over the limit without keeping it, and goes on', async () => {
    const got = await lines(await file(`ok\n${'y'.repeat(1000)}\nnext`), { maxLineBytes: 100, chunkBytes: 7 });
    expect(got).toEqual([
      { line: 1, offset: 0, bytes: 2, text: 'ok', complete: true },
      { line: 2, offset: 3, bytes: 1000, tooLong: true, complete: true },
      { line: 3, offset: 1004, bytes: 4, text: 'next', complete: false },
    ]);
  });
});

describe('the input digest', () => {
  const row = (id: string, r2: string, preferred?: number) => JSON.stringify({ id, messages: [{ role: 'user', content: 'q' }], response_1: 'a', response_2: r2, ...(preferred ? { preferred } : {}) });
  it('covers ids and pairs, not labels, blank lines, a BOM or line ends', async () => {
    const base = await scanInput(await file(`${row('x', 'b', 1)}\n${row('y', 'c')}\n`));
    const same = await scanInput(await file(`\uFEFF${row('x', 'b', 2)}\r\n\r\n${row('y', 'c', 1)}`));
    expect(same.digest).toBe(base.digest);
    expect(base.rows).toBe(2);
    expect((await scanInput(await file(`${row('x', 'b')}\n${row('y', 'C')}\n`))).digest).not.toBe(base.digest);
    expect((await scanInput(await file(`${row('y', 'c')}\n${row('x', 'b')}\n`))).digest).not.toBe(base.digest);
    expect((await scanInput(await file(`${row('x', 'b')}\n${row('z', 'c')}\n`))).digest).not.toBe(base.digest);
  });
});

describe('the output settings line', () => {
  const settings: EvalSettings = { format: 1, baseUrl: 'http://h:1/v1', model: 'm', maxTokens: 10, temperature: 0.6, topP: 0.95, seed: 1, input: { rows: 2, digest: 'sha256:aa' } };
  const record = (id: string) => JSON.stringify({ id, line: 1, digest: 'd', label: 1, judged: { preferred: 1 }, agrees: true, error: null });

  it('names every setting that differs with its old and new value', () => {
    expect(settingsDiff(settings, settings)).toEqual([]);
    expect(settingsDiff(settings, { ...settings, model: 'n', seed: 2, input: { rows: 3, digest: 'sha256:bb' } })).toEqual([
      '--model was "m", now "n"',
      'seed (fixed by this genrm version) was 1, now 2',
      "--input's pairs changed: 2 rows with digest sha256:aa, now 3 rows with digest sha256:bb",
    ]);
  });

  it('indexes the last record of each row; a writer cuts a torn last line off the file', async () => {
    const text = `${settingsLine(settings)}${record('a')}\n${record('b')}\n${record('a').replace('"error":null', '"error":{"kind":"timeout","reason":"x"}')}\n{"id":"c","dig`;
    const path = await file(text);
    const state = await readOutput(path);
    if (state.kind !== 'resumable') throw new Error(state.kind);
    expect(state.settings).toEqual(settings);
    expect([...state.index.keys()]).toEqual(['"a"', '"b"']);
    expect(state.index.get('"a"')!.ok).toBe(false);
    expect(state.index.get('"b"')!.ok).toBe(true);
    expect(await readFile(path, 'utf8')).toBe(text);
    const writer = await OutputWriter.open(path, settings, state);
    await writer.append(JSON.parse(record('c')));
    await writer.close();
    const kept = await readFile(path, 'utf8');
    expect(kept).toBe(`${text.slice(0, text.lastIndexOf('\n') + 1)}${record('c')}\n`);
    expect(state.size).toBe(Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    const c = state.index.get('"c"')!;
    expect(JSON.parse(Buffer.from(kept).subarray(c.offset, c.offset + c.bytes).toString()).id).toBe('c');
    const b = state.index.get('"b"')!;
    expect(JSON.parse(Buffer.from(kept).subarray(b.offset, b.offset + b.bytes).toString()).id).toBe('b');
  });

  it('tells a new file, one cut inside its settings line, and a foreign file apart', async () => {
    expect((await readOutput(join(dir, 'missing'))).kind).toBe('new');
    expect((await readOutput(await file(settingsLine(settings).slice(0, 30)))).kind).toBe('new');
    expect(await readOutput(await file(`\n${record('a')}\n`))).toEqual({ kind: 'foreign', firstLine: 2 });
  });
});

describe('progress rate', () => {
  it('counts only the rows judged in this run, not the resumed ones', () => {
    let t = 0;
    const out: string[] = [];
    const p = createProgress({ tty: false, write: (s) => out.push(s), intervalMs: 1000, now: () => t });
    t = 60_000;
    p.finish({ total: 1000, done: 1000, failed: 0, resumed: 990 });
    expect(out).toEqual(['eval: 1000/1000 rows (0 failed), 10.0 rows/min, 60 s\n']);
  });
});
