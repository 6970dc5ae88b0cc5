/**
 * The lines of a file, read as a stream of bytes: memory stays bounded by the longest line kept
 * (at most `maxLineBytes`), whatever the file's size. A UTF-8 byte order mark on line 1 is dropped,
 * and so is the carriage return of a CRLF line end.
 */
import { createReadStream } from 'node:fs';

/** A line longer than any pair a model window holds: refused, never held in memory. */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NL = 0x0a;

export type Line =
  /** `offset` and `bytes` locate the line in the file (without its newline). */
  | { line: number; offset: number; bytes: number; text: string; complete: boolean }
  | { line: number; offset: number; bytes: number; tooLong: true; complete: boolean };

/**
 * Yields every line with its 1-based number and byte position. The last line has
 * `complete: false` when the file does not end on a newline (a write cut short).
 */
export async function* readLines(path: string, { maxLineBytes = MAX_LINE_BYTES, chunkBytes = 1 << 16 } = {}): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  let start = 0;
  let position = 0;
  let line = 1;
  const emit = (complete: boolean): Line => {
    const too = length > maxLineBytes;
    let buf = too ? Buffer.alloc(0) : Buffer.concat(parts, kept);
    let offset = start;
    let bytes = length;
    if (line === 1 && buf.subarray(0, 3).equals(BOM)) {
      buf = buf.subarray(3);
      offset += 3;
      bytes -= 3;
    }
    if (buf.length && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, -1);
    const out: Line = too ? { line, offset, bytes, tooLong: true, complete } : { line, offset, bytes, text: buf.toString('utf8'), complete };
    parts = [];
    kept = 0;
    length = 0;
    line++;
    return out;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, from);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(from, end);
      length += piece.length;
      if (length <= maxLineBytes && piece.length) {
        parts.push(piece);
        kept += piece.length;
      } else if (length > maxLineBytes && parts.length) {
        parts = [];
        kept = 0;
      }
      if (nl === -1) break;
      yield emit(true);
      start = position + nl + 1;
      from = nl + 1;
    }
    position += chunk.length;
  }
  if (length > 0) yield emit(false);
}
