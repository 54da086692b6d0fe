import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng, normalArray, randomNormal } from '../../../src/base/rng.js';
import { makeDataset } from '../../../src/data/index.js';
import { adam } from '../../../src/learning/optimizers.js';
import { GAMMA_PARAM, similarityRegularizer, type LayerFeatures } from '../../../src/learning/similarity/regularizer.js';
import { centredCosine, fisherZLoss, runningCentredCosine, similarityCorrelation } from '../../../src/learning/similarity/similarity.js';
import { pixelTarget, shuffledTarget, type SimilarityTarget } from '../../../src/learning/similarity/targets/index.js';
import { trainRegularized } from '../../../src/learning/similarity/train-regularized.js';
import { liveTensorCount, useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** S_ij = e_i·e_j with e_i = (f_i − m)/‖f_i − m‖, by two loops, float64; m per element or per channel. */
function directSimilarity(f: Float32Array, n: number, d: number, mean: Float64Array): Float64Array {
  const e = Array.from({ length: n }, (_, i) => {
    const v = Array.from({ length: d }, (_, a) => f[i * d + a]! - mean[a]!);
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / norm);
  });
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = e[i]!.reduce((acc, x, a) => acc + x * e[j]![a]!, 0);
  return s;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('representational similarity', () => {
  it('centred cosine (mean over stimuli) equals a direct double loop', () => {
    const n = 7;
    const shape = [n, 3, 2, 2];
    const d = 12;
    const f = normalArray(makeRng(3), n * d, 1, 0.5);
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) mean[a]! += f[i * d + a]! / n;
    const expected = directSimilarity(f, n, d, mean);
    const got = tf.tidy(() => centredCosine(tf.tensor(f, shape)).dataSync());
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5);
  });

  it('running channel-mean centring: first step subtracts the batch channel mean, then β m + (1 − β) m_batch', () => {
    const n = 5;
    const [h, w, c] = [2, 2, 3];
    const f1 = normalArray(makeRng(4), n * h * w * c, 1, 1);
    const f2 = normalArray(makeRng(5), n * h * w * c, 1, -1);
    const channelMean = (f: Float32Array) => {
      const m = new Float64Array(c);
      for (let k = 0; k < f.length; k++) m[k % c]! += f[k]! / (n * h * w);
      return m;
    };
    const expand = (m: Float64Array) => Float64Array.from({ length: h * w * c }, (_, k) => m[k % c]!);
    const m1 = channelMean(f1);
    const m2 = Float64Array.from(channelMean(f2), (v, k) => 0.9 * m1[k]! + 0.1 * v);
    const [s1, s2, r2] = tf.tidy(() => {
      const a = runningCentredCosine(tf.tensor(f1, [n, h, w, c]), undefined, 0.9);
      const b = runningCentredCosine(tf.tensor(f2, [n, h, w, c]), a.running, 0.9);
      return [a.similarity.dataSync(), b.similarity.dataSync(), b.running.dataSync()];
    });
    expect(maxAbsDiff(r2!, m2)).toBeLessThan(1e-6);
    expect(maxAbsDiff(s1!, directSimilarity(f1, n, h * w * c, expand(m1)))).toBeLessThan(1e-5);
    expect(maxAbsDiff(s2!, directSimilarity(f2, n, h * w * c, expand(m2)))).toBeLessThan(1e-5);
  });

  it('Fisher-z loss = mean over i ≠ j of (atanh S − atanh T)², with |S| clamped below 1', () => {
    const n = 6;
    const rng = makeRng(6);
    const s = Float32Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 1.8 * rng.uniform() - 0.9));
    const t = Float32Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 1.8 * rng.uniform() - 0.9));
    let expected = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) expected += (Math.atanh(s[i * n + j]!) - Math.atanh(t[i * n + j]!)) ** 2 / (n * (n - 1));
    const got = tf.tidy(() => fisherZLoss(tf.tensor2d(s, [n, n]), tf.tensor2d(t, [n, n])).dataSync()[0]!);
    expect(got).toBeCloseTo(expected, 4);
    // Entries at ±1 off the diagonal stay finite.
    const edge = Float32Array.from(s, (v, k) => (k === 1 ? 1 : v));
    const finite = tf.tidy(() => fisherZLoss(tf.tensor2d(edge, [n, n]), tf.tensor2d(t, [n, n])).dataSync()[0]!);
    expect(Number.isFinite(finite)).toBe(true);
  });

  it("the regularizer's gradient (network weights and γ logits) matches central finite differences", () => {
    const n = 6;
    const rng = makeRng(7);
    const x = randomNormal(rng.split('x'), [n, 5]);
    const params: Record<string, tf.Tensor> = { w1: randomNormal(rng.split('w1'), [5, 4]), w2: randomNormal(rng.split('w2'), [4, 3]), [GAMMA_PARAM]: tf.tensor1d([0.3, -0.2]) };
    const features: LayerFeatures = (p, input) => {
      const h1 = tf.tanh(tf.matMul(input as tf.Tensor2D, p.w1 as tf.Tensor2D));
      return [h1, tf.tanh(tf.matMul(h1, p.w2 as tf.Tensor2D))];
    };
    const targetValues = new Float32Array(n * n);
    const tr = makeRng(8);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) targetValues[i * n + j] = targetValues[j * n + i] = i === j ? 1 : 1.4 * tr.uniform() - 0.7;
    const target = tf.tensor2d(targetValues, [n, n]);
    const reg = similarityRegularizer({ alpha: 3 });
    const names = ['w1', 'w2', GAMMA_PARAM];
    const lossOf = (p: Record<string, tf.Tensor>) => reg.loss(p, features, x, target, reg.initState()).loss;
    const grads = tf.tidy(() => tf.grads((...args: tf.Tensor[]) => lossOf({ ...params, ...Object.fromEntries(names.map((k, i) => [k, args[i]!])) }))(names.map((k) => params[k]!)).map((g) => Array.from(g.dataSync())));
    const h = 1e-2;
    names.forEach((name, pi) => {
      const base = params[name]!.dataSync();
      for (let k = 0; k < base.length; k++) {
        const at = (delta: number) =>
          tf.tidy(() => {
            const v = Float32Array.from(base);
            v[k]! += delta;
            return lossOf({ ...params, [name]: tf.tensor(v, params[name]!.shape) }).dataSync()[0]!;
          });
        const fd = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(grads[pi]![k]! - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
      }
    });
    tf.dispose([x, target, ...Object.values(params)]);
  });
});

