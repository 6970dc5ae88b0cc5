/**
 * A named profile and a `gpu` it is not for: refused before anything is synthesized, naming both
 * keys and the fix. (Before, `profile: h200-dp2-tp4` with `gpu: h100-80gb` synthesized an H200
 * node affinity with an H100 preflight and capacity plan.)
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load.ts';
import { PROFILES } from '../src/config/profiles.ts';
import { GPU_NAMES } from '../src/config/schema.ts';
import { configProblems } from './helpers/manifests.ts';

describe('a profile and a gpu', () => {
  it('refuses profile h200-dp2-tp4 with gpu h100-80gb, naming both keys and the fix', () => {
    expect(configProblems({ profile: 'h200-dp2-tp4', gpu: 'h100-80gb' })).toEqual([
      "gpu: is h100-80gb but profile h200-dp2-tp4 is for h200 nodes (its node affinity and layout are h200's): set gpu to h200 or remove gpu to take the profile's, or choose a profile for h100-80gb: h100-tp8",
    ]);
  });

  it('accepts every profile with its own gpu, or with none (the profile sets it)', () => {
    for (const [name, profile] of Object.entries(PROFILES)) {
      expect(validateConfig({ profile: name, gpu: profile.defaults.gpu }).gpu).toBe(profile.defaults.gpu);
      expect(validateConfig({ profile: name }).gpu).toBe(profile.defaults.gpu);
    }
  });

  it('refuses every other pairing of a named profile and a gpu, and only those', () => {
    for (const [name, profile] of Object.entries(PROFILES)) {
      for (const gpu of GPU_NAMES) {
        const found = configProblems({ profile: name, gpu }).filter((p) => p.startsWith('gpu:'));
        if (gpu === profile.defaults.gpu) expect(found).toEqual([]);
        else expect(found, `${name} + ${gpu}`).toEqual([expect.stringContaining(`profile ${name} is for ${profile.defaults.gpu} nodes`)]);
      }
    }
  });

  it('leaves a gpu without a named profile alone, and an unknown profile to the schema', () => {
    expect(validateConfig({ gpu: 'h200' }).gpu).toBe('h200');
    expect(configProblems({ profile: 'a100', gpu: 'h200' })).toEqual([expect.stringMatching(/^profile: must be one of/)]);
  });
});
