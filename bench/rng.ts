/**
 * Seeded random numbers for the benchmark inputs (values do not matter for speed, only reproducibility).
 * mulberry32 for uniforms, Box-Muller for normals; everything float32.
 */
import * as tf from '@tensorflow/tfjs-core';

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
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
  return {
    next,
    normal(shape, scale = 1) {
      const n = size(shape);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i += 2) {
        const u1 = 1 - next();
        const u2 = next();
        const r = Math.sqrt(-2 * Math.log(u1)) * scale;
        v[i] = r * Math.cos(2 * Math.PI * u2);
        if (i + 1 < n) v[i + 1] = r * Math.sin(2 * Math.PI * u2);
      }
      return tf.tensor(v, shape, 'float32');
    },
    uniform(shape) {
      const n = size(shape);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = next();
      return tf.tensor(v, shape, 'float32');
    },
    ints(shape, n) {
      const m = size(shape);
      const v = new Int32Array(m);
      for (let i = 0; i < m; i++) v[i] = Math.floor(next() * n);
      return tf.tensor(v, shape, 'int32');
    },
  };
}
