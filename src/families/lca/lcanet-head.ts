/**
 * The networks of an LCANet comparison (Teti et al., "LCANets: Lateral competition improves robustness
 * against corruption and attack", ICML 2022): a front end that turns an image [B, H, W, C] into feature maps
 * [B, H', W', K], followed by a small classifier head trained by backprop.
 *
 * - LCANet front end: the sparse code of a convolutional LCA (src/systems/lca-conv.ts) with a learned
 *   dictionary; the code is non-negative, like a ReLU layer's output.
 * - Baseline front end: the ordinary layer LCANets replace, a learned convolution of the same geometry
 *   (K filters of k×k, same stride and padding) followed by ReLU.
 * - Head ('cnn'): conv 3×3 (`channels` filters, 'same') → ReLU → 2×2 max-pool → dense → class scores;
 *   ('mlp'): dense (`hidden` units) → ReLU → dense → class scores.
 *
 * Parameters are a flat ParamMap with dotted names (`head.conv.weights`, `front.weights` ...), initialised
 * with He-normal weights (Kaiming: std √(2 / fan-in)) from the seeded Rng, zero biases.
 */
import * as tf from '@tensorflow/tfjs-core';
import { randomNormal, type Rng } from '../../base/rng.js';
import type { ParamMap } from '../../learning/optimizers.js';

export interface HeadSpec {
  readonly kind: 'cnn' | 'mlp';
  /** Shape of one front-end output [H', W', K]. */
  readonly inputShape: readonly [number, number, number];
  readonly classes: number;
  /** Filters of the head's convolution ('cnn', default 32). */
  readonly channels?: number;
  /** Hidden units ('mlp', default 256). */
  readonly hidden?: number;
}

export interface ConvFrontEndSpec {
  readonly inputChannels: number;
  readonly features: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: 'same' | 'valid';
}

function heNormal(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  return randomNormal(rng, shape, Math.sqrt(2 / fanIn));
}

function pooledSize(spec: HeadSpec): number {
  const [h, w] = spec.inputShape;
  return Math.floor(h / 2) * Math.floor(w / 2) * (spec.channels ?? 32);
}

export function initHead(spec: HeadSpec, rng: Rng): ParamMap {
  const [h, w, k] = spec.inputShape;
  if (spec.kind === 'cnn') {
    const channels = spec.channels ?? 32;
    const flat = pooledSize(spec);
    return {
      'head.conv.weights': heNormal(rng.split('conv'), [3, 3, k, channels], 9 * k),
      'head.conv.bias': tf.zeros([channels]),
      'head.dense.weights': heNormal(rng.split('dense'), [flat, spec.classes], flat),
      'head.dense.bias': tf.zeros([spec.classes]),
    };
  }
  const hidden = spec.hidden ?? 256;
  const inputs = h * w * k;
  return {
    'head.hidden.weights': heNormal(rng.split('hidden'), [inputs, hidden], inputs),
    'head.hidden.bias': tf.zeros([hidden]),
    'head.dense.weights': heNormal(rng.split('dense'), [hidden, spec.classes], hidden),
    'head.dense.bias': tf.zeros([spec.classes]),
  };
}

/** Class scores [B, classes] from front-end features [B, H', W', K]. */
export function headLogits(spec: HeadSpec, params: ParamMap, features: tf.Tensor): tf.Tensor2D {
  const batch = features.shape[0]!;
  if (spec.kind === 'cnn') {
    const conv = tf.relu(tf.add(tf.conv2d(features as tf.Tensor4D, params['head.conv.weights'] as tf.Tensor4D, 1, 'same'), params['head.conv.bias']!));
    const pooled = tf.maxPool(conv as tf.Tensor4D, 2, 2, 'valid');
    return tf.add(tf.matMul(tf.reshape(pooled, [batch, -1]), params['head.dense.weights'] as tf.Tensor2D), params['head.dense.bias']!) as tf.Tensor2D;
  }
  const hidden = tf.relu(tf.add(tf.matMul(tf.reshape(features, [batch, -1]), params['head.hidden.weights'] as tf.Tensor2D), params['head.hidden.bias']!));
  return tf.add(tf.matMul(hidden as tf.Tensor2D, params['head.dense.weights'] as tf.Tensor2D), params['head.dense.bias']!) as tf.Tensor2D;
}

export function initConvFrontEnd(spec: ConvFrontEndSpec, rng: Rng): ParamMap {
  const { kernelSize: k, inputChannels: c, features } = spec;
  return { 'front.weights': heNormal(rng, [k, k, c, features], k * k * c), 'front.bias': tf.zeros([features]) };
}

/** relu(conv(x, W) + b), with lcapt's 'same' alignment (k//2 on every side) so its maps line up with the LCA code's. */
export function convFrontEnd(spec: ConvFrontEndSpec, params: ParamMap, x: tf.Tensor): tf.Tensor {
  const half = (spec.kernelSize - 1) / 2;
  const pad = spec.padding === 'same' ? ([[0, 0], [half, half], [half, half], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]) : 'valid';
  return tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, params['front.weights'] as tf.Tensor4D, spec.stride, pad), params['front.bias']!));
}

/** Mean softmax cross-entropy of integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
  return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
}
