/**
 * A synthetic V1 population: the stand-in for mouse recordings (no recordings can be downloaded here), in
 * the response-array format of real data (stimuli × repeats × units), so the whole target path (repeats,
 * SNR weighting, averaging, similarity) runs on data with the structure of a recording.
 *
 * Each unit is a Gabor-energy complex cell (Adelson & Bergen 1985): a quadrature pair of Gabor filters
 *
 *   g_even(x) = exp(−|x − c|² / 2σ²) cos(k·(x − c)),   g_odd(x) = exp(−|x − c|² / 2σ²) sin(k·(x − c)),
 *   k = 2πf (cos θ, sin θ),
 *
 * each scaled to unit L2 norm on the image grid, applied to the image with its mean removed (V1 responds
 * to contrast); energy E = ⟨g_even, x⟩² + ⟨g_odd, x⟩², phase-invariant. The mean spike count of a
 * presentation saturates with the energy (a Naka–Rushton contrast response):
 *
 *   λ = baseline + peak · E / (E + c50).
 *
 * Each presentation draws a Poisson count with mean λ (Fano factor 1, the "Poisson-like" variability of
 * cortical responses), independently per unit and repeat.
 *
 * Tuning, for a grating cos(k'·x + φ) on an unbounded grid, averaged over its phase φ: with
 * Ĝ(q) = 2πσ² exp(−σ²|q|²/2) the Fourier transform of the envelope,
 *
 *   E(k') ∝ Ĝ(k − k')² + Ĝ(k + k')²,
 *
 * so the unit prefers orientation θ and frequency f, and at f its orientation tuning is
 * E(θ')/E(θ) ≈ exp(−σ²(2πf)²·2(1 − cos(θ' − θ))) (the second term is negligible when 2πfσ ≫ 1).
 * test/data/synthetic-v1.test.ts checks the model against this.
 *
 * Population parameters, drawn from the seed: θ uniform in [0, π); f log-uniform in `frequencies`
 * (cycles/pixel); σ = `envelopeCycles`/f (a fixed number of cycles under the envelope, constant bandwidth);
 * centres uniform over the central `centreFraction` of the image; peak log-uniform in `peakRange` (so units
 * differ in reliability, which is what SNR weighting is for); baseline = `baselineFraction` · peak;
 * c50 = `halfSaturation`. Everything is deterministic from the seed: the population from
 * `rng.split('population')`, the noise of stimulus i from `rng.split('presentation-<i>')`.
 */
import { SpecError } from '../base/errors.js';
import type { Rng } from '../base/rng.js';
import { poisson } from './corruptions-image-ops.js';

export interface SyntheticV1Options {
  readonly units: number;
  /** Preferred spatial frequencies, cycles per pixel [low, high] (default [0.08, 0.25]). */
  readonly frequencies?: readonly [number, number];
  /** σ·f: cycles under one envelope σ (default 0.5, about 1.4 octaves of bandwidth). */
  readonly envelopeCycles?: number;
  /** Centres uniform in the central fraction of the image (default 0.6). */
  readonly centreFraction?: number;
  /** Peak mean count per presentation [low, high], log-uniform (default [1, 20]). */
  readonly peakRange?: readonly [number, number];
  /** Spontaneous count as a fraction of the peak (default 0.1). */
  readonly baselineFraction?: number;
  /** Energy at half saturation (default 1; images in [0, 1] with unit-norm filters give E up to ~10). */
  readonly halfSaturation?: number;
}

export interface GaborUnit {
  readonly theta: number;
  readonly frequency: number;
  readonly sigma: number;
  /** Centre (column, row) in pixels. */
  readonly cx: number;
  readonly cy: number;
  readonly peak: number;
  readonly baseline: number;
  readonly c50: number;
}

export interface SyntheticV1Population {
  readonly height: number;
  readonly width: number;
  readonly units: readonly GaborUnit[];
  /** Gabor energy of every unit for one image (height × width, row-major). */
  energy(image: ArrayLike<number>): Float64Array;
  /** Mean counts λ of every unit for one image. */
  rates(image: ArrayLike<number>): Float64Array;
  /** Poisson responses to `count` images (count × height × width), [count, repeats, units] row-major. */
  responses(images: Float32Array, count: number, repeats: number, rng: Rng): Float32Array;
}

const logUniform = (rng: Rng, [lo, hi]: readonly [number, number]) => Math.exp(Math.log(lo) + rng.uniform() * (Math.log(hi) - Math.log(lo)));

function checkRange(name: string, range: readonly [number, number]): void {
  if (!(range[0] > 0 && range[1] >= range[0])) throw new SpecError(name, `must be [low, high] with 0 < low ≤ high, got [${range.join(', ')}]`);
}

