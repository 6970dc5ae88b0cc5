/** `genrm status` as text. */
import type { Diagnosis } from './diagnose.ts';
import { formatDuration } from './duration.ts';
import type { Step } from './progress.ts';
import type { StatusReport } from './report.ts';
import type { Style } from './style.ts';

export function renderReport(r: StatusReport, style: Style): string {
  const lines: string[] = [];
  const head = r.ready ? style.green('Ready') : style.yellow('not ready');
  lines.push(`${style.bold(r.name)} in namespace ${r.namespace}${r.context ? ` (context ${r.context})` : ''}: ${head}`);
  if (r.deployment) lines.push(`  deployment ${r.deployment.name}: ${r.deployment.readyReplicas}/${r.deployment.replicas} ready, ${r.deployment.updatedReplicas} updated`);
  else lines.push('  deployment: not found (run `genrm apply`)');
  const w = r.weights;
  if (w.claim) lines.push(`  weights volume ${w.claim.name}: ${w.claim.phase}`);
  if (w.download) lines.push(`  weights download ${w.download.name}: ${w.download.state}${w.download.progress ? `, ${w.download.progress}` : ''}`);
  for (const p of r.pods) {
    lines.push('');
    lines.push(`pod ${style.bold(p.name)}: ${p.phase}${p.node ? ` on ${p.node}` : ''}${p.restarts ? `, ${p.restarts} restart(s)` : ''}${p.terminating ? ', terminating' : ''}`);
    for (const step of p.steps) lines.push(`  ${stepLine(step, style, Date.parse(r.takenAt))}`);
    if (p.gate) {
      const verdict = p.gate.passed ? style.green('passed') : style.red(`failed (${p.gate.kind})`);
      lines.push(`  gate: last check ${verdict}${p.gate.at ? ` at ${p.gate.at}` : ''}${p.gate.durationMs !== null ? ` in ${formatDuration(p.gate.durationMs)}` : ''}${p.gate.passed ? toleratedNote(p.gate.tolerated, style) : `: ${p.gate.reason}`}`);
    } else {
      lines.push('  gate: no judging check yet');
    }
  }
  if (r.pods.length === 0) lines.push('', 'no server pods');
  lines.push('');
  if (r.diagnoses.length === 0) lines.push(r.ready ? 'no problems found' : 'no known failure found (yet)');
  else lines.push(...renderDiagnoses(r.diagnoses, style));
  return `${lines.join('\n')}\n`;
}

export function stepLine(step: Step, style: Style, now: number): string {
  const mark = { done: style.green('✔'), active: style.yellow('…'), pending: style.dim('·'), skipped: style.dim('-') }[step.state];
  const start = step.startedAt ? Date.parse(step.startedAt) : NaN;
  const end = step.endedAt ? Date.parse(step.endedAt) : step.state === 'active' ? now : NaN;
  const took = Number.isFinite(start) && Number.isFinite(end) && step.id !== 'ready' ? formatDuration(end - start) : '';
  const label = step.state === 'skipped' ? `${step.label} (not needed)` : step.label;
  return `${mark} ${label.padEnd(22)}${took.padEnd(8)}${step.detail ? ` ${step.detail}` : ''}`.trimEnd();
}

export function renderDiagnoses(diagnoses: Diagnosis[], style: Style): string[] {
  return diagnoses.flatMap((d) => [
    `${d.severity === 'error' ? style.red('problem') : style.yellow('warning')} [${d.id}] ${d.object}: ${d.summary}`,
    `  evidence: ${d.evidence}`,
    `  fix: ${d.fix}`,
  ]);
}

/** The judging-suite case a passed first check tolerated (wrong on two samples), when there is one. */
function toleratedNote(tolerated: string | null, style: Style): string {
  return tolerated ? ` ${style.yellow(`(first check tolerated case '${tolerated}': wrong on two samples; genrm logs gate shows its verdicts)`)}` : '';
}
