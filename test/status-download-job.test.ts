import { describe, expect, it } from 'vitest';
import type { Job } from '../src/kube/types.ts';
import { downloadJob } from '../src/status/snapshot.ts';

const job = (name: string, created: string, component = 'weights-download'): Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: 'team-a', creationTimestamp: created, labels: { 'app.kubernetes.io/component': component } },
});

describe('downloadJob', () => {
  it("finds genrm apply's <name>-weights-download first", () => {
    const jobs = [job('genrm-download-0a1b2c3d', '2026-03-20T10:00:00Z'), job('genrm-weights-download', '2026-03-19T10:00:00Z')];
    expect(downloadJob({ name: 'genrm', jobs })?.metadata.name).toBe('genrm-weights-download');
  });

  it("finds the Helm chart's hash-named download Job, the newest when an upgrade left two", () => {
    const jobs = [job('genrm-download-0a1b2c3d', '2026-03-20T10:00:00Z'), job('genrm-download-ffee0011', '2026-03-21T10:00:00Z'), job('other', '2026-03-22T10:00:00Z', 'other')];
    expect(downloadJob({ name: 'genrm', jobs })?.metadata.name).toBe('genrm-download-ffee0011');
  });

  it('finds nothing among Jobs that are not the download', () => {
    expect(downloadJob({ name: 'genrm', jobs: [job('x', '2026-03-22T10:00:00Z', 'other')] })).toBeUndefined();
  });
});
