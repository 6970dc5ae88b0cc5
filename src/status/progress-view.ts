/**
 * The live view of `genrm apply --wait`. On a TTY: a block redrawn in place, one line per step
 * with its elapsed time. Otherwise (CI logs): one plain line per change. Step times come from
 * Kubernetes' own timestamps when it records them, else from when genrm first saw the change.
 */
import type { Diagnosis } from './diagnose.ts';
import { formatDuration } from './duration.ts';
import type { Step } from './progress.ts';
import type { StatusReport } from './report.ts';
import type { Style } from './style.ts';

export interface ViewOptions {
  tty: boolean;
  style: Style;
  write: (text: string) => void;
  now?: () => number;
  /** Terminal width, to keep redrawn lines from wrapping. */
  columns?: number;
}

export interface ProgressView {
  update(report: StatusReport): void;
  /** Leaves the final state on screen (a TTY block stays as drawn). */
  finish(): void;
}

interface Seen {
  activeSince?: number;
  doneAt?: number;
}

export function createProgressView(o: ViewOptions): ProgressView {
  const now = o.now ?? Date.now;
  const start = now();
  const seen = new Map<string, Seen>();
  const lastLine = new Map<string, string>();
  const reported = new Set<string>();
  let drawn = 0;

  const observe = (pod: string, step: Step) => {
    const key = `${pod}/${step.id}`;
    const s = seen.get(key) ?? {};
    if (step.state === 'active' && s.activeSince === undefined) s.activeSince = now();
    if (step.state === 'done' && s.doneAt === undefined) s.doneAt = now();
    seen.set(key, s);
    return s;
  };
  const took = (pod: string, step: Step): string => {
    const s = seen.get(`${pod}/${step.id}`) ?? {};
    const begin = step.startedAt ? Date.parse(step.startedAt) : s.activeSince;
    const end = step.state === 'done' ? (step.endedAt ? Date.parse(step.endedAt) : s.doneAt) : step.state === 'active' ? now() : undefined;
    if (begin === undefined || end === undefined || Number.isNaN(begin) || Number.isNaN(end) || step.id === 'ready') return '';
    // Kubernetes' second-precision timestamps against genrm's clock: never a negative time.
    if (end < begin) return '';
    if (step.state === 'done' && s.activeSince === undefined && !step.startedAt) return '';
    return formatDuration(end - begin);
  };
  const stamp = () => `[+${formatDuration(now() - start)}]`;

  function plain(r: StatusReport): void {
    const lines: string[] = [];
    for (const p of r.pods.filter((x) => !x.terminating)) {
      for (const step of p.steps) {
        const before = seen.get(`${p.name}/${step.id}`);
        const wasDone = before?.doneAt !== undefined;
        observe(p.name, step);
        if (step.state === 'done' && !wasDone && step.id !== 'ready') {
          const t = took(p.name, step);
          lines.push(`${stamp()} ${p.name}: ${step.label} done${t ? ` (${t})` : ''}`);
        }
      }
      const line = p.ready ? 'ready' : `${labelOf(p.steps, p.step)}${p.stepDetail ? `: ${p.stepDetail}` : ''}`;
      if (lastLine.get(p.name) !== line) {
        lastLine.set(p.name, line);
        lines.push(`${stamp()} ${p.name}: ${line}`);
      }
    }
    for (const d of r.diagnoses) {
      const key = `${d.id}/${d.object}`;
      if (reported.has(key)) continue;
      reported.add(key);
      lines.push(`${stamp()} ${d.severity === 'error' ? 'problem' : 'warning'} [${d.id}] ${d.object}: ${d.summary}; fix: ${d.fix}`);
    }
    if (r.pods.length === 0 && lastLine.get('') !== 'none') {
      lastLine.set('', 'none');
      lines.push(`${stamp()} waiting for the server pod to be created`);
    }
    if (lines.length) o.write(`${lines.join('\n')}\n`);
  }

  function block(r: StatusReport): void {
    const st = o.style;
    const lines: string[] = [`${st.bold(r.name)} in namespace ${r.namespace}: ${r.ready ? st.green('Ready') : 'rolling out'} ${st.dim(formatDuration(now() - start))}`];
    const pods = r.pods.filter((x) => !x.terminating);
    if (pods.length === 0) lines.push(`  ${st.dim('waiting for the server pod to be created')}`);
    for (const p of pods) {
      lines.push(`  pod ${p.name}${p.node ? st.dim(` on ${p.node}`) : ''}`);
      for (const step of p.steps) {
        observe(p.name, step);
        const mark = { done: st.green('✔'), active: st.yellow('◐'), pending: st.dim('·'), skipped: st.dim('-') }[step.state];
        const t = took(p.name, step);
        lines.push(`    ${mark} ${step.label.padEnd(20)}${t.padEnd(8)}${step.detail ? ` ${step.detail}` : ''}`.trimEnd());
      }
    }
    for (const d of r.diagnoses.slice(0, 4)) lines.push(`  ${severity(d, st)} [${d.id}] ${d.summary}`, `    fix: ${d.fix}`);
    const width = o.columns ?? 0;
    const fitted = width > 10 ? lines.map((l) => fit(l, width)) : lines;
    const clear = drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '';
    o.write(`${clear}${fitted.join('\n')}\n`);
    drawn = fitted.length;
  }

  return {
    update: (r) => (o.tty ? block(r) : plain(r)),
    finish: () => {
      drawn = 0;
    },
  };
}

function labelOf(steps: Step[], id: string): string {
  return steps.find((s) => s.id === id)?.label ?? id;
}

function severity(d: Diagnosis, st: Style): string {
  return d.severity === 'error' ? st.red('problem') : st.yellow('warning');
}

/** Cuts a line to the terminal width, counting visible characters only (escape codes are kept). */
function fit(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= width - 1) continue;
    out += line[i];
    visible++;
  }
  return out;
}