function toyTarget(n: number, seed: number): SimilarityTarget {
  const images = Float32Array.from(normalArray(makeRng(seed), n * 16), (v) => Math.min(1, Math.max(0, 0.5 + 0.2 * v)));
  const stimuli = makeDataset({ name: 'toy', source: 'test', images, labels: new Uint8Array(n), count: n, height: 4, width: 4, classes: 1, classNames: ['x'] });
  return pixelTarget('toy', stimuli);
}

describe('shuffled control', () => {
  for (const mode of ['stimuli', 'entries'] as const) {
    it(`${mode}: keeps the multiset of off-diagonal entries, symmetry and the diagonal, and moves entries`, () => {
      const n = 12;
      const t = toyTarget(n, 9);
      const s = shuffledTarget(t, mode, makeRng(10));
      const off = (m: Float32Array) => {
        const v: number[] = [];
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) v.push(m[i * n + j]!);
        return v.sort((a, b) => a - b);
      };
      expect(off(s.matrix)).toEqual(off(t.matrix));
      for (let i = 0; i < n; i++) {
        expect(s.matrix[i * n + i]).toBeCloseTo(t.matrix[i * n + i]!, 6);
        for (let j = 0; j < n; j++) expect(s.matrix[i * n + j]).toBe(s.matrix[j * n + i]);
      }
      expect(Math.abs(similarityCorrelation(s.matrix, t.matrix, n))).toBeLessThan(0.9);
      expect(s.name).toBe('toy-shuffled');
    });
  }
});

describe('joint training', () => {
  it('pulls the similarity toward the target more than the baseline arm does, leaves no tensors behind (both centrings)', async () => {
    const n = 40;
    const target = toyTarget(n, 11);
    const rng = makeRng(12);
    const images = Float32Array.from(normalArray(rng.split('images'), 64 * 16), (v) => Math.min(1, Math.max(0, 0.5 + 0.3 * v)));
    const labels = Uint8Array.from({ length: 64 }, (_, i) => i % 2);
    const data = makeDataset({ name: 'toy-task', source: 'test', images, labels, count: 64, height: 4, width: 4, classes: 2, classNames: ['a', 'b'] });
    const features: LayerFeatures = (p, x) => [tf.relu(tf.matMul(tf.reshape(x, [x.shape[0]!, 16]) as tf.Tensor2D, p.w as tf.Tensor2D))];
    const taskLoss = (p: Record<string, tf.Tensor>, x: tf.Tensor, y: tf.Tensor1D) => {
      const logits = tf.matMul(features(p, x)[0] as tf.Tensor2D, p.v as tf.Tensor2D);
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, 'int32'), 2), logits) as tf.Scalar;
      return { loss, accuracy: tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(y, 'int32')), 'float32')) as tf.Scalar };
    };
    const stimuliX = tf.tensor(target.stimuli.images, [n, 4, 4, 1]);
    const measure = (p: Record<string, tf.Tensor>) => tf.tidy(() => similarityCorrelation(centredCosine(features(p, stimuliX)[0]!).dataSync(), target.matrix, n));
    for (const centring of ['stimulus-mean', 'running-channel-mean'] as const) {
      const before = liveTensorCount();
      const results: number[] = [];
      for (const alpha of [0, 5]) {
        const reg = similarityRegularizer({ alpha, centring });
        const init = { w: randomNormal(makeRng(13), [16, 24], 0.3), v: randomNormal(makeRng(14), [24, 2], 0.3), [GAMMA_PARAM]: reg.initGamma(1) };
        const out = await trainRegularized({
          params: init,
          modifies: ['w', 'v', GAMMA_PARAM],
          taskLoss,
          features,
          regularizer: reg,
          target: { stimuli: target.stimuli, matrix: target.matrix },
          stimuliPerStep: 16,
          optimizer: adam({ lr: 0.01 }),
          data,
          layout: 'nhwc',
          batchSize: 16,
          epochs: 15,
          rng: makeRng(15),
        });
        results.push(measure(out.params as Record<string, tf.Tensor>));
        tf.dispose([...Object.values(out.params), ...Object.values(out.state.slots).flatMap((s) => Object.values(s))]);
      }
      expect(liveTensorCount()).toBe(before);
      expect(results[1]!).toBeGreaterThan(results[0]! + 0.05);
      expect(results[1]!).toBeGreaterThan(0.5);
    }
    stimuliX.dispose();
  }, 60_000);
});
