import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/base/errors.js';
import { makeRng, normalArray } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { loadDataset, subset } from '../../../src/data/index.js';
import { adam } from '../../../src/learning/optimizers.js';
import { train } from '../../../src/learning/train.js';
import { predifyDecoderRule } from '../../../src/families/predictive-coding/rule-predify.js';
import { predify, type PredifyParams, type PredifyState } from '../../../src/families/predictive-coding/system-predify.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const scaleOf = (a: tf.Tensor) => tf.tidy(() => Math.max(tf.max(tf.abs(a)).dataSync()[0]!, 1e-6));

// A tiny network: 8×8 image → 4×4×2 → 2×2×2 → 1×1×2, 3×3 kernels, distinct per-layer (β, λ, α).
const tinyOptions = { imageSize: 8, channels: [2, 2, 2], kernelSize: 3, hidden: 4, classes: 3, beta: [0.5, 0.6, 0.7], lambda: [0.2, 0.1, 0.3], alpha: [0.05, 0.1, 0.2] };

function tinyParams(net: ReturnType<typeof predify>, seed: number): PredifyParams {
  return { ...net.initBackbone(makeRng(seed)), ...net.initDecoders(makeRng(seed + 1)) };
}
const image = (seed: number, n: number, side: number) => tf.tensor4d(normalArray(makeRng(seed), n * side * side).map((v) => Math.abs(v)), [n, side, side, 1]);

/** The backbone block and the decoder written out again from the equations, and ∇ε by autodiff. */
function handBlock(below: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor): tf.Tensor4D {
  return tf.maxPool(tf.relu(tf.add(tf.conv2d(below, w as tf.Tensor4D, 1, 'same'), b)) as tf.Tensor4D, [2, 2], [2, 2], 'valid');
}
function handDecode(n: number, e: tf.Tensor4D, below: tf.Tensor4D, p: PredifyParams): tf.Tensor4D {
  const w = p[`dec${n}.w`] as tf.Tensor4D;
  const pad = below.shape[1] === 2 * e.shape[1] ? 'same' : 'valid';
  const pre = tf.add(tf.conv2dTranspose(e, w, below.shape as [number, number, number, number], 2, pad), p[`dec${n}.b`]!) as tf.Tensor4D;
  return n === 1 ? pre : tf.relu(pre);
}
function handErrorGradient(n: number, e: tf.Tensor4D, below: tf.Tensor4D, p: PredifyParams): tf.Tensor4D {
  // Σ over the batch of per-example means: each example's gradient is its own.
  return tf.grad((v: tf.Tensor) => tf.sum(tf.mean(tf.square(tf.sub(handDecode(n, v as tf.Tensor4D, below, p), below)), [1, 2, 3])))(e) as tf.Tensor4D;
}

