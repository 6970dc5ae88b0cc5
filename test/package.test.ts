/**
 * The package as users get it: `npm pack`, installed offline into a fresh project outside the
 * repository. A cdk8s app there composes `Genrm` into its own chart and gets the objects `genrm
 * synth` writes; the installed `genrm` runs from compiled JavaScript, with neither tsx nor esbuild.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig, parseYaml } from '../src/config/load.ts';
import { UserError } from '../src/cli/errors.ts';
import { synthToText } from '../src/synth.ts';
import { REPO_ROOT } from './helpers/cli.ts';
import { installTarball, npmPack } from './helpers/package.ts';

type Json = { kind: string; metadata: { name: string }; [k: string]: unknown };

const USER_APP = `
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Genrm } from 'genrm-deploy';

const [props, outdir] = [JSON.parse(process.argv[2]), process.argv[3]];
const app = new App({ outdir });
const chart = new Chart(app, 'platform');
new kplus.ConfigMap(chart, 'team-settings', { metadata: { name: 'team-settings' }, data: { owner: 'ml-platform' } });
const genrm = new Genrm(chart, 'reward-model', props);
app.synth();
process.stdout.write(JSON.stringify({ baseUrl: genrm.baseUrl, selector: genrm.selector }));
`;

const TYPED_APP = `
import { App, Chart } from 'cdk8s';
import { Genrm, type GenrmProps, type JudgeCheckResult, parseConfig, planFromConfig, runJudgeCheck } from 'genrm-deploy';

const props: GenrmProps = { replicas: 2, vllm: { port: 8000 } };
const genrm = new Genrm(new Chart(new App(), 'platform'), 'reward-model', props);
const url: string = genrm.baseUrl;
const fits: boolean = planFromConfig(parseConfig({})).fits;
const check: (o: { baseUrl: string }) => Promise<JudgeCheckResult> = runJudgeCheck;
// @ts-expect-error replicas is a number
const wrong: GenrmProps = { replicas: 'two' };
export { url, fits, check, wrong };
`;

let root: string;
let appDir: string;

/** Objects of a multi-document YAML file. */
async function objectsOf(file: string): Promise<Json[]> {
  return parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJS() as Json);
}

function genrm(args: string[], cwd = appDir) {
  return execa(join(appDir, 'node_modules/.bin/genrm'), args, { cwd, reject: false, timeout: 60_000, env: { NODE_OPTIONS: '' } });
}

