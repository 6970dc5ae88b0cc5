import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GENRM_BIN, REPO_ROOT, runGenrm } from './helpers/cli.ts';

/** Whether a process of `uid` can read the CLI and its dependencies (to run `genrm` as that user). */
function canRunAs(uid: number): boolean {
  const probe = `const fs = require('node:fs'); for (const f of ${JSON.stringify([GENRM_BIN, join(REPO_ROOT, 'node_modules/tsx/package.json'), join(REPO_ROOT, 'src/cli/main.ts')])}) fs.accessSync(f, fs.constants.R_OK);`;
  try {
    execFileSync(process.execPath, ['-e', probe], { uid, gid: uid, cwd: tmpdir(), stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'genrm-synth-'));
}

/** Runs `genrm synth` on a config text; returns the result and what the output dir holds. */
async function synthWith(configText: string) {
  const dir = await scratch();
  const cfg = join(dir, 'config.yaml');
  await writeFile(cfg, configText);
  const out = join(dir, 'out');
  const r = await runGenrm(['synth', '--config', cfg, '--out', out]);
  const written = await readdir(out).catch(() => [] as string[]);
  const siblings = (await readdir(dir)).filter((f) => f !== 'config.yaml');
  return { ...r, written, siblings };
}

/** Each bad config, the key path its message must name, and a word of the reason. */
const INVALID: [string, string, string, RegExp][] = [
  ['replicas zero', 'replicas: 0', 'replicas', /at least 1/],
  ['replicas not a number', 'replicas: two', 'replicas', /expected number/],
  ['replicas fractional', 'replicas: 1.5', 'replicas', /whole number/],
  ['unknown top-level key', 'replica: 2', 'replica', /unknown key/],
  ['unknown nested key', 'vllm:\n  tensorParalelSize: 8', 'vllm.tensorParalelSize', /unknown key/],
  ['removed engine-ready timeout', 'vllm:\n  engineReadyTimeoutSeconds: 1800', 'vllm.engineReadyTimeoutSeconds', /removed: .*VLLM_ENGINE_READY_TIMEOUT_S.*v0\.12\.0.*probes\.startupTimeoutSeconds/],
  ['removed preStop sleep', 'drain:\n  preStopSeconds: 30', 'drain.preStopSeconds', /removed: .*\/drain.*drain\.maxSeconds/],
  ['empty model id', 'model:\n  id: ""', 'model.id', /empty/],
  ['image latest', 'vllm:\n  image: vllm/vllm-openai:latest', 'vllm.image', /not pinned/],
  ['image untagged', 'vllm:\n  image: vllm/vllm-openai', 'vllm.image', /no tag/],
  ['image bad digest', 'vllm:\n  image: vllm/vllm-openai@sha256:abc', 'vllm.image', /malformed digest/],
  ['max model len over 128k', 'vllm:\n  maxModelLen: 200000', 'vllm.maxModelLen', /131072/],
  ['gpu memory utilization over 1', 'vllm:\n  gpuMemoryUtilization: 1.2', 'vllm.gpuMemoryUtilization', /at most 1/],
  ['gpu memory utilization zero', 'vllm:\n  gpuMemoryUtilization: 0', 'vllm.gpuMemoryUtilization', /greater than 0/],
  ['port out of range', 'vllm:\n  port: 70000', 'vllm.port', /1\.\.65535/],
  ['managed flag --seed', 'vllm:\n  extraArgs: ["--seed=7"]', 'vllm.extraArgs[0]', /vllm\.seed/],
  ['managed flag --port', 'vllm:\n  extraArgs: ["--enforce-eager", "--port", "8000"]', 'vllm.extraArgs[1]', /vllm\.port/],
  ['managed flag --max-model-len', 'vllm:\n  extraArgs: ["--max-model-len=8192"]', 'vllm.extraArgs[0]', /vllm\.maxModelLen/],
  ['tensor parallel vs GPUs', 'vllm:\n  tensorParallelSize: 4', 'vllm.tensorParallelSize', /gpus\.perPod is 8/],
  ['namespace not a DNS label', 'namespace: RLHF_Team', 'namespace', /DNS label/],
  ['extraArgs not a list', 'vllm:\n  extraArgs: --enforce-eager', 'vllm.extraArgs', /expected array, got string \(write an array value\)/],
  ['a section not a mapping', 'vllm: 5', 'vllm', /expected object, got number \(write an object value\)/],
  ['existing claim missing', 'weights:\n  source: existingClaim', 'weights.existingClaim', /required/],
  ['host path relative', 'weights:\n  source: hostPath\n  hostPath: models', 'weights.hostPath', /absolute/],
  ['weights too small', 'weights:\n  storageGiB: 100', 'weights.storageGiB', /at least 500/],
  ['grace period too short', 'drain:\n  terminationGracePeriodSeconds: 10', 'drain.terminationGracePeriodSeconds', /drain may take drain.maxSeconds = 300 s.*at least 330/],
  ['grace period shorter than the drain', 'drain:\n  maxSeconds: 600\n  terminationGracePeriodSeconds: 400', 'drain.terminationGracePeriodSeconds', /at least 630/],
  ['a drain past the timer limit', 'drain:\n  maxSeconds: 3000000', 'drain.maxSeconds', /at most 2147483 seconds/],
  ['a stall time past the timer limit', 'gate:\n  stallSeconds: 99999999', 'gate.stallSeconds', /at most 2147483 seconds/],
  ['shm larger than memory', 'shm:\n  sizeGiB: 400', 'shm.sizeGiB', /memoryGiB/],
  ['startup budget too short', 'probes:\n  startupTimeoutSeconds: 10', 'probes.startupTimeoutSeconds', /60/],
  ['replicas on RWO storage', 'replicas: 2', 'weights.accessMode', /ReadWriteMany/],
  ['unknown strategy', 'rollout:\n  strategy: BlueGreen', 'rollout.strategy', /Recreate/],
  ['unknown profile', 'profile: a100', 'profile', /h100-tp8/],
  ['a profile for H200 with gpu h100-80gb', 'profile: h200-dp2-tp4\ngpu: h100-80gb', 'gpu', /is h100-80gb but profile h200-dp2-tp4 is for h200 nodes.*set gpu to h200 or remove gpu.*h100-tp8/],
  ['a profile for H100 with gpu h200', 'profile: h100-tp8\ngpu: h200', 'gpu', /is h200 but profile h100-tp8 is for h100-80gb nodes.*h200-tp8, h200-dp2-tp4/],
  ['autoscaling min above max', 'weights:\n  accessMode: ReadWriteMany\nautoscaling:\n  enabled: true\n  minReplicas: 5\n  maxReplicas: 2', 'autoscaling.minReplicas', /more than autoscaling\.maxReplicas/],
  ['scale to zero', 'weights:\n  accessMode: ReadWriteMany\nmonitoring:\n  enabled: true\nautoscaling:\n  enabled: true\n  minReplicas: 0', 'autoscaling.minReplicas', /proxy that holds requests/],
  ['autoscaling without monitoring', 'weights:\n  accessMode: ReadWriteMany\nautoscaling:\n  enabled: true', 'autoscaling.enabled', /monitoring\.enabled: true/],
  // What the apiserver, a webhook or the runtime would refuse.
  ['name starting with a digit (Service: DNS-1035)', 'name: 1genrm', 'name', /DNS-1035/],
  ['name with upper case', 'name: GenRM', 'name', /DNS-1035/],
  ['startup budget overflowing int32 thresholds', 'probes:\n  startupTimeoutSeconds: 1e15', 'probes.startupTimeoutSeconds', /at most 604800/],
  ['replicas beyond int32', 'replicas: 3000000000', 'replicas', /32-bit/],
  ['read throughput that overflows the budget', 'weights:\n  readMiBps: 0.0000001', 'weights.readMiBps', /at least 1/],
  ['read throughput too slow for any budget', 'weights:\n  readMiBps: 1', 'weights.readMiBps', /7 days/],
  ['image with upper case', 'vllm:\n  image: UPPER/Case:Tag', 'vllm.image', /lower case/],
  ['image without a name', 'vllm:\n  image: ":tag"', 'vllm.image', /not a valid image reference/],
  ['image with two tags', 'vllm:\n  image: a:b:c', 'vllm.image', /not a valid image reference/],
  ['gate image invalid', 'gate:\n  image: node:20@sha256:xyz', 'gate.image', /digest|image reference/],
  ['monitor label key', 'monitoring:\n  labels:\n    a/b/c: x', 'monitoring.labels.a/b/c', /not a label key/],
  ['monitor label value', 'monitoring:\n  labels:\n    release: "kube prometheus"', 'monitoring.labels.release', /not a label value/],
  ['node selector key', 'scheduling:\n  nodeSelector:\n    "-gpu": "yes"', 'scheduling.nodeSelector.-gpu', /not a label key/],
  ['gpu product with spaces', 'scheduling:\n  gpuProducts: ["NVIDIA H100 80GB"]', 'scheduling.gpuProducts[0]', /not a label value/],
  ['toleration key', 'scheduling:\n  tolerations: [{ key: "a b" }]', 'scheduling.tolerations[0].key', /not a label key/],
  ['pod label of allowed clients', 'networkPolicy:\n  allowPodLabels:\n    role: "trainer!"', 'networkPolicy.allowPodLabels.role', /not a label value/],
  ['unqualified extended resource', 'gpus:\n  resourceName: gpu', 'gpus.resourceName', /domain prefix/],
  ['kubernetes.io extended resource', 'gpus:\n  resourceName: kubernetes.io/gpu', 'gpus.resourceName', /reserved/],
  ['absurd cpu', 'resources:\n  cpu: 1e300', 'resources.cpu', /at most 4096/],
  ['cpu finer than a millicore', 'resources:\n  cpu: 0.0005', 'resources.cpu', /millicore/],
  ['storage class name', 'weights:\n  storageClassName: Fast_SSD', 'weights.storageClassName', /DNS subdomain/],
  ['gate port equal to the API port', 'gate:\n  port: 5000', 'gate.port', /same as vllm\.port/],
  ['zero scrape interval', 'monitoring:\n  interval: 0s', 'monitoring.interval', /at least 1s/],
  ['surge onto a spare node with a ReadWriteOnce volume', 'rollout:\n  spareNodes: 1', 'rollout.spareNodes', /cannot attach it/],
  ['a rolling update on a ReadWriteOnce volume', 'rollout:\n  strategy: RollingUpdate', 'rollout.strategy', /starts the new pod while the old one still drains/],
  ['per-replica volumes with Recreate', 'weights:\n  perReplica: true\nrollout:\n  strategy: Recreate', 'rollout.strategy', /StatefulSet/],
  ['autoscaled RWO weights', 'autoscaling:\n  enabled: true', 'weights.accessMode', /ReadWriteMany/],
  ['per-replica volumes with staged weights', 'weights:\n  source: hostPath\n  hostPath: /models\n  perReplica: true', 'weights.perReplica', /only applies to downloaded/],
  ['monitoring interval', 'monitoring:\n  interval: soon', 'monitoring.interval', /duration/],
  ['api key without secret name', 'apiKey:\n  key: token', 'apiKey.secretName', /expected string/],
];

describe('genrm synth rejects bad configs: exit 2, the key path, no stack trace, nothing written', () => {
  it.each(INVALID)('%s', async (_name, text, path, reason) => {
    const r = await synthWith(text);
    expect(r.exitCode).toBe(2);
    const line = r.stderr.split('\n').find((l) => l.includes(`${path}:`));
    expect(line, r.stderr).toBeDefined();
    expect(line).toMatch(reason);
    expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack frames
    expect(r.written).toEqual([]);
    expect(r.siblings).toEqual([]); // no temp dir left behind either
    expect(r.stdout).toBe('');
  });

  it('has at least 20 cases', () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(20);
  });

  it('synthesizes a 5s scrape interval (a timeout within the interval), not an internal error', async () => {
    const r = await synthWith('monitoring:\n  enabled: true\n  interval: 5s\n');
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.exitCode).toBe(0);
  });

  it('reports every problem of a file at once', async () => {
    const r = await synthWith('replicas: 0\nvllm:\n  port: 0\n  seeed: 3\n');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/replicas:/);
    expect(r.stderr).toMatch(/vllm\.port:/);
    expect(r.stderr).toMatch(/vllm\.seeed:/);
  });
});

