/**
 * Minimal adversarial perturbation by bisection on ε, per example: the smallest ‖x' − x‖ at which a
 * fixed-ε attack (PGD by default) finds a misclassified x'. Li et al. (NeurIPS 2019, "Learning from brains
 * how to regularize machines") compare models by the median of this size over the test set. An example
 * the attack cannot break even at the largest ε counts as ∞ (it is reported as "> ε_max", never as a
 * number); an example that is misclassified clean has no adversarial perturbation to measure and is NaN:
 * the median is taken over the clean-correct examples only (counting the clean mistakes as 0, the Foolbox
 * convention, pulls the median towards 0 by as many places as the model has mistakes).
 *
 * Per example: check ε_max; then `bisections` times run the attack at the midpoint of [lo, hi], setting hi
 * to the norm of the adversarial point found (≤ the midpoint) on success and lo to the midpoint otherwise.
 * The result is hi, the smallest adversarial norm found, an upper bound on the true minimum. All examples
 * are bisected together as one batch with per-example radii.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../base/rng.js';
import { gatherRows, type Attack } from './attack.js';
import type { AttackModel } from './attack-model.js';
import { misclassified } from './losses.js';
import { perExampleNorm, type Norm } from './threat-model.js';

export interface MinimalPerturbationRequest {
  readonly model: AttackModel;
  readonly attack: Attack;
  readonly x: tf.Tensor;
  readonly labels: tf.Tensor1D;
  readonly norm: Norm;
  readonly maxEpsilon: number;
  readonly bisections?: number;
  readonly rng: Rng;
  /**
   * Per example, the size of an adversarial point already known (from other attacks; ∞ where none): the
   * search starts its bisection below it instead of checking ε_max first.
   */
  readonly knownUpperBounds?: ArrayLike<number>;
  /** Called with every batch of points the search tries (rows of x), whether each fooled the model, and their norms. */
  readonly onAdversarial?: (rows: readonly number[], adversarial: tf.Tensor, fooled: Uint8Array, norms: Float32Array) => void;
}

export function minimalPerturbation(request: MinimalPerturbationRequest): Float32Array {
  const { model, attack, x, labels, norm, maxEpsilon, rng } = request;
  const bisections = request.bisections ?? 8;
  const n = x.shape[0]!;
  const found = new Float32Array(n).fill(Number.POSITIVE_INFINITY);
  const lo = new Float32Array(n);
  const hi = new Float32Array(n).fill(maxEpsilon);
  const logits = model.logits(x);
  const cleanWrong = misclassified(logits, labels);
  logits.dispose();
  const open: number[] = [];
  cleanWrong.forEach((wrong, i) => (wrong ? (found[i] = Number.NaN) : open.push(i)));
  const tryAt = (rows: readonly number[], radii: number[], round: number): Uint8Array => {
    const xs = gatherRows(x, rows);
    const ys = gatherRows(labels, rows);
    const result = attack.run({ model, x: xs, labels: ys, threat: { norm, epsilon: radii, bounds: model.bounds }, rng: rng.split(`bisection-${round}`) });
    const normTensor = tf.tidy(() => perExampleNorm(tf.sub(result.adversarial, xs), norm));
    const norms = normTensor.dataSync() as Float32Array;
    request.onAdversarial?.(rows, result.adversarial, result.fooled, norms);
    tf.dispose([xs, ys, result.adversarial, normTensor]);
    rows.forEach((row, k) => {
      if (result.fooled[k]) {
        found[row] = Math.min(found[row]!, norms[k]!);
        hi[row] = Math.min(hi[row]!, norms[k]!);
      }
    });
    return result.fooled;
  };
  if (open.length === 0) return found;
  const known = request.knownUpperBounds;
  const isKnown = (i: number) => known !== undefined && known[i]! <= maxEpsilon;
  for (const i of open.filter(isKnown)) found[i] = hi[i] = known![i]!;
  const unknown = open.filter((i) => !isKnown(i));
  const atMax = unknown.length ? tryAt(unknown, unknown.map(() => maxEpsilon), -1) : new Uint8Array(0);
  const breakable = open.filter(isKnown).concat(unknown.filter((_, k) => atMax[k])).sort((a, b) => a - b);
  for (let round = 0; round < bisections && breakable.length > 0; round++) {
    const mid = breakable.map((i) => (lo[i]! + hi[i]!) / 2);
    const fooled = tryAt(breakable, mid, round);
    breakable.forEach((i, k) => {
      if (!fooled[k]) lo[i] = mid[k]!;
    });
  }
  return found;
}

/** Median of values that may hold ∞ (the middle element, or the mean of the two middle ones). */
export function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface MinimalPerturbationSummary {
  /** Examples the median is taken over: those the defender classifies correctly clean. */
  readonly cleanCorrect: number;
  /** Of those, how many no attack broke within `maxEpsilon`. */
  readonly unbroken: number;
  readonly maxEpsilon: number;
  /** The median when it is a number; null when it lies above what the search can see. */
  readonly median: number | null;
  /** When `median` is null: the median is larger than this (ε_max, or halfway to it when one of the two middle values is unbroken). */
  readonly medianAbove?: number;
}

/**
 * The median minimal perturbation over the clean-correct examples (NaN entries are the clean mistakes and
 * are left out), with the unbroken ones (∞) censored at `maxEpsilon`: when the median falls on an unbroken
 * example it is reported as "> ε_max" (or "> (a + ε_max)/2" when only the upper of the two middle values is
 * unbroken), since the search never looked beyond ε_max.
 */
export function summarizeMinimalPerturbation(sizes: ArrayLike<number>, maxEpsilon: number): MinimalPerturbationSummary {
  const correct = Array.from(sizes).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const unbroken = correct.filter((v) => !Number.isFinite(v)).length;
  const base = { cleanCorrect: correct.length, unbroken, maxEpsilon };
  if (correct.length === 0) return { ...base, median: null };
  const mid = correct.length >> 1;
  const [a, b] = correct.length % 2 ? [correct[mid]!, correct[mid]!] : [correct[mid - 1]!, correct[mid]!];
  if (Number.isFinite(b)) return { ...base, median: (a + b) / 2 };
  return { ...base, median: null, medianAbove: Number.isFinite(a) ? (a + maxEpsilon) / 2 : maxEpsilon };
}

/** "0.0312", or "> 0.6" when the median lies beyond the search, with the count it is taken over. */
export function formatMinimalPerturbation(summary: MinimalPerturbationSummary, digits = 4): string {
  const value = summary.median !== null ? summary.median.toFixed(digits) : summary.medianAbove !== undefined ? `> ${Number(summary.medianAbove.toFixed(digits))}` : 'undefined (no clean-correct example)';
  return `${value} over ${summary.cleanCorrect} clean-correct examples (${summary.unbroken} not broken within ε_max = ${summary.maxEpsilon}, counted as > ε_max)`;
}
