/**
 * The weights download script as the pod runs it (the synthesized ConfigMap's script and the
 * download-weights container's environment), with the real `huggingface_hub` of the vLLM venv
 * (0.36.0, what vLLM 0.12.0's requirements resolved to on the release day), against a stand-in of
 * the Hub's file API on 127.0.0.1 serving the tiny GenRM: the pinned revision, a transfer cut
 * mid-file and resumed, the shard check on a broken upload, and vLLM serving the downloaded
 * snapshot offline (HF_HUB_OFFLINE=1, as in the pod).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.ts';
import { DEFAULT_MODEL } from '../../src/genrm/request.ts';
import { synthesizeObjects } from '../../src/synth.ts';
import { startHubStandin, type HubStandin } from '../harness/hub-standin.ts';
import { stateDir } from '../harness/paths.ts';
import { ensureVllm, type VllmInstall } from '../harness/vllm-install.ts';
import { startVllm, type VllmServer } from '../harness/vllm.ts';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const CONFIG = { model: { revision: COMMIT } };
let install: VllmInstall;
let snapshot: string;
let script: string;
let podEnv: Record<string, string>;
let dir: string;
let hub: HubStandin | undefined;
let server: VllmServer | undefined;

beforeAll(async () => {
  install = await ensureVllm({ log: (l) => process.stderr.write(`${l}\n`) });
  snapshot = join(install.hfHome, 'hub', `models--${DEFAULT_MODEL.replace('/', '--')}`, 'snapshots', install.revision);
  const objects = (await synthesizeObjects(validateConfig(CONFIG))) as unknown as Record<string, any>[];
  const cm = objects.find((o) => o.kind === 'ConfigMap' && typeof o.data?.['download-weights.py'] === 'string')!;
  const pod = objects.find((o) => o.kind === 'Deployment')!.spec.template.spec;
  const container = pod.initContainers.find((c: { name: string }) => c.name === 'download-weights');
  podEnv = Object.fromEntries(container.env.flatMap((e: { name: string; value?: string }) => (e.value === undefined ? [] : [[e.name, e.value]])));
  dir = mkdtempSync(join(tmpdir(), 'genrm-e2e-download-'));
  script = join(dir, 'download-weights.py');
  writeFileSync(script, cm.data['download-weights.py']);
});

afterEach(async () => {
  await hub?.stop();
  hub = undefined;
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The shards the tiny model's index names, in order. */
function shards(): string[] {
  const index = JSON.parse(readFileSync(join(snapshot, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  return [...new Set(Object.values(index.weight_map))].sort();
}

async function download(name: string) {
  const home = join(dir, name, 'hf');
  const marker = join(dir, name, '.genrm', 'complete');
  const r = await execa(install.python, [script], {
    reject: false,
    timeout: 120_000,
    extendEnv: false,
    env: { ...podEnv, PATH: '/usr/bin:/bin', HF_HOME: home, GENRM_COMPLETE_MARKER: marker, HF_ENDPOINT: hub!.endpoint, GENRM_DOWNLOAD_STALL_SECONDS: '30' },
  });
  return { ...r, home, marker: existsSync(marker) ? readFileSync(marker, 'utf8') : undefined };
}

describe('download-weights.py with the real huggingface_hub', () => {
  it('downloads the pinned revision, resumes a transfer cut mid-file, checks the shards and writes the marker', async () => {
    expect(podEnv).toMatchObject({ GENRM_MODEL_ID: DEFAULT_MODEL, GENRM_MODEL_REVISION: COMMIT });
    const hubVersion = await execa(install.python, ['-c', 'import huggingface_hub; print(huggingface_hub.__version__)']);
    expect(String(hubVersion.stdout).trim()).toBe('0.36.0');
    hub = await startHubStandin({ repo: DEFAULT_MODEL, commit: COMMIT, folder: snapshot });
    const [shard] = shards();
    // Past huggingface_hub's 10 MB chunk: what was written before the cut is kept.
    hub.cutAfter.set(shard, 12 * 1024 * 1024);
    // The first attempt: the connection drops mid-file; huggingface_hub 0.36.0 raises, the script
    // fails the attempt with the retry code and leaves the partial file.
    const cut = await download('ok');
    expect(cut.exitCode, String(cut.stderr)).toBe(75);
    expect(String(cut.stderr)).toMatch(/was interrupted \(ChunkedEncodingError: .*IncompleteRead.*\); failing this attempt so that the Job retries and resumes it/);
    expect(cut.marker).toBeUndefined();
    // The retry (the Job's, or the init container's restart) resumes it.
    const r = await download('ok');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(r.marker).toMatch(new RegExp(`^${DEFAULT_MODEL}@${COMMIT}\\n.*\\n\\d+ shards, \\d+ bytes\\n$`));
    // Only the pinned commit was asked for, never a branch.
    expect(hub.requests.filter((q) => q.includes('/revision/') || q.includes('/resolve/')).every((q) => q.includes(COMMIT))).toBe(true);
    // The cut transfer resumed where it stopped, and the file is whole.
    const gets = hub.requests.filter((q) => q.startsWith(`GET /${DEFAULT_MODEL}/resolve/${COMMIT}/${shard}`));
    expect(gets.length).toBe(2);
    expect(gets[1]).toMatch(/ bytes=(\d+)-$/);
    expect(Number(/bytes=(\d+)-/.exec(gets[1])![1])).toBeGreaterThan(0);
    const got = readFileSync(join(r.home, 'hub', `models--${DEFAULT_MODEL.replace('/', '--')}`, 'snapshots', COMMIT, shard));
    expect(got.equals(readFileSync(join(snapshot, shard)))).toBe(true);
  });

  it('refuses a snapshot whose shard is shorter than its header says: exit 1, no marker', async () => {
    const shard = shards().at(-1)!;
    const whole = readFileSync(join(snapshot, shard));
    hub = await startHubStandin({ repo: DEFAULT_MODEL, commit: COMMIT, folder: snapshot, replace: { [shard]: whole.subarray(0, whole.length - 1000) } });
    const r = await download('broken');
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(new RegExp(`${shard}: ${whole.length - 1000} bytes where its header describes ${whole.length}`));
    expect(r.marker).toBeUndefined();
  });

  it('vLLM serves the downloaded snapshot offline, as the pod does, and it judges', async () => {
    const home = join(dir, 'ok', 'hf');
    expect(existsSync(join(dir, 'ok', '.genrm', 'complete'))).toBe(true);
    server = await startVllm({ config: CONFIG, hfHome: home, dir: join(stateDir(), 'tests', 'download'), log: (l) => process.stderr.write(`${l}\n`) });
    expect(server.env).toMatchObject({ HF_HUB_OFFLINE: '1', HF_HOME: home });
    expect(server.args.join(' ')).toContain(`--revision ${COMMIT}`);
    const smoke = await execa('node', [join(process.cwd(), 'bin/genrm.mjs'), 'smoke', '--base-url', server.url], { reject: false, env: { GENRM_API_KEY: '' } });
    expect(smoke.exitCode, String(smoke.stderr)).toBe(0);
    expect(readFileSync(server.logFile, 'utf8')).toContain(join(home, 'hub'));
  });
});
