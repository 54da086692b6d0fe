/**
 * Classification accuracy: the fraction of examples whose largest class score is the label. One definition
 * for every job (a batch's accuracy as a training metric, a dataset's in batches for evaluation), so EP,
 * LCANet and every family that lands later count a hit the same way (ties go to the lowest index, as
 * argMax does).
 */
import * as tf from '@tensorflow/tfjs-core';
import { toTensors, type Dataset, type ImageLayout } from './dataset.js';

/** Mean of argmax(logits) = label over the batch, as a scalar tensor (a training metric). */
export function batchAccuracy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32')) as tf.Scalar);
}

export interface DatasetAccuracyOptions {
  readonly layout: ImageLayout;
  /** Evaluate the first `limit` examples only (default all). */
  readonly limit?: number;
  readonly batchSize?: number;
}

/**
 * Accuracy of `logitsOf` over a dataset, `batchSize` examples at a time. `logitsOf` may leave intermediates
 * (each batch runs in its own tidy scope) and must return [batch, classes].
 */
export function datasetAccuracy(logitsOf: (x: tf.Tensor) => tf.Tensor, data: Dataset, options: DatasetAccuracyOptions): number {
  const count = Math.min(options.limit ?? data.count, data.count);
  const batchSize = options.batchSize ?? 500;
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const { x, y } = toTensors(data, { start, count: n, layout: options.layout });
    correct += tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logitsOf(x), 1), tf.cast(y, 'int32')), 'float32')).dataSync()[0]!);
    tf.dispose([x, y]);
  }
  return count === 0 ? Number.NaN : correct / count;
}
