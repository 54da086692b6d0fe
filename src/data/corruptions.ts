/**
 * Common corruptions of 28×28 grey images, seeded (reference/attacks-and-corruptions.md §2). Names are
 * `mnist-c/<name>` (one fixed level) and `cifar-10-c/<name>` (severities 1–5).
 *
 * MNIST-C (Mu & Gilmer 2019, google-research/mnist-c `corruptions.py`, its 15 `CORRUPTIONS` at the level
 * each function's default severity gives, which is how the released MNIST-C was made): shot noise c = 3,
 * impulse noise 0.17, glass blur (σ 0.7, δ 1, 2 iterations), motion blur (radius 10, σ 3, angle U(±45°)),
 * shear ±0.4, scale (inverse map 1/0.7), rotate ±0.4 rad, brightness +0.5, translate ±3 px in x and y,
 * stripe (columns 0–6 and 21–27 inverted), fog (3, decay 1.4), spatter (severity 4), dotted line, zigzag,
 * Canny edges. Levels that are one number here are MNIST-C's; implementation notes:
 *   - brightness: MNIST-C goes grey → RGB → HSV, adds to V and goes back; for a grey image V = x and the
 *     round trip is exactly clip(x + 0.5, 0, 1), which is what is computed;
 *   - motion blur: MNIST-C calls ImageMagick's MotionBlurImage; here the same kind of kernel, a one-sided
 *     Gaussian of σ along a line of `radius` pixels at the drawn angle, with bilinear taps (not bit-equal);
 *   - fog: the diamond-square plasma of MNIST-C with wrap-around neighbours (not bit-equal);
 *   - Canny: quantised non-maximum suppression (see corruptions-image-ops.ts).
 *
 * Five severities with CIFAR-10-C's parameters (Hendrycks & Dietterich 2019, `make_cifar_c.py`): Gaussian
 * noise σ .04 .06 .08 .09 .10; shot noise c 500 250 100 75 50; impulse (salt and pepper) .01 .02 .03 .05
 * .07; speckle σ .06 .1 .12 .16 .2; Gaussian blur σ .4 .6 .7 .8 1; contrast .75 .5 .4 .3 .15. Rescaling to
 * 28×28: the noises and contrast act per pixel or on the image mean and need none; the blur σ is in pixels
 * of a 32-pixel image, so it is multiplied by 28/32 to blur the same fraction of the image.
 *
 * All images in [0, 1]; results are clipped to [0, 1] as in the sources. The Rng is split per image, so
 * image i gets the same corruption whatever else is corrupted (determinism per seed).
 */
import { SpecError, UnknownNameError } from '../base/errors.js';
import type { Rng } from '../base/rng.js';
import {
  canny,
  centredAffine,
  clip01,
  gaussianBlur,
  lineFromPoints,
  plasmaFractal,
  poisson,
  warpInverse,
  type Image,
} from './corruptions-image-ops.js';
import { makeDataset, type Dataset } from './dataset.js';

export interface Corruption {
  readonly name: string;
  readonly suite: 'mnist-c' | 'cifar-10-c';
  /** Number of severities (1 for MNIST-C's fixed levels, 5 for the CIFAR-10-C ones). */
  readonly severities: number;
  /** The corrupted copy of one image at severity s (1-based). */
  apply(image: Image, severity: number, rng: Rng): Float32Array;
}

const map = (image: Image, f: (v: number, i: number) => number) => Float32Array.from(image.data, f);

/**
 * Additive Gaussian noise of standard deviation σ (pixel units), clipped to [0, 1], drawn pixel by pixel
 * in order from `rng`: the one Gaussian noise of the framework (the CIFAR-10-C corruption and any σ a job
 * asks for).
 */
export function gaussianNoise(values: Float32Array, sigma: number, rng: Rng): Float32Array {
  return Float32Array.from(values, (v) => clip01(v + sigma * rng.normal()));
}

/** A copy of `dataset` with Gaussian noise σ on every image (one generator through all pixels in order). */
export function withGaussianNoise(dataset: Dataset, sigma: number, rng: Rng): Dataset {
  return makeDataset({ ...dataset, name: `${dataset.name}+gaussian-${sigma}`, images: gaussianNoise(dataset.images, sigma, rng) });
}
const sign = (rng: Rng) => (rng.uniform() < 0.5 ? -1 : 1);

function saltAndPepper(image: Image, amount: number, rng: Rng): Float32Array {
  return map(image, (v) => (rng.uniform() < amount ? (rng.uniform() < 0.5 ? 1 : 0) : v));
}

function glassBlur(image: Image, sigma: number, delta: number, iterations: number, rng: Rng): Float32Array {
  const { height: h, width: w } = image;
  // MNIST-C quantises to bytes between the two blurs.
  const x = Float32Array.from(gaussianBlur(image, sigma), (v) => Math.floor(clip01(v) * 255) / 255);
  for (let it = 0; it < iterations; it++) {
    for (let r = h - delta; r > delta; r--) {
      for (let c = w - delta; c > delta; c--) {
        if (rng.uniform() < 0.5) continue;
        // numpy's randint(-δ, δ) excludes δ: shifts in [−δ, δ − 1].
        const dc = -delta + rng.int(2 * delta);
        const dr = -delta + rng.int(2 * delta);
        const a = r * w + c;
        const b = (r + dr) * w + (c + dc);
        [x[a], x[b]] = [x[b]!, x[a]!];
      }
    }
  }
  return Float32Array.from(gaussianBlur({ data: x, height: h, width: w }, sigma), clip01);
}

