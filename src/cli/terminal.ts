/**
 * Text from outside genrm (a server's error message, kubectl's output, a config's keys) must not
 * drive the terminal: an escape sequence can clear the screen, retitle the window, or hide what
 * follows it. `terminalSafe` removes escape sequences and control characters (keeping newlines and
 * tabs), and the Unicode bidirectional overrides that reorder what a reader sees.
 */

/** ESC or its 8-bit form followed by a CSI (`ESC [ ... final`), an OSC/DCS/PM/APC/SOS string, or one more byte. */
const ESCAPE_SEQUENCE = new RegExp(
  [
    '(?:\\u001b\\[|\\u009b)[0-?]*[ -/]*[@-~]', // CSI: colors, cursor moves, clear screen
    '(?:\\u001b[\\]PX^_]|[\\u0090\\u0098\\u009d\\u009e\\u009f])[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u001b\\\\|\\u009c)?', // OSC (window title, hyperlinks), DCS, SOS, PM, APC
    '\\u001b[ -/]*[0-~]', // two- and three-byte escapes
  ].join('|'),
  'g',
);

/** C0 and C1 control characters except tab and newline, DEL, and bidirectional overrides. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without escape sequences and control characters (tabs and newlines stay). */
export function terminalSafe(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
}

/** `terminalSafe` applied to every string inside a JSON-like value (a new value; the input is untouched). */
export function terminalSafeDeep<T>(value: T): T {
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return terminalSafe(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  // defineProperty: a `__proto__` key (JSON.parse makes it an own property) stays a plain key.
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, terminalSafe(k), { value: walk(v), enumerable: true, writable: true, configurable: true });
  return out;
}