describe('Predify dynamics against a hand computation on a tiny network', () => {
  it('t = 0 is the feedforward pass, with its predictions and error gradients', () => {
    tf.tidy(() => {
      const net = predify(tinyOptions);
      const p = tinyParams(net, 1);
      const x = image(2, 3, 8);
      const s0 = net.initState({ x }, p);
      let below: tf.Tensor4D = x;
      for (let n = 1; n <= 3; n++) {
        const e = handBlock(below, p[`conv${n}.w`]!, p[`conv${n}.b`]!);
        expect(maxAbsDiff(s0.reps[n - 1]!, e)).toBeLessThan(1e-6);
        expect(maxAbsDiff(s0.preds[n - 1]!, handDecode(n, e, below, p))).toBeLessThan(1e-6);
        const g = handErrorGradient(n, e, below, p);
        expect(maxAbsDiff(s0.grads[n - 1]!, g) / scaleOf(g)).toBeLessThan(1e-5);
        below = e;
      }
    });
  });

  it('one step: e_n(1) = β ff_n(new e_{n−1}) + λ d_{n+1}(0) + (1 − β − λ) e_n(0) − α ∇_n(0), bottom-up, top without feedback', () => {
    tf.tidy(() => {
      const net = predify(tinyOptions);
      const p = tinyParams(net, 3);
      const x = image(4, 2, 8);
      // A state away from the feedforward one, so memory, feedback and error terms all matter.
      const s0 = net.initState({ x, initial: net.shapes.slice(1).map(([h, w, c], i) => tf.tensor4d(normalArray(makeRng(10 + i), 2 * h * w * c), [2, h, w, c])) }, p);
      const s1 = net.step(s0, { x }, p, 0);
      const { beta, lambda, alpha } = tinyOptions;
      const expected: tf.Tensor4D[] = [];
      const jacobi: tf.Tensor4D[] = [];
      for (let n = 1; n <= 3; n++) {
        const i = n - 1;
        const l = n === 3 ? 0 : lambda[i]!;
        const update = (below: tf.Tensor4D) => {
          let e = tf.add(tf.mul(handBlock(below, p[`conv${n}.w`]!, p[`conv${n}.b`]!), beta[i]!), tf.mul(s0.reps[i]!, 1 - beta[i]! - l));
          if (n < 3) e = tf.add(e, tf.mul(handDecode(n + 1, s0.reps[i + 1]!, s0.reps[i]!, p), l));
          return tf.sub(e, tf.mul(handErrorGradient(n, s0.reps[i]!, n === 1 ? x : s0.reps[i - 1]!, p), alpha[i]!)) as tf.Tensor4D;
        };
        expected.push(update(n === 1 ? x : expected[i - 1]!));
        jacobi.push(update(n === 1 ? x : s0.reps[i - 1]!));
      }
      for (let n = 1; n <= 3; n++) {
        expect(maxAbsDiff(s1.reps[n - 1]!, expected[n - 1]!) / scaleOf(expected[n - 1]!), `layer ${n}`).toBeLessThan(1e-5);
        // The new predictions and gradients are those of the updated layer against the updated layer below.
        const below = n === 1 ? x : expected[n - 2]!;
        expect(maxAbsDiff(s1.grads[n - 1]!, handErrorGradient(n, expected[n - 1]!, below, p)) / scaleOf(s1.grads[n - 1]!)).toBeLessThan(1e-4);
      }
      // The schedule is visible: layers 2 and 3 differ from what the old layer below would give.
      for (let n = 2; n <= 3; n++) expect(maxAbsDiff(s1.reps[n - 1]!, jacobi[n - 1]!), `layer ${n} bottom-up vs Jacobi`).toBeGreaterThan(1e-3);
    });
  });

  it('β = 1, λ = α = 0 keeps the feedforward pass at every step; gradient scaling follows √(M²/(k²C))', () => {
    tf.tidy(() => {
      const net = predify({ ...tinyOptions, beta: 1, lambda: 0, alpha: 0 });
      const p = tinyParams(net, 5);
      const x = image(6, 2, 8);
      const sol = simulate({ system: net, params: p, input: { x }, maxSteps: 4 });
      const ff = net.feedforward(x, p);
      ff.forEach((e, i) => expect(maxAbsDiff(sol.state.reps[i]!, e)).toBeLessThan(1e-6));
      sol.dispose();
      // layer 1 predicts the 8×8×1 image with a 3×3 kernel: √(64²/(9·1)) = 21.33 → 21
      expect(predify({ ...tinyOptions, gradientScaling: true }).errorScale).toEqual([21, Math.round(Math.sqrt(32 ** 2 / (9 * 2))), Math.round(Math.sqrt(8 ** 2 / (9 * 2)))]);
    });
  });

  it('refuses β + λ > 1 and per-layer lists of the wrong length, naming the field', () => {
    expect(() => predify({ ...tinyOptions, beta: [0.8, 0.8, 0.8], lambda: [0.3, 0.3, 0] })).toThrow(SpecError);
    expect(() => predify({ ...tinyOptions, alpha: [0.1, 0.1] })).toThrow(/system.alpha/);
  });

  it('cpu and wasm agree over five steps, and a disposed run leaves no tensor behind', async () => {
    const run = () =>
      tf.tidy(() => {
        const net = predify(tinyOptions);
        const p = tinyParams(net, 7);
        const sol = simulate({ system: net, params: p, input: { x: image(8, 2, 8) }, maxSteps: 5 });
        const out = sol.state.reps.map((t) => Float32Array.from(t.dataSync()));
        sol.dispose();
        return out;
      });
    await useBackend('cpu');
    const onCpu = run();
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const onWasm = run();
    expect(tf.memory().numTensors).toBe(before);
    onCpu.forEach((c, i) => {
      const scale = Math.max(...c.map(Math.abs));
      expect(Math.max(...c.map((v, j) => Math.abs(v - onWasm[i]![j]!))) / scale).toBeLessThan(1e-5);
    });
  });
});

describe('Predify decoder training', () => {
  it('changes only decoder parameters, lowers the reconstruction loss and leaks nothing', async () => {
    const net = predify({ imageSize: 28, channels: [4, 4, 4], kernelSize: 5, hidden: 8 });
    const data = subset(loadDataset('mnist-embedded').train, 0, 128);
    const before = tf.memory().numTensors;
    const params = { ...net.initBackbone(makeRng(1)), ...net.initDecoders(makeRng(2)) };
    const copies = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
    const losses: number[] = [];
    const result = await train({ params, rule: predifyDecoderRule(net), optimizer: adam({ lr: 3e-3 }), data, layout: 'nhwc', batchSize: 32, epochs: 3, rng: makeRng(3), onEpoch: (r) => void losses.push(r.metrics.loss!) });
    for (const name of net.backboneNames) expect(Array.from(result.params[name]!.dataSync()), name).toEqual(Array.from(copies[name]!));
    for (const name of net.decoderNames) expect(Array.from(result.params[name]!.dataSync()), name).not.toEqual(Array.from(copies[name]!));
    expect(losses[2]!).toBeLessThan(losses[0]!);
    tf.dispose([...Object.values(result.params), ...Object.values(result.state.slots).flatMap((s) => Object.values(s))]);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
