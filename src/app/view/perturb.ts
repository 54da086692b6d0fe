/**
 * The perturbed copy of a test example the view relaxes beside the clean one: a corruption at a severity,
 * drawn from the random stream `neurodyn corrupt` uses for that image (seed → `name-severity-index`), so
 * the view shows the very input that command scored.
 */
import { makeRng } from '../../base/rng.js';
import { getCorruption } from '../../data/corruptions.js';

export function corruptedExample(images: Float32Array, index: number, height: number, width: number, corruption: string, severity: number, seed: number): Float32Array {
  const pixels = height * width;
  const image = { data: images.subarray(index * pixels, (index + 1) * pixels), height, width };
  const c = getCorruption(corruption, 'corruption');
  const s = Math.min(Math.max(1, severity), c.severities);
  return c.apply(image, s, makeRng(seed).split(`${c.name}-${s}-${index}`));
}

export function cleanExample(images: Float32Array, index: number, pixels: number): Float32Array {
  return images.slice(index * pixels, (index + 1) * pixels);
}
