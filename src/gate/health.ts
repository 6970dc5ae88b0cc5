/**
 * A cheap "does the server answer now" probe of vLLM's /health, cached for a short time, with
 * concurrent callers sharing one in-flight request: a burst of probes costs one GET.
 */
import { request } from '../genrm/client.ts';
import type { FailureKind } from '../genrm/result.ts';

export type HealthResult = { ok: true } | { ok: false; kind: FailureKind; reason: string };

export interface HealthProbeOptions {
  url: string;
  apiKey?: string;
  /** @default 2000 */
  cacheMs?: number;
  /** @default 1000 (kubelet probes time out after 1 s by default) */
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface HealthProbe {
  check(): Promise<HealthResult>;
  /** GETs actually sent (for tests and benchmarks). */
  readonly requests: number;
}

export function createHealthProbe(options: HealthProbeOptions): HealthProbe {
  const cacheMs = options.cacheMs ?? 2000;
  const timeoutMs = options.timeoutMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  let cached: { atMs: number; result: HealthResult } | null = null;
  let inflight: Promise<HealthResult> | null = null;
  let requests = 0;

  async function probe(): Promise<HealthResult> {
    requests++;
    const answer = await request('GET', options.url, undefined, { apiKey: options.apiKey, timeoutMs, fetch: options.fetch });
    const result: HealthResult = answer.ok ? { ok: true } : { ok: false, kind: answer.kind, reason: answer.reason };
    cached = { atMs: now(), result };
    return result;
  }

  return {
    check() {
      if (cached && now() - cached.atMs < cacheMs) return Promise.resolve(cached.result);
      inflight ??= probe().finally(() => {
        inflight = null;
      });
      return inflight;
    },
    get requests() {
      return requests;
    },
  };
}
