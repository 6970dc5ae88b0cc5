/**
 * networkPolicy.downloadEgressCidrs restricts the download Job's egress. With ReadWriteOnce or
 * per-replica weights there is no Job: the server pod downloads the weights itself, and its
 * policy isolates ingress only. A custom CIDR list would silently restrict nothing: synth must
 * refuse it (exit 2, the key named), and keep accepting it where a download Job exists.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkRules } from '../src/config/rules.ts';
import { configSchema } from '../src/config/schema.ts';
import { find, synth } from './helpers/manifests.ts';
import { runGenrm } from './helpers/cli.ts';

const CIDRS = ['10.0.0.0/8', '2001:db8::/32'];
const egressProblems = (raw: unknown) => checkRules(configSchema.parse(raw)).filter((p) => p.path === 'networkPolicy.downloadEgressCidrs');

describe('networkPolicy.downloadEgressCidrs', () => {
  it('is refused where the download runs in the server pod (ReadWriteOnce, ReadWriteOncePod, per-replica)', () => {
    for (const weights of [{}, { accessMode: 'ReadWriteOncePod' }, { accessMode: 'ReadWriteMany', perReplica: true }]) {
      const problems = egressProblems({ weights, networkPolicy: { enabled: true, downloadEgressCidrs: CIDRS } });
      expect(problems, JSON.stringify(weights)).toHaveLength(1);
      expect(problems[0].message).toMatch(/download runs in the server pod/);
    }
  });

  it('is accepted, and applied to the download Job, with ReadWriteMany weights', async () => {
    const raw = { weights: { accessMode: 'ReadWriteMany' }, networkPolicy: { enabled: true, downloadEgressCidrs: CIDRS } };
    expect(egressProblems(raw)).toEqual([]);
    const policy = find(await synth(raw as any), 'NetworkPolicy', 'genrm-weights-download');
    const cidrs = policy.spec.egress.flatMap((r: any) => (r.to ?? []).map((t: any) => t.ipBlock?.cidr)).filter(Boolean);
    expect(cidrs).toEqual(CIDRS);
  });

  it('leaves the default, staged weights and a disabled policy alone', () => {
    expect(egressProblems({ networkPolicy: { enabled: true } })).toEqual([]);
    expect(egressProblems({ networkPolicy: { enabled: false, downloadEgressCidrs: CIDRS } })).toEqual([]);
    expect(egressProblems({ weights: { source: 'existingClaim', existingClaim: 'staged' }, networkPolicy: { enabled: true, downloadEgressCidrs: CIDRS } })).toEqual([]);
  });

  it('synth exits 2 naming the key, without a stack trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genrm-egress-'));
    const file = join(dir, 'config.yaml');
    await writeFile(file, stringify({ networkPolicy: { enabled: true, downloadEgressCidrs: CIDRS } }));
    const r = await runGenrm(['synth', '--config', file, '--out', join(dir, 'out')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/networkPolicy\.downloadEgressCidrs: restricts only a separate download Job/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
