/**
 * Representational similarity (Li et al., NeurIPS 2019, "Learning from brains how to regularize machines",
 * Eqs. 2, 6 and 9): the cosine similarity of centred population vectors,
 *
 *   e_i = (f_i − f̄) / ‖f_i − f̄‖,   S_ij = e_i · e_j,
 *
 * where f_i is the flattened response (features of a layer, or a neural population vector) to stimulus i.
 * Two centrings:
 * - `stimulus-mean` (the paper's): f̄ = E_i[f_i], the mean over the stimuli at hand, element by element;
 * - `running-channel-mean` (the descendant code, elieattias1/pixel-reg): f̄ is a per-channel mean (over
 *   images and positions) kept as an exponential moving average m ← β m + (1 − β) m_batch with β = 0.9, a
 *   state threaded explicitly between steps and held constant for the gradient.
 *
 * Also the Fisher z-transform of Eq. 8, atanh, with |S| clamped to 1 − `clamp` first (the diagonal S_ii = 1
 * and rounding put entries at ±1, where atanh is infinite), and the comparison of two similarity matrices
 * by the Pearson correlation of their off-diagonal entries.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';

export type Centring = 'stimulus-mean' | 'running-channel-mean';
export const CENTRINGS: readonly Centring[] = ['stimulus-mean', 'running-channel-mean'];

/** The default margin of the clamp |S| ≤ 1 − clamp before atanh. */
export const DEFAULT_CLAMP = 1e-5;

/** Rows of x ([n, …]) flattened to [n, d]. */
function flat(x: tf.Tensor): tf.Tensor2D {
  return tf.reshape(x, [x.shape[0]!, -1]) as tf.Tensor2D;
}

/** S = E Eᵀ of rows already centred: each row normalised to unit length (a zero row stays zero). */
export function cosineOfRows(centred: tf.Tensor): tf.Tensor2D {
  const rows = flat(centred);
  const norms = tf.sqrt(tf.sum(tf.square(rows), 1, true));
  const unit = tf.div(rows, tf.maximum(norms, 1e-12));
  return tf.matMul(unit, unit, false, true);
}

/** Li's Eq. 9: cosine similarity of rows centred by their mean over the stimuli (rows). */
export function centredCosine(features: tf.Tensor): tf.Tensor2D {
  if (features.shape[0]! < 2) throw new SpecError('stimuli', `a similarity matrix needs at least 2 stimuli, got ${features.shape[0]}`);
  const rows = flat(features);
  return cosineOfRows(tf.sub(rows, tf.mean(rows, 0, true)));
}

/** The per-channel running mean of the descendant code, one tensor of [channels] per layer (empty before the first step). */
export type RunningMeans = readonly (tf.Tensor1D | undefined)[];

/** Channel mean over every axis but the last of [n, …, C]. */
function channelMean(features: tf.Tensor): tf.Tensor1D {
  const axes = Array.from({ length: features.rank - 1 }, (_, i) => i);
  return tf.mean(features, axes) as tf.Tensor1D;
}

/**
 * Cosine similarity with the running per-channel mean subtracted; returns the updated mean
 * (β m + (1 − β) m_batch, or m_batch at the first step) as a constant, since the descendant code's buffer
 * carries no gradient.
 */
export function runningCentredCosine(features: tf.Tensor, running: tf.Tensor1D | undefined, beta = 0.9): { similarity: tf.Tensor2D; running: tf.Tensor1D } {
  // Read back and re-made: a constant, so no gradient flows through the buffer.
  const batchMean = tf.tensor1d(channelMean(features).dataSync() as Float32Array);
  const next = running ? (tf.add(tf.mul(running, beta), tf.mul(batchMean, 1 - beta)) as tf.Tensor1D) : batchMean;
  return { similarity: cosineOfRows(tf.sub(features, next)), running: next };
}

/** atanh(clip(S, −1 + clamp, 1 − clamp)), the Fisher z of a similarity. */
export function fisherZ(similarity: tf.Tensor, clamp = DEFAULT_CLAMP): tf.Tensor {
  const c = tf.clipByValue(similarity, -1 + clamp, 1 - clamp);
  return tf.mul(tf.log(tf.div(tf.add(1, c), tf.sub(1, c))), 0.5);
}

/** 1 off the diagonal, 0 on it: the pairs i ≠ j. */
export function offDiagonalMask(n: number): tf.Tensor2D {
  return tf.sub(tf.ones([n, n]), tf.eye(n)) as tf.Tensor2D;
}

/**
 * Li's Eq. 8 averaged over the ordered pairs i ≠ j of the block: mean_{i≠j} [atanh(S^model_ij) − atanh(S^target_ij)]².
 * The sum Σ_{i≠j} divided by n(n − 1), so that α does not grow with the number of stimuli per step
 * (the paper's loss is per pair, averaged over a batch of pairs).
 */
export function fisherZLoss(model: tf.Tensor2D, target: tf.Tensor2D, clamp = DEFAULT_CLAMP): tf.Scalar {
  const n = model.shape[0]!;
  if (target.shape[0] !== n || target.shape[1] !== n || model.shape[1] !== n) {
    throw new SpecError('target', `similarity blocks differ in shape: model [${model.shape.join(', ')}], target [${target.shape.join(', ')}]`);
  }
  const diff = tf.sub(fisherZ(model, clamp), fisherZ(target, clamp));
  return tf.div(tf.sum(tf.mul(tf.square(diff), offDiagonalMask(n))), n * (n - 1)) as tf.Scalar;
}

/** Off-diagonal entries i < j of a square matrix stored row-major, in order. */
export function upperTriangle(matrix: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[k++] = matrix[i * n + j]!;
  return out;
}

/** Pearson correlation of two equal-length samples (NaN when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Representational similarity between two similarity matrices: the correlation of their off-diagonal entries. */
export function similarityCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  return pearson(upperTriangle(a, n), upperTriangle(b, n));
}
