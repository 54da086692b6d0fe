/**
 * Additive noise on a grid of levels, the robustness curves of Li et al. (2019, Fig. 4) as the descendant
 * code (elieattias1/pixel-reg) evaluates them: Gaussian, uniform and salt-and-pepper noise at a level ε,
 * each result clipped to the image's own [min, max] (not to [0, 1]), on 10 levels linspace(0, 0.5) for
 * (Fashion-)MNIST. Our reading of that code (new-families.md §3), stated because its exact parameterisation
 * is not in the paper:
 * - gaussian: x + ε·N(0, 1);
 * - uniform: x + U(−ε, ε);
 * - salt-and-pepper: each pixel, with probability ε, set to the image's max or min (equally likely).
 * Seeded per image (`rng.split(<kind>-<level>-<i>)`), so image i gets the same noise whatever else is noised.
 */
import { SpecError } from '../base/errors.js';
import type { Rng } from '../base/rng.js';
import { makeDataset, type Dataset } from './dataset.js';

export const NOISE_KINDS = ['gaussian', 'uniform', 'salt-and-pepper'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

/** n levels evenly spaced from 0 to max inclusive (numpy's linspace). */
export function linspace(max: number, n: number): number[] {
  if (!(Number.isInteger(n) && n >= 2)) throw new SpecError('levels', `must be an integer ≥ 2, got ${n}`);
  return Array.from({ length: n }, (_, i) => (max * i) / (n - 1));
}

export function noisyImage(image: Float32Array, kind: NoiseKind, level: number, rng: Rng): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const clip = (v: number) => Math.min(hi, Math.max(lo, v));
  switch (kind) {
    case 'gaussian':
      return Float32Array.from(image, (v) => clip(v + level * rng.normal()));
    case 'uniform':
      return Float32Array.from(image, (v) => clip(v + level * (2 * rng.uniform() - 1)));
    case 'salt-and-pepper':
      return Float32Array.from(image, (v) => (rng.uniform() < level ? (rng.uniform() < 0.5 ? hi : lo) : v));
  }
}

export function noisyDataset(dataset: Dataset, kind: NoiseKind, level: number, rng: Rng): Dataset {
  if (!(level >= 0)) throw new SpecError('level', `noise level must be ≥ 0, got ${level}`);
  const pixels = dataset.height * dataset.width;
  const images = new Float32Array(dataset.images.length);
  for (let i = 0; i < dataset.count; i++) {
    images.set(noisyImage(dataset.images.subarray(i * pixels, (i + 1) * pixels), kind, level, rng.split(`${kind}-${level}-${i}`)), i * pixels);
  }
  return makeDataset({ ...dataset, name: `${dataset.name}+${kind}-${level}`, images });
}
