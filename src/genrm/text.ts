/** Small text helpers for failure reasons: bounded, single-line, and never carrying the API key. */

/** Replaces every occurrence of `secret` in `text` (no-op when there is no secret). */
export function redact(text: string, secret: string | undefined): string {
  if (!secret) return text;
  return text.split(secret).join('[redacted]');
}

/** Collapses whitespace runs (newlines included) to one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The first `max` characters, with an ellipsis when cut. */
export function truncateEnd(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The last `max` characters, with an ellipsis when cut. */
export function lastChars(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}

/** Seconds with one decimal, for human messages. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