describe('genrm synth: unreadable and malformed files', () => {
  it('a missing file', async () => {
    const r = await runGenrm(['synth', '--config', '/nonexistent/genrm.yaml', '--out', join(await scratch(), 'out')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent\/genrm\.yaml does not exist/);
  });

  it('an unreadable file', async (ctx) => {
    // Root reads any file, so as root the CLI runs as the unprivileged uid 65534, which must be
    // able to reach the checkout (not the case inside a mode-700 home folder).
    const asRoot = process.getuid?.() === 0;
    if (asRoot && !canRunAs(65534)) ctx.skip(`uid 65534 cannot read ${GENRM_BIN} (the checkout is inside a folder it may not enter); run as a non-root user to test this`);
    const dir = await scratch();
    const cfg = join(dir, 'c.yaml');
    await writeFile(cfg, 'replicas: 1\n');
    await chmod(cfg, 0o000);
    await chmod(dir, 0o755); // the folder open to all: only the file's own mode denies reading
    const r = await runGenrm(['synth', '--config', cfg, '--out', join(dir, 'out')], asRoot ? { uid: 65534, gid: 65534, cwd: tmpdir() } : {});
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not readable|permission/);
  });

  it('a loop of symbolic links', async () => {
    const dir = await scratch();
    await symlink('b.yaml', join(dir, 'a.yaml'));
    await symlink('a.yaml', join(dir, 'b.yaml'));
    const r = await runGenrm(['synth', '--config', join(dir, 'a.yaml'), '--out', join(dir, 'out')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(`genrm: config file ${join(dir, 'a.yaml')} is a loop of symbolic links (pass --config with the path of a YAML file)`);
  });

  it('a directory instead of a file', async () => {
    const dir = await scratch();
    const r = await runGenrm(['synth', '--config', dir, '--out', join(dir, 'out')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is a directory/);
  });

  it('a YAML syntax error, with its line', async () => {
    const r = await synthWith('replicas: 1\nvllm:\n  port: [5000\nname: x\n');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not valid YAML/);
    expect(r.stderr).toMatch(/line [34]/);
    expect(r.written).toEqual([]);
  });

  it('a document that is not a mapping', async () => {
    const r = await synthWith('- replicas: 1\n');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/holds a list, not a mapping/);
  });

  it('a scalar document', async () => {
    const r = await synthWith('hello\n');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/holds a string, not a mapping/);
  });

  it('an empty file means the defaults', async () => {
    const r = await synthWith('# nothing set\n');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.written).toEqual(['genrm.k8s.yaml']);
  });

  it('a bad option is a usage error', async () => {
    const r = await runGenrm(['synth', '--confg', 'x.yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--confg/);
  });
});

describe('an empty option value is a usage error, not the current folder or no file', () => {
  it.each([
    [['synth', '--out', ''], "synth: --out must not be empty"],
    [['synth', '--format', 'helm', '-o', ' '], "synth: --out must not be empty"],
    [['synth', '--config', ''], "synth: --config must not be empty"],
    [['plan', '-c', ''], "plan: --config must not be empty"],
    [['status', '--context', ''], "status: --context must not be empty"],
  ])('%j', async (args, message) => {
    const cwd = await scratch();
    const r = await runGenrm(args, { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`genrm: ${message}`);
    expect(await readdir(cwd)).toEqual([]);
  });
});

describe('genrm synth writes manifests', () => {
  it('writes the config into the output dir and keeps a previous output when a later config fails', async () => {
    const dir = await scratch();
    const out = join(dir, 'out');
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'name: judge\nnamespace: rlhf\n');
    const ok = await runGenrm(['synth', '--config', good, '--out', out]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const before = await readFile(join(out, 'genrm.k8s.yaml'), 'utf8');
    const docs = before.split(/^---$/m).map((d) => parse(d));
    expect(docs.find((d) => d.kind === 'Deployment').metadata.name).toBe('judge-server');

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'name: judge\nreplicas: -1\n');
    const failed = await runGenrm(['synth', '--config', bad, '--out', out]);
    expect(failed.exitCode).toBe(2);
    expect(await readFile(join(out, 'genrm.k8s.yaml'), 'utf8')).toBe(before);
  });
});

describe('genrm itself', () => {
  it('--help lists the commands', async () => {
    const r = await runGenrm(['--help']);
    expect(r.exitCode).toBe(0);
    for (const c of ['synth', 'smoke', 'gate', 'plan', 'apply', 'status']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\s`, 'm'));
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const r = await runGenrm(['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('an unknown command exits 2', async () => {
    const r = await runGenrm(['deploy']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'deploy'/);
  });

  it('synth --help', async () => {
    const r = await runGenrm(['synth', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/--config FILE/);
  });
});