function motionBlur(image: Image, radius: number, sigma: number, rng: Rng): Float32Array {
  const { data, height: h, width: w } = image;
  const angle = ((-45 + 90 * rng.uniform()) * Math.PI) / 180;
  const weights = Array.from({ length: radius + 1 }, (_, i) => Math.exp(-(i * i) / (2 * sigma * sigma)));
  const total = weights.reduce((s, v) => s + v, 0);
  const out = new Float32Array(h * w);
  const sample = (x: number, y: number) => {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    // Edge pixels extend (ImageMagick's default virtual pixels).
    const p = (c: number, r: number) => data[Math.min(h - 1, Math.max(0, r)) * w + Math.min(w - 1, Math.max(0, c))]!;
    return (1 - fx) * (1 - fy) * p(x0, y0) + fx * (1 - fy) * p(x0 + 1, y0) + (1 - fx) * fy * p(x0, y0 + 1) + fx * fy * p(x0 + 1, y0 + 1);
  };
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      let s = 0;
      weights.forEach((wt, i) => (s += wt * sample(c - i * Math.cos(angle), r - i * Math.sin(angle))));
      out[r * w + c] = clip01(s / total);
    }
  }
  return out;
}

function fog(image: Image, strength: number, decay: number, rng: Rng): Float32Array {
  const plasma = plasmaFractal(rng, decay);
  const max = Math.max(...image.data);
  return map(image, (v, i) => {
    const r = Math.floor(i / image.width);
    const c = i % image.width;
    return clip01(((v + strength * plasma[r * 256 + c]!) * max) / (max + strength));
  });
}

function spatter(image: Image, rng: Rng): Float32Array {
  // MNIST-C severity 4: (loc .65, scale .3, σ 1, threshold .65, σ_m 1.5, mud).
  const { height: h, width: w } = image;
  const liquid = gaussianBlur({ data: Float32Array.from({ length: h * w }, () => 0.65 + 0.3 * rng.normal()), height: h, width: w }, 1);
  const wet = Float32Array.from(liquid, (v) => (v > 0.65 ? 1 : 0));
  const m = Float32Array.from(gaussianBlur({ data: wet, height: h, width: w }, 1.5), (v) => (v < 0.8 ? 0 : v));
  return map(image, (v, i) => clip01(v * (1 - m[i]!) + (63 / 255) * m[i]!));
}

function addLines(image: Image, lines: Float32Array[]): Float32Array {
  const x = Float32Array.from(image.data);
  for (const line of lines) for (let i = 0; i < x.length; i++) x[i] = clip01(x[i]! + line[i]!);
  return x;
}

function dottedLine(image: Image, rng: Rng): Float32Array {
  const r0 = rng.int(27);
  const r1 = rng.int(27);
  const line = lineFromPoints(0, r0, 27, r1, image.width);
  // Columns [0, 2), [4, 6), … are blanked: dashes two pixels long.
  for (let c = 0; c < image.width; c++) if (Math.floor(c / 2) % 2 === 0) for (let r = 0; r < image.height; r++) line[r * image.width + c] = 0;
  return addLines(image, [line]);
}

function zigzag(image: Image, rng: Rng): Float32Array {
  const a = 2;
  const b = 2;
  const [c0, c1] = [2, 25];
  const r0 = rng.int(27);
  const r1 = r0 - 5 + rng.int(10);
  const theta = Math.atan((r1 - r0) / (c1 - c0));
  const d = (c1 - c0) / Math.cos(theta);
  const points: [number, number][] = [[0, 0]];
  let ri = 0;
  for (let i = 0; i < Math.floor((d - a) / (2 * a)) + 1; i++) {
    ri = (-1) ** i * b;
    points.push([(2 * i + 1) * a, ri]);
  }
  const maxC = 2 * a * Math.floor(d / (2 * a));
  if (d !== maxC) points.push([d, ri / (2 * (d - maxC))]);
  const rotated = points.map(([c, r]) => [Math.cos(theta) * c - Math.sin(theta) * r + c0, Math.sin(theta) * c + Math.cos(theta) * r + r0] as const);
  const lines = rotated.slice(1).map((p, i) => lineFromPoints(rotated[i]![0], rotated[i]![1], p[0], p[1], image.width));
  return addLines(image, lines);
}

const fixed = (name: string, apply: (image: Image, rng: Rng) => Float32Array): Corruption => ({
  name: `mnist-c/${name}`,
  suite: 'mnist-c',
  severities: 1,
  apply: (image, _severity, rng) => apply(image, rng),
});

const graded = (name: string, levels: readonly number[], apply: (image: Image, level: number, rng: Rng) => Float32Array): Corruption => ({
  name: `cifar-10-c/${name}`,
  suite: 'cifar-10-c',
  severities: levels.length,
  apply: (image, severity, rng) => apply(image, levels[severity - 1]!, rng),
});

