/**
 * Hardware profiles: named sets of defaults laid under the user's config before validation, so
 * that any key of a profile can still be overridden. The schema holds the base defaults; a
 * profile holds only what differs from them, with the reason.
 */
import type { ConfigInput } from './schema.ts';

type ProfileName = NonNullable<ConfigInput['profile']>;

export interface Profile {
  summary: string;
  defaults: ConfigInput;
}

export const PROFILES: Record<ProfileName, Profile> = {
  'h100-tp8': {
    summary: "The model card's layout: one tensor-parallel-8 engine per 8 x H100 80GB node.",
    defaults: { gpu: 'h100-80gb' },
  },
  'h200-tp8': {
    summary: 'One tensor-parallel-8 engine per 8 x H200 node: the most KV cache per engine (long contexts).',
    defaults: { gpu: 'h200', scheduling: { gpuProducts: ['NVIDIA-H200'] } },
  },
  'h200-dp2-tp4': {
    summary: 'Two tensor-parallel-4 engines per 8 x H200 node (data parallel 2): about twice the judgments per node.',
    defaults: {
      gpu: 'h200',
      vllm: { tensorParallelSize: 4, dataParallelSize: 2 },
      scheduling: { gpuProducts: ['NVIDIA-H200'] },
    },
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges `over` onto `base`: mappings merge, everything else (lists included) replaces. */
export function mergeDefaults(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(base[k]) ? mergeDefaults(base[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/**
 * A profile named in the document next to a `gpu` the profile is not for: the profile's other
 * defaults (node affinity to its GPU product, its parallel layout) would then contradict the
 * preflight and the capacity plan, which follow `gpu`. Returns the `path: message` problem, or
 * nothing when the document names no profile or no gpu (a profile's own gpu default applies), or
 * names an unknown one (the schema reports it).
 */
export function profileGpuProblem(doc: unknown): { path: string; message: string } | undefined {
  if (!isPlainObject(doc) || typeof doc.profile !== 'string' || typeof doc.gpu !== 'string') return undefined;
  if (!Object.hasOwn(PROFILES, doc.profile)) return undefined;
  const name = doc.profile as ProfileName;
  const profileGpu = PROFILES[name].defaults.gpu;
  if (profileGpu === undefined || profileGpu === doc.gpu) return undefined;
  const fitting = (Object.keys(PROFILES) as ProfileName[]).filter((n) => PROFILES[n].defaults.gpu === doc.gpu);
  const other = fitting.length > 0 ? `, or choose a profile for ${doc.gpu}: ${fitting.join(', ')}` : '';
  return {
    path: 'gpu',
    message: `is ${doc.gpu} but profile ${name} is for ${profileGpu} nodes (its node affinity and layout are ${profileGpu}'s): set gpu to ${profileGpu} or remove gpu to take the profile's${other}`,
  };
}

/**
 * Lays the chosen profile's defaults under a raw config document. An unknown profile name is left
 * for the schema to report.
 */
export function applyProfile(doc: unknown): unknown {
  if (!isPlainObject(doc)) return doc;
  const name = doc.profile ?? 'h100-tp8';
  // Own names only: `profile: constructor` must not find Object's machinery.
  const profile = typeof name === 'string' && Object.hasOwn(PROFILES, name) ? PROFILES[name as ProfileName] : undefined;
  if (!profile) return doc;
  return mergeDefaults(profile.defaults as Record<string, unknown>, doc);
}
