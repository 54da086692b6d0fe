/**
 * A small undefended feed-forward net (784-64-10, relu) trained in the test itself on the embedded MNIST
 * with Adam, for the attacks' sanity checks. Trained once per test file (a few seconds on wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeRng, randomNormal } from '../../src/base/rng.js';
import { loadDataset, toTensors, type Split } from '../../src/data/index.js';
import { backprop } from '../../src/learning/backprop.js';
import { adam } from '../../src/learning/optimizers.js';
import { train } from '../../src/learning/train.js';
import { feedForwardClassifier, feedForwardLogits } from '../../src/attacks/models/index.js';
import type { DynamicsClassifier } from '../../src/attacks/classifier.js';

export async function trainedNet(seed = 0, hidden = 64, epochs = 3): Promise<{ classifier: DynamicsClassifier; data: Split }> {
  const data = loadDataset('mnist-embedded');
  const rng = makeRng(seed);
  const params = {
    w1: tf.mul(randomNormal(rng.split('w1'), [784, hidden]), Math.sqrt(2 / 784)),
    b1: tf.zeros([hidden]),
    w2: tf.mul(randomNormal(rng.split('w2'), [hidden, 10]), Math.sqrt(1 / hidden)),
    b2: tf.zeros([10]),
  };
  const layersOf = (p: Record<string, tf.Tensor>) => [
    { weights: p.w1 as tf.Tensor2D, bias: p.b1 as tf.Tensor1D },
    { weights: p.w2 as tf.Tensor2D, bias: p.b2 as tf.Tensor1D },
  ];
  const rule = backprop({
    modifies: ['w1', 'b1', 'w2', 'b2'],
    loss: (p, batch) => ({ loss: tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y!, 10), feedForwardLogits(layersOf(p), batch.x)) as tf.Scalar }),
  });
  const result = await train({ params, rule, optimizer: adam({ lr: 0.003 }), data: data.train, layout: 'flat', batchSize: 64, epochs, rng: rng.split('train') });
  tf.dispose(Object.values(result.state.slots).flatMap((s) => Object.values(s)));
  return { classifier: feedForwardClassifier({ layers: layersOf(result.params), imageShape: [28, 28, 1] }), data };
}

/** The first `count` test examples as tensors. */
export function testBatch(data: Split, count: number, start = 0): { x: tf.Tensor2D; labels: tf.Tensor1D } {
  const { x, y } = toTensors(data.test, { start, count, layout: 'flat' });
  return { x: x as tf.Tensor2D, labels: y };
}
