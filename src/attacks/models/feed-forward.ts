/**
 * A plain feed-forward net as a DynamicsClassifier: logits = W_L relu(… relu(x W_1 + b_1) …) + b_L. It has
 * no relaxation (0 steps), so every gradient mode gives the same exact gradient; it is the undefended
 * baseline on which the attacks' sanity checks run (iterative beats one-step, accuracy reaches 0 at
 * large ε, doubling the steps changes little, gradient-free does not beat white-box), and a source model
 * for transfer attacks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import type { DynamicsClassifier } from '../classifier.js';
import { functionClassifier } from './function-classifier.js';

export interface DenseLayer {
  readonly weights: tf.Tensor2D;
  readonly bias: tf.Tensor1D;
}

export interface FeedForwardOptions {
  readonly name?: string;
  readonly layers: readonly DenseLayer[];
  readonly imageShape: readonly [number, number, number];
  readonly bounds?: readonly [number, number];
  /** Whether `dispose` frees the layers (default true). */
  readonly ownsParams?: boolean;
}

export function feedForwardLogits(layers: readonly DenseLayer[], x: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    let h = tf.reshape(x, [x.shape[0]!, -1]) as tf.Tensor2D;
    layers.forEach((layer, i) => {
      h = tf.add(tf.matMul(h, layer.weights), layer.bias) as tf.Tensor2D;
      if (i < layers.length - 1) h = tf.relu(h);
    });
    return h;
  });
}

export function feedForwardClassifier(options: FeedForwardOptions): DynamicsClassifier {
  const { layers, imageShape } = options;
  if (layers.length === 0) throw new SpecError('layers', 'a feed-forward classifier needs at least one layer');
  const inputSize = layers[0]!.weights.shape[0];
  if (inputSize !== imageShape[0] * imageShape[1] * imageShape[2]) {
    throw new SpecError('imageShape', `[${imageShape.join(', ')}] has ${imageShape[0] * imageShape[1] * imageShape[2]} values but the first layer takes ${inputSize}`);
  }
  return functionClassifier({
    name: options.name ?? `feed-forward ${[inputSize, ...layers.map((l) => l.weights.shape[1])].join('-')}`,
    classes: layers[layers.length - 1]!.weights.shape[1],
    imageShape,
    bounds: options.bounds ?? [0, 1],
    logits: (x) => feedForwardLogits(layers, x),
    dispose: () => {
      if (options.ownsParams ?? true) tf.dispose(layers.flatMap((l) => [l.weights, l.bias]));
    },
  });
}