/** Every folder name under node_modules, at any depth. */
async function folderNames(dir: string): Promise<Set<string>> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'genrm-package-'));
  const tarball = await npmPack(root);
  appDir = join(root, 'app');
  await installTarball(tarball, appDir);
  await writeFile(join(appDir, 'app.mjs'), USER_APP);
}, 180_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('holds compiled JavaScript and declarations, no TypeScript sources, and neither tsx nor esbuild', async () => {
    const pkgDir = join(appDir, 'node_modules/genrm-deploy');
    const files = (await readdir(pkgDir, { recursive: true })).map(String);
    expect(files).toContain(join('lib', 'src', 'index.js'));
    expect(files).toContain(join('lib', 'src', 'index.d.ts'));
    expect(files).toContain(join('lib', 'src', 'constructs', 'programs', 'gate.mjs'));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(existsSync(join(pkgDir, 'src'))).toBe(false);
    // package.json's licence, Apache-2.0, ships as its text.
    expect(JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')).license).toBe('Apache-2.0');
    const licence = await readFile(join(pkgDir, 'LICENSE'), 'utf8');
    expect(licence).toBe(await readFile(join(REPO_ROOT, 'LICENSE'), 'utf8'));
    expect(licence).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004\s+http:\/\/www\.apache\.org\/licenses\//);
    const names = await folderNames(join(appDir, 'node_modules'));
    for (const tool of ['tsx', 'esbuild', '@esbuild', 'typescript', 'vitest']) expect(names.has(tool), tool).toBe(false);
  });

  it.each(['h100-single-node.yaml', 'multi-node-2x4.yaml'])(
    '%s: a cdk8s app composing Genrm next to its own object synthesizes what `genrm synth` writes',
    async (example) => {
      const configFile = join(REPO_ROOT, 'examples', example);
      const props = parseYaml(await readFile(configFile, 'utf8'), example);
      const out = join(root, `user-${example}`);
      const app = await execa('node', ['app.mjs', JSON.stringify(props ?? {}), out], { cwd: appDir, reject: false, timeout: 60_000 });
      expect(app.stderr).toBe('');
      expect(app.exitCode).toBe(0);
      const userObjects = await objectsOf(join(out, 'platform.k8s.yaml'));
      expect(userObjects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'team-settings')).toHaveLength(1);
      const genrmObjects = userObjects.filter((o) => !(o.kind === 'ConfigMap' && o.metadata.name === 'team-settings'));

      const cliOut = join(root, `cli-${example}`);
      const cli = await genrm(['synth', '--config', configFile, '--out', cliOut]);
      expect(cli.exitCode).toBe(0);
      const cliObjects = await objectsOf(join(cliOut, 'genrm.k8s.yaml'));
      expect(genrmObjects).toEqual(cliObjects);

      // And the compiled package writes what the repository's sources write.
      const fromSources = (await synthToText(await loadConfig(configFile)))['genrm.k8s.yaml'];
      expect(await readFile(join(cliOut, 'genrm.k8s.yaml'), 'utf8')).toBe(fromSources);

      const { baseUrl, selector } = JSON.parse(app.stdout) as { baseUrl: string; selector: Record<string, string> };
      const service = genrmObjects.find((o) => o.kind === 'Service' && (o.spec as { selector?: unknown }).selector !== undefined)!;
      expect((service.spec as { selector: unknown }).selector).toEqual(selector);
      expect(baseUrl).toMatch(/^http:\/\/[a-z0-9-]+\.genrm\.svc:\d+\/v1$/);
    },
  );

  it('invalid props throw from the user app with the field named, worded as the CLI', async () => {
    const app = await execa('node', ['app.mjs', JSON.stringify({ replicas: 0, vllm: { port: 'http' } }), join(root, 'bad')], {
      cwd: appDir,
      reject: false,
      timeout: 60_000,
    });
    expect(app.exitCode).not.toBe(0);
    expect(app.stderr).toContain("genrm: the config of Genrm 'reward-model' is not valid");
    expect(app.stderr).toMatch(/^ {2}- replicas: /m);
    expect(app.stderr).toMatch(/^ {2}- vllm\.port: /m);
    expect(existsSync(join(root, 'bad', 'platform.k8s.yaml'))).toBe(false);
  });

  it("README's library example runs as written", async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const code = /<!-- library-example[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toContain("from 'genrm-deploy'");
    const dir = join(appDir, 'readme');
    await mkdir(dir);
    await writeFile(join(dir, 'example.mjs'), code!);
    const r = await execa('node', ['example.mjs'], { cwd: dir, reject: false, timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const objects = await objectsOf(join(dir, 'dist', 'platform.k8s.yaml'));
    expect(objects.find((o) => o.kind === 'Namespace' && o.metadata.name === 'team-a')).toBeDefined();
    expect(objects.find((o) => o.kind === 'Deployment')).toBeDefined();
    const settings = objects.find((o) => o.kind === 'ConfigMap' && (o.data as Record<string, string> | undefined)?.REWARD_URL);
    expect(settings?.data).toEqual({ REWARD_URL: 'http://genrm.genrm.svc:5000/v1' });
  });

  it('its declarations type-check a TypeScript user app (props typed, wrong types refused)', async () => {
    await writeFile(join(appDir, 'typed.ts'), TYPED_APP);
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    // skipLibCheck: checking cdk8s-plus-28's own declarations would take 20 s here.
    const compilerOptions = { noEmit: true, strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: true, types: [] };
    await writeFile(join(appDir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['typed.ts'] }));
    const r = await execa('node', [tsc, '-p', 'tsconfig.json'], { cwd: appDir, reject: false, timeout: 60_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });
});

describe('the installed genrm command', () => {
  it('runs from its bundle, lib/cli/: only the peer dependencies and Node built-ins outside it, each module finding its files where they are in lib/, zod with its English messages only', async () => {
    const pkgDir = join(appDir, 'node_modules/genrm-deploy');
    expect(await readFile(join(pkgDir, 'bin/genrm.mjs'), 'utf8')).toContain("import('../lib/cli/genrm.js')");
    const cliDir = join(pkgDir, 'lib/cli');
    const names = await readdir(cliDir);
    expect(names).toContain('genrm.js');
    const texts = await Promise.all(names.map((n) => readFile(join(cliDir, n), 'utf8')));
    const all = texts.join('\n');
    // esbuild writes one statement a line: `import { x } from "y";`, `import "y";`, `import("y")`.
    const patterns = [/^(?:import|export)\b[^;]*?\sfrom\s"([^"]+)";$/gm, /^import\s"([^"]+)";$/gm, /\bimport\("([^"]+)"\)/g];
    const specifiers = new Set(patterns.flatMap((re) => [...all.matchAll(re)].map((m) => m[1])));
    const outside = [...specifiers].filter((s) => !s.startsWith('./') && !isBuiltin(s));
    expect(new Set(outside)).toEqual(new Set(['cdk8s', 'cdk8s-plus-28', 'constructs']));
    for (const s of specifiers) if (s.startsWith('./')) expect(names, s).toContain(s.slice(2));
    // The weights download script and the prebuilt gate and preflight programs, read beside the
    // modules that need them.
    const ownUrls = [...all.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)].map((m) => m[1]);
    expect(ownUrls).toEqual(expect.arrayContaining(['../src/constructs/model-weights.js', '../src/constructs/bundle.js']));
    for (const u of ownUrls) expect(existsSync(join(cliDir, u)), u).toBe(true);
    const locales = [...all.matchAll(/^\/\/ \S*zod\/v4\/locales\/(\S+)$/gm)].map((m) => m[1]);
    expect(locales).toEqual(['en.js']);
  });

  it("refuses a bad config with zod's own English messages, as the sources do", async () => {
    const bad = join(appDir, 'bad-types.yaml');
    await writeFile(bad, 'replicas: many\ngpu: tpu\nvllm: {seed: one}\n');
    const r = await genrm(['synth', '--config', bad, '--out', 'never']);
    expect(r.exitCode).toBe(2);
    const problems = await loadConfig(bad).then(
      () => [] as string[],
      (e: unknown) => (e instanceof UserError ? e.problems : []),
    );
    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(problems.join('\n')).toMatch(/expected number, got string/);
    expect(r.stderr.split('\n')).toEqual(expect.arrayContaining(problems.map((p) => `  - ${p}`)));
  });


  it('prints its help and version', async () => {
    const help = await genrm(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: genrm <command>');
    const version = await genrm(['--version']);
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
    for (const command of ['synth', 'plan', 'smoke', 'eval', 'gate', 'apply', 'status', 'diff', 'logs', 'delete']) {
      const r = await genrm([command, '--help']);
      expect(r.exitCode, command).toBe(0);
      expect(r.stdout, command).toContain(`Usage: genrm ${command}`);
    }
  });

  it('plans and synthesizes from the examples it ships, and refuses a bad config with exit 2', async () => {
    const examples = join(appDir, 'node_modules/genrm-deploy/examples');
    const plan = await genrm(['plan', '--config', join(examples, 'h200-dp2-tp4.yaml')]);
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toMatch(/Verdict: fits/);
    const synth = await genrm(['synth', '--out', 'dist']);
    expect(synth.exitCode).toBe(0);
    expect(synth.stdout).toContain('wrote dist/genrm.k8s.yaml');
    await writeFile(join(appDir, 'bad.yaml'), 'replicas: many\n');
    const bad = await genrm(['synth', '--config', 'bad.yaml', '--out', 'bad-out']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^ {2}- replicas: /m);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(appDir, 'bad-out'))).toBe(false);
  });
});
