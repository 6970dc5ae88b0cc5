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
