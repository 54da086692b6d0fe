/**
 * The perturbed copy of a test example the view relaxes beside the clean one: a corruption at a severity,
 * drawn from the random stream `neurodyn corrupt` uses for that image (seed → `name-severity-index`), so
 * the view shows the very input that command scored; or an attack's output (adversarial.ts).
 */
import { makeRng } from '../../base/rng.js';
import { getCorruption } from '../../data/corruptions.js';
import { adversarialExample } from './adversarial.js';
import type { ViewManifest, ViewState } from './manifest.js';
import type { ViewModel } from './view-model.js';

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

export interface PerturbedExample {
  readonly image: Float32Array;
  /** The perturbed column's heading, e.g. "mnist-c/fog, severity 1" or "PGD-10, ε = 0.1: fooled". */
  readonly title: string;
}

/**
 * The perturbed input the view's state asks for (a corruption, or an attack run on `model`), or undefined
 * for none. Shared by the page and the server so that both modes relax the same input.
 */
export function perturbedExample(model: ViewModel | undefined, images: Float32Array, manifest: ViewManifest, state: ViewState, index: number): PerturbedExample | undefined {
  const [height, width] = manifest.imageShape;
  if (state.attack) {
    if (!model) throw new Error('an attack needs the model');
    const clean = cleanExample(images, index, height * width);
    const a = adversarialExample(model, clean, manifest.examples.labels[index]!, state.attack, state.eps, { seed: manifest.seed, index, imageShape: manifest.imageShape, classes: manifest.classNames.length });
    return { image: a.image, title: `${a.description}: ${a.fooled ? 'fooled' : 'not fooled'}` };
  }
  if (state.corruption) return { image: corruptedExample(images, index, height, width, state.corruption, state.severity, manifest.seed), title: `${state.corruption}, severity ${state.severity}` };
  return undefined;
}
