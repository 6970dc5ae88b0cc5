/**
 * The judge gate as the pod runs it: the bundle from the synthesized `genrm-gate` ConfigMap, run by
 * `node gate.mjs` with the judge-gate container's environment, pointed at a vLLM started here. Only
 * the addresses change (the server's URL, 127.0.0.1 and a free port instead of 0.0.0.0:8081), plus
 * what a test passes on top.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { synthesizeObjects } from '../../src/synth.ts';
import { startGateProcess, type GateProcess } from '../../test/helpers/gate-process.ts';

interface Container {
  name: string;
  command: string[];
  env?: { name: string; value?: string }[];
}

/** The gate bundle and the judge-gate container's plain environment of a config. */
export async function synthesizedGate(config: ConfigInput = {}): Promise<{ bundle: string; env: Record<string, string> }> {
  const objects = (await synthesizeObjects(validateConfig(config))) as unknown as Record<string, any>[];
  const cm = objects.find((o) => o.kind === 'ConfigMap' && typeof o.data?.['gate.mjs'] === 'string');
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const gate = (deployment?.spec.template.spec.initContainers as Container[] | undefined)?.find((c) => c.name === 'judge-gate');
  if (!cm || !gate) throw new Error('the synthesized manifests have no genrm-gate ConfigMap or judge-gate container');
  const env = Object.fromEntries((gate.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
  return { bundle: cm.data['gate.mjs'] as string, env };
}

/** Starts the pod's gate against `baseUrl`; `env` adds to or replaces the pod's variables. */
export async function startPodGate(baseUrl: string, config: ConfigInput = {}, env: Record<string, string> = {}): Promise<GateProcess & { env: Record<string, string> }> {
  const { bundle, env: podEnv } = await synthesizedGate(config);
  const dir = mkdtempSync(join(tmpdir(), 'genrm-pod-gate-'));
  const file = join(dir, 'gate.mjs');
  writeFileSync(file, bundle);
  const all = { ...podEnv, GENRM_GATE_BASE_URL: baseUrl, GENRM_GATE_HOST: '127.0.0.1', GENRM_GATE_PORT: '0', ...env };
  const gate = await startGateProcess([file], all);
  return Object.assign(gate, { env: all });
}

/**
 * A gate for a busy server in a test: fast rechecks (3 s) and a short request timeout (4 s), so that
 * a queue of judgments of a few seconds each outlasts it; the drain may take `drainMaxSeconds`.
 */
export function busyGateEnv(drainMaxSeconds: number): Record<string, string> {
  return {
    GENRM_GATE_ALLOW_FAST_RECHECK: '1',
    GENRM_GATE_RECHECK_SECONDS: '3',
    GENRM_GATE_REQUEST_TIMEOUT_SECONDS: '4',
    GENRM_GATE_DRAIN_MAX_SECONDS: String(drainMaxSeconds),
  };
}
