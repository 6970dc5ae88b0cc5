/**
 * The cluster harness itself: the nodes carry what GPU feature discovery and the device plugin put
 * on real GPU nodes, the server reports the pinned release, every server listens on 127.0.0.1
 * only, and `npm run e2e:cluster -- up|down` starts and stops a cluster of its own by PID.
 */
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { alive } from '../harness/processes.ts';
import { repoRoot } from '../harness/paths.ts';
import { KUBERNETES_VERSION } from '../harness/versions.ts';
import { getJson, kubectl } from './cluster-helpers.ts';

/** Local addresses (ip:port) of the TCP sockets a process listens on, from /proc. */
function listening(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link = '';
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]);
  }
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A = LISTEN
      if (cols.length > 9 && cols[3] === '0A' && inodes.has(cols[9])) {
        const [hex, port] = cols[1].split(':');
        const ip = hex.length === 8 ? hex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.') : `[${hex}]`;
        out.push(`${ip}:${parseInt(port, 16)}`);
      }
    }
  }
  return out;
}

describe('the test cluster', () => {
  it('lists the fake GPU nodes with the GPU feature discovery labels, capacity and taint', async () => {
    const nodes = await getJson<{ items: any[] }>(['nodes']);
    const byName = Object.fromEntries(nodes.items.map((n) => [n.metadata.name, n]));
    expect(Object.keys(byName).sort()).toEqual(['a100-0', 'cpu-0', 'h100-0', 'h100-1', 'h200-0']);
    const h100 = byName['h100-0'];
    expect(h100.metadata.labels).toMatchObject({
      'nvidia.com/gpu.family': 'hopper',
      'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3',
      'nvidia.com/gpu.count': '8',
      'nvidia.com/gpu.memory': '81559',
    });
    expect(byName['h200-0'].metadata.labels['nvidia.com/gpu.product']).toBe('NVIDIA-H200');
    expect(byName['a100-0'].metadata.labels['nvidia.com/gpu.family']).toBe('ampere');
    expect(h100.status.capacity['nvidia.com/gpu']).toBe('8');
    expect(h100.status.allocatable['nvidia.com/gpu']).toBe('8');
    expect(h100.spec.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
    expect(byName['cpu-0'].status.capacity['nvidia.com/gpu']).toBeUndefined();
    expect(byName['cpu-0'].spec.taints).toBeUndefined();
    for (const node of nodes.items) {
      expect(node.status.conditions.find((c: any) => c.type === 'Ready')?.status, node.metadata.name).toBe('True');
    }
  });

  it('reports the pinned Kubernetes release on the client and the server', async () => {
    const version = JSON.parse((await kubectl(['version', '-o', 'json'])).stdout);
    expect(version.serverVersion.gitVersion).toBe(KUBERNETES_VERSION);
    expect(version.clientVersion.gitVersion).toBe(KUBERNETES_VERSION);
  });

  it('runs every server on 127.0.0.1 only', () => {
    const run = join(inject('cluster').stateDir, 'cluster', 'run');
    const pids = readdirSync(run).filter((f) => f.endsWith('.pid'));
    expect(pids.map((f) => f.replace('.pid', '')).sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'lws-controller']);
    for (const f of pids) {
      const pid = Number(readFileSync(join(run, f), 'utf8'));
      for (const address of listening(pid)) expect(address, f).toMatch(/^127\.0\.0\.1:\d+$/);
    }
  });
});

describe('npm run e2e:cluster', () => {
  const cli = (args: string[], state: string) =>
    execa('npx', ['tsx', join(repoRoot, 'e2e/harness/cluster-cli.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, GENRM_E2E_STATE: state },
      reject: false,
      timeout: 300_000,
    });

  it('refuses a bad --nodes with exit 2 and names the bad part', async () => {
    const r = await cli(['up', '--nodes', 'h100:1,tpu:2'], mkdtempSync(join(tmpdir(), 'genrm-e2e-state-')));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('"tpu:2" is not <kind>[:<count>]');
  });

  it('starts a cluster with the nodes asked for, writes its kubeconfig, and down stops every process by PID', async () => {
    const state = mkdtempSync(join(tmpdir(), 'genrm-e2e-state-'));
    try {
      const upRun = await cli(['up', '--nodes', 'h200:1'], state);
      expect(upRun.exitCode, upRun.stderr).toBe(0);
      expect(upRun.stdout).toContain(`export KUBECONFIG=${join(state, 'kubeconfig')}`);
      const nodes = await execa('kubectl', ['--kubeconfig', join(state, 'kubeconfig'), 'get', 'nodes', '-o', 'name'], { env: { PATH: inject('cluster').env.PATH } });
      expect(nodes.stdout.trim()).toBe('node/h200-0');
      const run = join(state, 'cluster', 'run');
      const pids = readdirSync(run).filter((f) => f.endsWith('.pid')).map((f) => Number(readFileSync(join(run, f), 'utf8')));
      expect(pids).toHaveLength(6);
      expect(pids.every(alive)).toBe(true);
      const downRun = await cli(['down'], state);
      expect(downRun.exitCode).toBe(0);
      expect(downRun.stdout).toMatch(/^stopped .*kube-apiserver/);
      expect(pids.filter(alive)).toEqual([]);
      expect(existsSync(join(state, 'cluster'))).toBe(false);
      expect(existsSync(join(state, 'kubeconfig'))).toBe(false);
    } finally {
      await cli(['down'], state);
      rmSync(state, { recursive: true, force: true });
    }
  });
});
