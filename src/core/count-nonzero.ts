/**
 * The number of nonzero entries of a tensor, as a scalar tensor: Σ step(|t|), step(z) = 1 for z > 0 and 0
 * otherwise, so |t| > 0 exactly when t ≠ 0 (abs of a float is exact, unlike a square, which underflows).
 *
 * Why not Σ cast(t ≠ 0): on the wasm backend the comparison and the bool→float cast are generic,
 * non-vectorised kernels; on a [500, 1000] tensor they took 7.8 ms against 1.1 ms for abs, step and sum
 * (measured on this project's 2-core VM). Event counting (the systems' `counts`, read at every step by
 * simulate) runs this once per layer and step, so it decided whether counting stayed within its 10%
 * budget. A NaN entry makes the count NaN (the comparison form counted it as nonzero); a non-finite state
 * is reported by simulate as divergence anyway.
 */
import * as tf from '@tensorflow/tfjs-core';

export function countNonzero(t: tf.Tensor, options: { nonnegative?: boolean } = {}): tf.Scalar {
  // A caller that knows t ≥ 0 (a clipped or sigmoid rate) skips the abs: one kernel of three.
  return tf.tidy(() => tf.sum(tf.step(options.nonnegative ? t : tf.abs(t))) as tf.Scalar);
}
