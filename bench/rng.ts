/**
 * Seeded tensors for the benchmark inputs (values do not matter for speed, only reproducibility), drawn
 * from the project's own generator (src/base/rng.ts) so that there is one PRNG in the code base.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeRng as makeCoreRng, randomNormal, randomUniform } from '../src/base/rng.js';

export interface BenchRng {
  /** A tensor of standard-normal values, times `scale`. */
  normal(shape: number[], scale?: number): tf.Tensor;
  /** A tensor of uniform values in [0, 1). */
  uniform(shape: number[]): tf.Tensor;
  /** An int32 tensor of integers in [0, n). */
  ints(shape: number[], n: number): tf.Tensor;
  /** The next uniform number in [0, 1). */
  next(): number;
}

export function makeRng(seed = 0): BenchRng {
  const rng = makeCoreRng(seed);
  return {
    next: () => rng.uniform(),
    normal: (shape, scale = 1) => randomNormal(rng, shape, scale),
    uniform: (shape) => randomUniform(rng, shape),
    ints(shape, n) {
      const values = Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(n));
      return tf.tensor(values, shape, 'int32');
    },
  };
}
