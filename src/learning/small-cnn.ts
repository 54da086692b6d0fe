/**
 * A small CNN for 28×28 grey images, the undefended baseline the similarity regularizer is tried on:
 *
 *   x → conv k×k (c₁ filters, 'same') → ReLU → 2×2 max-pool → conv 3×3 (c₂, 'same') → ReLU → 2×2 max-pool
 *     → dense → class scores.
 *
 * `layers(params, x)` returns the two post-ReLU conv maps, the representations whose similarity can be
 * matched (Li et al. mix 5 layers of a ResNet18; here both conv layers). He-normal weights (std √(2/fan-in))
 * from the seeded Rng, zero biases; dotted parameter names (`cnn.conv1.weights` …).
 */
import * as tf from '@tensorflow/tfjs-core';
import { randomNormal, type Rng } from '../base/rng.js';
import type { ParamMap } from './optimizers.js';

export interface SmallCnnSpec {
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  readonly conv1: number;
  readonly conv2: number;
  readonly kernel1: number;
}

export function initSmallCnn(spec: SmallCnnSpec, rng: Rng): ParamMap {
  const flat = Math.floor(spec.height / 4) * Math.floor(spec.width / 4) * spec.conv2;
  const k = spec.kernel1;
  return {
    'cnn.conv1.weights': randomNormal(rng.split('conv1'), [k, k, 1, spec.conv1], Math.sqrt(2 / (k * k))),
    'cnn.conv1.bias': tf.zeros([spec.conv1]),
    'cnn.conv2.weights': randomNormal(rng.split('conv2'), [3, 3, spec.conv1, spec.conv2], Math.sqrt(2 / (9 * spec.conv1))),
    'cnn.conv2.bias': tf.zeros([spec.conv2]),
    'cnn.dense.weights': randomNormal(rng.split('dense'), [flat, spec.classes], Math.sqrt(2 / flat)),
    'cnn.dense.bias': tf.zeros([spec.classes]),
  };
}

function asImages(spec: SmallCnnSpec, x: tf.Tensor): tf.Tensor4D {
  return (x.rank === 4 ? x : tf.reshape(x, [x.shape[0]!, spec.height, spec.width, 1])) as tf.Tensor4D;
}

/** The post-ReLU maps of both conv layers, [n, H, W, c₁] and [n, H/2, W/2, c₂]. */
export function smallCnnLayers(spec: SmallCnnSpec, params: ParamMap, x: tf.Tensor): [tf.Tensor4D, tf.Tensor4D] {
  const h1 = tf.relu(tf.add(tf.conv2d(asImages(spec, x), params['cnn.conv1.weights'] as tf.Tensor4D, 1, 'same'), params['cnn.conv1.bias']!)) as tf.Tensor4D;
  const h2 = tf.relu(tf.add(tf.conv2d(tf.maxPool(h1, 2, 2, 'valid'), params['cnn.conv2.weights'] as tf.Tensor4D, 1, 'same'), params['cnn.conv2.bias']!)) as tf.Tensor4D;
  return [h1, h2];
}

/** Class scores [n, classes]; x is [n, H·W] or [n, H, W, 1]. */
export function smallCnnLogits(spec: SmallCnnSpec, params: ParamMap, x: tf.Tensor): tf.Tensor2D {
  const [, h2] = smallCnnLayers(spec, params, x);
  const pooled = tf.maxPool(h2, 2, 2, 'valid');
  return tf.add(tf.matMul(tf.reshape(pooled, [x.shape[0]!, -1]), params['cnn.dense.weights'] as tf.Tensor2D), params['cnn.dense.bias']!) as tf.Tensor2D;
}
