/**
 * A check result as JUnit XML, for CI systems: one testsuite; a testcase for the model listing and
 * one per judged order. A failed step has a <failure> with its kind and reason; an order that was
 * never judged (the listing failed) is <skipped>.
 */
import type { JudgeCheckResult, OrderName } from './check.ts';
import { formatVerdict } from './check.ts';
import type { SuiteResult } from './run-suite.ts';

const ORDER_TITLES: Record<OrderName, string> = {
  card: 'judges the card order (response_2 "1+2=3" is right)',
  mirrored: 'judges the mirrored order (response_1 "1+2=3" is right)',
};

export function checkResultToJunit(result: JudgeCheckResult, suiteName = 'genrm smoke'): string {
  const cases: string[] = [];
  const listingFailed = result.checks.length === 0 && !result.passed;
  cases.push(
    testcase('model is served', listingFailed ? result.durationMs : 0, listingFailed ? failure(result.kind ?? 'unknown', result.reason) : ''),
  );
  for (const order of ['card', 'mirrored'] as const) {
    const c = result.checks.find((x) => x.order === order);
    if (!c) {
      cases.push(testcase(ORDER_TITLES[order], 0, `      <skipped message="${attr(`not judged: ${result.reason}`)}"/>\n`));
      continue;
    }
    const out = c.verdict ? `      <system-out>${text(`${formatVerdict(c.verdict)} finish_reason=${c.finishReason ?? 'null'}`)}</system-out>\n` : '';
    cases.push(testcase(ORDER_TITLES[order], c.durationMs, (c.passed ? '' : failure(c.kind ?? 'unknown', c.reason)) + out));
  }
  const failures = (listingFailed ? 1 : 0) + result.checks.filter((c) => !c.passed).length;
  return document(result, suiteName, cases, { failures, skipped: 2 - result.checks.length });
}

/**
 * A judging-suite result as JUnit XML: a testcase for the model listing and one per suite case,
 * named by the case's id. `caseIds` lists every case, so that cases never judged show as skipped.
 */
export function suiteResultToJunit(result: SuiteResult, caseIds: readonly string[], suiteName = 'genrm smoke'): string {
  const cases: string[] = [];
  const listingFailed = result.cases.length === 0 && !result.passed;
  cases.push(
    testcase('model is served', listingFailed ? result.durationMs : 0, listingFailed ? failure(result.kind ?? 'unknown', result.reason) : ''),
  );
  for (const id of caseIds) {
    const c = result.cases.find((x) => x.id === id);
    if (!c) {
      cases.push(testcase(id, 0, `      <skipped message="${attr(`not judged: ${result.reason}`)}"/>\n`));
      continue;
    }
    const out = c.verdict ? `      <system-out>${text(`${formatVerdict(c.verdict)} finish_reason=${c.finishReason ?? 'null'}`)}</system-out>\n` : '';
    cases.push(testcase(`${c.id}: ${c.title} (response_${c.better} is right)`, c.durationMs, (c.passed ? '' : failure(c.kind ?? 'unknown', c.reason)) + out));
  }
  const failures = (listingFailed ? 1 : 0) + result.cases.filter((c) => !c.passed).length;
  return document(result, suiteName, cases, { failures, skipped: caseIds.length - result.cases.length });
}

function document(
  result: { durationMs: number; startedAt: string; model: string; baseUrl: string },
  suiteName: string,
  cases: string[],
  counts: { failures: number; skipped: number },
): string {
  const time = (result.durationMs / 1000).toFixed(3);
  const header = `tests="${cases.length}" failures="${counts.failures}" errors="0" skipped="${counts.skipped}" time="${time}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(suiteName)}" ${header}>`,
    `  <testsuite name="${attr(suiteName)}" ${header} timestamp="${attr(result.startedAt.replace(/\.\d+Z$/, ''))}">`,
    '    <properties>',
    `      <property name="model" value="${attr(result.model)}"/>`,
    `      <property name="baseUrl" value="${attr(result.baseUrl)}"/>`,
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function testcase(name: string, durationMs: number, inner: string): string {
  const open = `    <testcase classname="genrm.smoke" name="${attr(name)}" time="${(durationMs / 1000).toFixed(3)}"`;
  return inner ? `${open}>\n${inner}    </testcase>` : `${open}/>`;
}

function failure(kind: string, reason: string): string {
  return `      <failure type="${attr(kind)}" message="${attr(reason)}">${text(`[${kind}] ${reason}`)}</failure>\n`;
}

/** Removes characters XML 1.0 forbids (control characters from a model's answer, lone surrogates). */
function xmlSafe(s: string): string {
  return s.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
}

function text(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
