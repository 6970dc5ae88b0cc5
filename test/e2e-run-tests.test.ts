/** The e2e runner's own logic: which project a file filter names, and the merged JSON report. */
import { describe, expect, it } from 'vitest';
import { mergeReports, projectOf } from '../e2e/harness/run-tests.ts';

describe('npm run test:e2e, the runner of the two projects', () => {
  it('sends a file filter to the project of its files', () => {
    expect(projectOf('e2e/tests/vllm-gate')).toBe('vllm');
    expect(projectOf('e2e/tests/cluster-apply.e2e.test.ts')).toBe('cluster');
    expect(projectOf('helm-chart')).toBe('cluster');
    expect(projectOf('gate')).toBeUndefined();
  });

  it('merges the two reports: counts summed, results of both, failed if either failed', () => {
    const report = (passed: number, failed: number, start: number) => ({
      numPassedTests: passed, numFailedTests: failed, numPendingTests: 0, numTodoTests: 0, numTotalTests: passed + failed,
      numPassedTestSuites: 1, numFailedTestSuites: failed > 0 ? 1 : 0, numPendingTestSuites: 0, numTotalTestSuites: 1,
      success: failed === 0, startTime: start, testResults: [{ name: `r${start}` }],
    });
    const merged = mergeReports([report(40, 0, 20), report(27, 2, 10)]);
    expect(merged).toMatchObject({ numPassedTests: 67, numFailedTests: 2, numTotalTests: 69, numTotalTestSuites: 2, success: false, startTime: 10 });
    expect(merged.testResults).toEqual([{ name: 'r20' }, { name: 'r10' }]);
  });
});