/** The quadrature pair of a unit on an h × w grid, each of unit L2 norm. */
export function gaborPair(unit: GaborUnit, height: number, width: number): { even: Float64Array; odd: Float64Array } {
  const even = new Float64Array(height * width);
  const odd = new Float64Array(height * width);
  const kx = 2 * Math.PI * unit.frequency * Math.cos(unit.theta);
  const ky = 2 * Math.PI * unit.frequency * Math.sin(unit.theta);
  let ne = 0;
  let no = 0;
  for (let r = 0; r < height; r++)
    for (let c = 0; c < width; c++) {
      const dx = c - unit.cx;
      const dy = r - unit.cy;
      const g = Math.exp(-(dx * dx + dy * dy) / (2 * unit.sigma * unit.sigma));
      const phase = kx * dx + ky * dy;
      even[r * width + c] = g * Math.cos(phase);
      odd[r * width + c] = g * Math.sin(phase);
      ne += even[r * width + c]! ** 2;
      no += odd[r * width + c]! ** 2;
    }
  const se = 1 / Math.sqrt(ne);
  const so = 1 / Math.sqrt(no);
  for (let p = 0; p < even.length; p++) {
    even[p]! *= se;
    odd[p]! *= so;
  }
  return { even, odd };
}

/** Gabor energy of a unit, ⟨g_even, x − x̄⟩² + ⟨g_odd, x − x̄⟩². */
export function unitEnergy(pair: { even: Float64Array; odd: Float64Array }, image: ArrayLike<number>): number {
  let mean = 0;
  for (let p = 0; p < pair.even.length; p++) mean += image[p]!;
  mean /= pair.even.length;
  let e = 0;
  let o = 0;
  for (let p = 0; p < pair.even.length; p++) {
    const v = image[p]! - mean;
    e += pair.even[p]! * v;
    o += pair.odd[p]! * v;
  }
  return e * e + o * o;
}

export function syntheticV1(options: SyntheticV1Options, height: number, width: number, rng: Rng): SyntheticV1Population {
  const o = {
    frequencies: options.frequencies ?? ([0.08, 0.25] as const),
    envelopeCycles: options.envelopeCycles ?? 0.5,
    centreFraction: options.centreFraction ?? 0.6,
    peakRange: options.peakRange ?? ([1, 20] as const),
    baselineFraction: options.baselineFraction ?? 0.1,
    halfSaturation: options.halfSaturation ?? 1,
  };
  if (!(Number.isInteger(options.units) && options.units >= 1)) throw new SpecError('units', `must be a positive integer, got ${options.units}`);
  checkRange('frequencies', o.frequencies);
  checkRange('peakRange', o.peakRange);
  if (o.frequencies[1] >= 0.5) throw new SpecError('frequencies', `must stay below the Nyquist frequency 0.5 cycles/pixel, got ${o.frequencies[1]}`);
  if (!(o.envelopeCycles > 0)) throw new SpecError('envelopeCycles', `must be positive, got ${o.envelopeCycles}`);
  if (!(o.centreFraction > 0 && o.centreFraction <= 1)) throw new SpecError('centreFraction', `must lie in (0, 1], got ${o.centreFraction}`);
  if (!(o.baselineFraction >= 0)) throw new SpecError('baselineFraction', `must be ≥ 0, got ${o.baselineFraction}`);
  if (!(o.halfSaturation > 0)) throw new SpecError('halfSaturation', `must be positive, got ${o.halfSaturation}`);
  const draw = rng.split('population');
  const units: GaborUnit[] = Array.from({ length: options.units }, () => {
    const frequency = logUniform(draw, o.frequencies);
    const peak = logUniform(draw, o.peakRange);
    return {
      theta: Math.PI * draw.uniform(),
      frequency,
      sigma: o.envelopeCycles / frequency,
      cx: (width - 1) / 2 + (draw.uniform() - 0.5) * o.centreFraction * width,
      cy: (height - 1) / 2 + (draw.uniform() - 0.5) * o.centreFraction * height,
      peak,
      baseline: o.baselineFraction * peak,
      c50: o.halfSaturation,
    };
  });
  const pairs = units.map((u) => gaborPair(u, height, width));
  const energy = (image: ArrayLike<number>) => Float64Array.from(pairs, (p) => unitEnergy(p, image));
  const rates = (image: ArrayLike<number>) => {
    const e = energy(image);
    return Float64Array.from(units, (u, a) => u.baseline + (u.peak * e[a]!) / (e[a]! + u.c50));
  };
  return Object.freeze({
    height,
    width,
    units: Object.freeze(units),
    energy,
    rates,
    responses(images: Float32Array, count: number, repeats: number, noise: Rng): Float32Array {
      if (!(Number.isInteger(repeats) && repeats >= 1)) throw new SpecError('repeats', `must be a positive integer, got ${repeats}`);
      const pixels = height * width;
      if (images.length !== count * pixels) throw new SpecError('images', `${images.length} values for ${count} images of ${height}×${width}`);
      const n = units.length;
      const out = new Float32Array(count * repeats * n);
      for (let i = 0; i < count; i++) {
        const lambda = rates(images.subarray(i * pixels, (i + 1) * pixels));
        const r = noise.split(`presentation-${i}`);
        for (let t = 0; t < repeats; t++) for (let a = 0; a < n; a++) out[(i * repeats + t) * n + a] = poisson(r, lambda[a]!);
      }
      return out;
    },
  });
}
