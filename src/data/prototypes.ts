/**
 * Class prototypes: the mean image of each class in a split, binarised to ±1 at a pixel threshold. The
 * Hopfield reference system stores them as attractors (the quickstart) and classifies by its overlap with
 * them (the attack adapter), so both read them from here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { classHistogram, type Dataset } from './dataset.js';

/** ±1 prototypes [classes, height·width]: +1 where the class mean exceeds `threshold`. */
export function binaryClassPrototypes(data: Dataset, threshold: number): tf.Tensor2D {
  const n = data.height * data.width;
  const sums = new Float64Array(data.classes * n);
  const counts = classHistogram(data);
  for (let i = 0; i < data.count; i++) {
    const label = data.labels[i]!;
    for (let j = 0; j < n; j++) sums[label * n + j]! += data.images[i * n + j]!;
  }
  const values = new Float32Array(data.classes * n);
  for (let c = 0; c < data.classes; c++) {
    for (let j = 0; j < n; j++) values[c * n + j] = sums[c * n + j]! / Math.max(1, counts[c]!) > threshold ? 1 : -1;
  }
  return tf.tensor2d(values, [data.classes, n]);
}
