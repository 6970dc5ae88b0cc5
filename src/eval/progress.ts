/**
 * Progress of `genrm eval` on stderr: a bar redrawn in place on a terminal, otherwise one line every
 * few seconds (CI logs), and always a last line when the run ends.
 */
export interface ProgressCounts {
  total: number;
  done: number;
  failed: number;
  /** Rows done by an earlier run (resume): counted in `done`, never in the rate. @default 0 */
  resumed?: number;
}

export interface ProgressOptions {
  tty: boolean;
  write: (s: string) => void;
  /** Between two lines when not on a terminal. @default 5000 */
  intervalMs?: number;
  /** Between two redraws of the bar. @default 100 */
  redrawMs?: number;
  now?: () => number;
}

export interface Progress {
  update(counts: ProgressCounts): void;
  finish(counts: ProgressCounts): void;
}

const BAR_WIDTH = 30;

export function createProgress(o: ProgressOptions): Progress {
  const now = o.now ?? (() => performance.now());
  const started = now();
  let last = -Infinity;
  // The counts of the last line written (a log needs no second line for the same counts).
  let shown = '';
  const key = (c: ProgressCounts) => `${c.done}/${c.total}/${c.failed}`;
  const gap = o.tty ? (o.redrawMs ?? 100) : (o.intervalMs ?? 5000);
  const render = (c: ProgressCounts): string => {
    const share = c.total ? c.done / c.total : 1;
    const elapsed = (now() - started) / 1000;
    // The rate of this run: rows judged now over this run's time.
    const rate = elapsed > 0 ? ((c.done - (c.resumed ?? 0)) / elapsed) * 60 : 0;
    const counts = `${c.done}/${c.total} rows (${c.failed} failed), ${rate.toFixed(1)} rows/min, ${elapsed.toFixed(0)} s`;
    if (!o.tty) return `eval: ${counts}\n`;
    const filled = Math.round(share * BAR_WIDTH);
    return `\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${counts}\x1b[K`;
  };
  return {
    update(c) {
      const t = now();
      if (t - last < gap) return;
      last = t;
      shown = key(c);
      o.write(render(c));
    },
    finish(c) {
      if (!o.tty && shown === key(c)) return;
      o.write(render(c) + (o.tty ? '\n' : ''));
    },
  };
}