/** Blur σ of CIFAR-10-C (32-pixel images) carried over to 28-pixel images. */
export const BLUR_RESCALE = 28 / 32;

export const CORRUPTIONS: readonly Corruption[] = [
  // MNIST-C, the 15 of its CORRUPTIONS list.
  fixed('shot_noise', (x, rng) => map(x, (v) => clip01(poisson(rng, v * 3) / 3))),
  fixed('impulse_noise', (x, rng) => saltAndPepper(x, 0.17, rng)),
  fixed('glass_blur', (x, rng) => glassBlur(x, 0.7, 1, 2, rng)),
  fixed('motion_blur', (x, rng) => motionBlur(x, 10, 3, rng)),
  fixed('shear', (x, rng) => Float32Array.from(warpInverse(x, centredAffine({ shear: 0.4 * sign(rng) }, x.width)), clip01)),
  fixed('scale', (x) => Float32Array.from(warpInverse(x, centredAffine({ scale: 1 / 0.7 }, x.width)), clip01)),
  fixed('rotate', (x, rng) => Float32Array.from(warpInverse(x, centredAffine({ rotation: 0.4 * sign(rng) }, x.width)), clip01)),
  fixed('brightness', (x) => map(x, (v) => clip01(v + 0.5))),
  fixed('translate', (x, rng) => {
    const dx = 3 * sign(rng);
    const dy = 3 * sign(rng);
    return Float32Array.from(warpInverse(x, [[1, 0, dx], [0, 1, dy]]), clip01);
  }),
  fixed('stripe', (x) => map(x, (v, i) => (i % x.width < 7 || i % x.width >= x.width - 7 ? 1 - v : v))),
  fixed('fog', (x, rng) => fog(x, 3, 1.4, rng)),
  fixed('spatter', (x, rng) => spatter(x, rng)),
  fixed('dotted_line', (x, rng) => dottedLine(x, rng)),
  fixed('zigzag', (x, rng) => zigzag(x, rng)),
  fixed('canny_edges', (x) => canny(x)),
  // CIFAR-10-C parameters, five severities.
  graded('gaussian_noise', [0.04, 0.06, 0.08, 0.09, 0.1], (x, s, rng) => gaussianNoise(x.data, s, rng)),
  graded('shot_noise', [500, 250, 100, 75, 50], (x, c, rng) => map(x, (v) => clip01(poisson(rng, v * c) / c))),
  graded('impulse_noise', [0.01, 0.02, 0.03, 0.05, 0.07], (x, s, rng) => saltAndPepper(x, s, rng)),
  graded('speckle_noise', [0.06, 0.1, 0.12, 0.16, 0.2], (x, s, rng) => map(x, (v) => clip01(v + v * s * rng.normal()))),
  graded('gaussian_blur', [0.4, 0.6, 0.7, 0.8, 1], (x, s) => Float32Array.from(gaussianBlur(x, s * BLUR_RESCALE), clip01)),
  graded('contrast', [0.75, 0.5, 0.4, 0.3, 0.15], (x, c) => {
    const mean = x.data.reduce((acc, v) => acc + v, 0) / x.data.length;
    return map(x, (v) => clip01((v - mean) * c + mean));
  }),
];

export function corruptionNames(): string[] {
  return CORRUPTIONS.map((c) => c.name);
}

export function getCorruption(name: string, path = '--corruptions'): Corruption {
  const found = CORRUPTIONS.find((c) => c.name === name);
  if (!found) throw new UnknownNameError(path, 'corruption', name, corruptionNames());
  return found;
}

/** Corruptions named by a list of full names (`mnist-c/fog`) or suites (`mnist-c`, `cifar-10-c`, `all`). */
export function selectCorruptions(names: readonly string[], path = '--corruptions'): Corruption[] {
  const out: Corruption[] = [];
  for (const name of names) {
    const group = name === 'all' ? CORRUPTIONS : CORRUPTIONS.filter((c) => c.suite === name);
    const picked = group.length ? group : [getCorruption(name, path)];
    for (const c of picked) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** The dataset with every image corrupted at `severity`; image i uses the stream `rng.split(name-severity-i)`. */
export function corruptDataset(dataset: Dataset, corruption: Corruption, severity: number, rng: Rng): Dataset {
  if (!(Number.isInteger(severity) && severity >= 1 && severity <= corruption.severities)) {
    throw new SpecError('severity', `${corruption.name} has severities 1..${corruption.severities}, got ${severity}`);
  }
  const { height, width } = dataset;
  const pixels = height * width;
  const images = new Float32Array(dataset.images.length);
  for (let i = 0; i < dataset.count; i++) {
    const image = { data: dataset.images.subarray(i * pixels, (i + 1) * pixels), height, width };
    images.set(corruption.apply(image, severity, rng.split(`${corruption.name}-${severity}-${i}`)), i * pixels);
  }
  return makeDataset({ ...dataset, name: `${dataset.name}/${corruption.name}-${severity}`, images });
}
