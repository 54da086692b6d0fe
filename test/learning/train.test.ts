import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { loadDataset, toTensors } from '../../src/data/index.js';
import { backprop } from '../../src/learning/backprop.js';
import { adam, sgd, type ParamMap } from '../../src/learning/optimizers.js';
import { train } from '../../src/learning/train.js';
import { useBackend } from '../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('optimizers', () => {
  it('Adam takes the bias-corrected first step -lr·sign(g) and SGD with momentum accumulates velocity', () => {
    const params = { w: tf.tensor1d([1, -2, 3]) };
    const g = { w: tf.tensor1d([0.5, -4, 0.001]) };
    const a = adam({ lr: 0.1 });
    const s0 = a.init(params);
    const { params: p1 } = a.step(params, g, s0);
    // m̂ = g, v̂ = g² after one step, so the step is lr · g/|g| (up to ε).
    const expected = [1 - 0.1, -2 + 0.1, 3 - 0.1 * (0.001 / (0.001 + 1e-8))];
    (p1.w!.arraySync() as number[]).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    const m = sgd({ lr: 0.1, momentum: 0.9 });
    let state = m.init(params);
    let p: ParamMap = params;
    for (let i = 0; i < 2; i++) ({ params: p, state } = m.step(p, g, state));
    // v1 = g, v2 = 0.9 g + g = 1.9 g; θ2 = θ0 - 0.1 (g + 1.9 g) = θ0 - 0.29 g.
    (p.w!.arraySync() as number[]).forEach((v, i) => expect(v).toBeCloseTo([1, -2, 3][i]! - 0.29 * [0.5, -4, 0.001][i]!, 5));
  });

  it('per-parameter learning rates, and a clear error for a parameter without one', () => {
    const params = { a: tf.scalar(1), b: tf.scalar(1) };
    const g = { a: tf.scalar(1), b: tf.scalar(1) };
    const opt = sgd({ lr: { a: 0.5, b: 0.1 } });
    const { params: p } = opt.step(params, g, opt.init(params));
    expect(p.a!.dataSync()[0]).toBeCloseTo(0.5);
    expect(p.b!.dataSync()[0]).toBeCloseTo(0.9);
    expect(() => sgd({ lr: { a: 0.5 } }).step(params, g, { step: 0, slots: {} })).toThrow(/no learning rate for parameter "b"/);
  });
});

describe('train()', () => {
  it('logistic regression by backprop on the embedded MNIST reaches > 85% test accuracy, with no tensor left behind', async () => {
    const { train: trainSet, test } = loadDataset('mnist-embedded');
    const before = tf.memory().numTensors;
    const params = { w: tf.zeros([784, 10]), b: tf.zeros([10]) };
    const rule = backprop({
      modifies: ['w', 'b'],
      loss: (p, batch) => {
        const logits = tf.add(tf.matMul(batch.x, p.w!), p.b!);
        return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y!, 10), logits) as tf.Scalar };
      },
    });
    const losses: number[] = [];
    const result = await train({
      params,
      rule,
      optimizer: sgd({ lr: 0.05, momentum: 0.9 }),
      data: trainSet,
      layout: 'flat',
      batchSize: 100,
      epochs: 2,
      limit: 4000,
      rng: makeRng(0),
      onEpoch: (report) => void losses.push(report.metrics.loss!),
    });
    expect(losses[1]!).toBeLessThan(losses[0]!);
    const { x, y } = toTensors(test, { layout: 'flat' });
    const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(tf.add(tf.matMul(x, result.params.w!), result.params.b!), 1), y), 'float32')).dataSync()[0]!);
    expect(accuracy).toBeGreaterThan(0.85);
    tf.dispose([x, y, ...Object.values(result.params), ...Object.values(result.state.slots).flatMap((s) => Object.values(s))]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
