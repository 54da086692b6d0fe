import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng, normalArray } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { loadDataset, subset, toTensors } from '../../../src/data/index.js';
import { predifyClassifier, predifyFirstPassClassifier } from '../../../src/families/predictive-coding/classifier-predify.js';
import { predify } from '../../../src/families/predictive-coding/system-predify.js';
import type { ModelSource } from '../../../src/attacks/models/source.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const systemSpec = { kind: 'predify', channels: [3, 4, 4], kernelSize: 5, hidden: 8, classes: 10, beta: 0.6, lambda: 0.2, alpha: 0.3 };

function source(): ModelSource {
  const net = predify({ ...systemSpec, imageSize: 28 });
  const params = { ...net.initBackbone(makeRng(1)), ...net.initDecoders(makeRng(2)) };
  const data = loadDataset('mnist-embedded');
  return { origin: 'test', system: systemSpec, run: { dt: 1, maxSteps: 4 }, data, trained: { params, trainedBy: 'test' } };
}

describe('Predify as an attackable classifier', () => {
  it('the whole loop scores the head on e_N(T); the first pass is the backbone alone', () => {
    const before = tf.memory().numTensors;
    const loop = predifyClassifier(source());
    const first = predifyFirstPassClassifier(source());
    const { x, y } = toTensors(subset(loadDataset('mnist-embedded').test, 0, 6), { layout: 'flat' });
    y.dispose();
    tf.tidy(() => {
      const net = predify({ ...systemSpec, imageSize: 28 });
      const p = source().trained!.params;
      const images = tf.reshape(x, [6, 28, 28, 1]) as tf.Tensor4D;
      const sol = simulate({ system: net, params: p, input: { x: images }, maxSteps: 4 });
      const loopRun = loop.run(x);
      expect(tf.max(tf.abs(tf.sub(loopRun.logits, net.readout!(sol.state, { x: images }, p)))).dataSync()[0]).toBeLessThan(1e-5);
      const firstRun = first.run(x);
      const backbone = net.head(net.feedforward(images, p).at(-1)!, p);
      expect(tf.max(tf.abs(tf.sub(firstRun.logits, backbone))).dataSync()[0]).toBeLessThan(1e-5);
      // and the loop does change the scores (the test would pass vacuously otherwise)
      expect(tf.max(tf.abs(tf.sub(loopRun.logits, backbone))).dataSync()[0]).toBeGreaterThan(1e-3);
      sol.dispose();
      loopRun.dispose();
      firstRun.dispose();
      tf.dispose(Object.values(p));
    });
    x.dispose();
    loop.dispose();
    first.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('the gradient through all timesteps (unrolled) matches central finite differences along the steepest direction', async () => {
    await useBackend('cpu');
    try {
      const loop = predifyClassifier(source());
      // Dense random images: a digit's black background gives exact ties in the max-pool windows and units
      // sitting on ReLU kinks, where the map is not differentiable and finite differences see one side.
      const x = tf.tensor2d(normalArray(makeRng(4), 2 * 784).map(Math.abs), [2, 784]);
      const w = tf.tensor2d(normalArray(makeRng(5), 20), [2, 10]);
      const f = (input: tf.Tensor) => {
        const run = loop.run(input, { gradient: { kind: 'unrolled' } });
        const value = tf.sum(tf.mul(run.logits, w)) as tf.Scalar;
        return value;
      };
      const g = tf.grad((input: tf.Tensor) => f(input))(x);
      // Along u = g/‖g‖ the directional derivative is ‖g‖, far above float32 finite-difference resolution
      // (≈ 1e-6 |f| / ε); a wrong gradient, in size or direction, gives f'(x; u) = ⟨g_true, u⟩ ≠ ‖g‖. Along
      // random directions the derivative is of the order of that resolution here, so those are not checked.
      const u = tf.div(g, tf.norm(g));
      const analytic = tf.norm(g).dataSync()[0]!;
      for (const eps of [1e-2, 3e-3]) {
        const plus = tf.tidy(() => f(tf.add(x, tf.mul(u, eps))).dataSync()[0]!);
        const minus = tf.tidy(() => f(tf.sub(x, tf.mul(u, eps))).dataSync()[0]!);
        const numeric = (plus - minus) / (2 * eps);
        expect(Math.abs(analytic - numeric) / Math.abs(numeric), `ε ${eps}: ${analytic} vs ${numeric}`).toBeLessThan(0.03);
      }
      u.dispose();
      tf.dispose([x, w, g]);
      loop.dispose();
    } finally {
      await useBackend('wasm');
    }
  }, 60_000);
});
