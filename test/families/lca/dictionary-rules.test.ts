import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng, randomNormal } from '../../../src/base/rng.js';
import { makeDataset, subset } from '../../../src/data/index.js';
import { hebbianCorrelation, lcaEnergyGradientRule, lcaHebbianRule, settle, unitNormAtoms } from '../../../src/families/lca/dictionary-rules.js';
import { sgd } from '../../../src/learning/optimizers.js';
import { train } from '../../../src/learning/train.js';
import { lca } from '../../../src/families/lca/system.js';
import { lcaConv } from '../../../src/families/lca/system-conv.js';
import { randomDictionary } from '../../../src/families/lca/system-common.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function atomNorms(dictionary: tf.Tensor): number[] {
  return tf.tidy(() => Array.from(tf.sqrt(tf.sum(tf.square(dictionary), Array.from({ length: dictionary.rank - 1 }, (_, i) => i))).dataSync()));
}

/** Images made of 2 of 6 random 6×6 patterns with positive weights, plus noise: a sparse-coding problem with a true dictionary. */
function sparseImages(seed: number, count: number) {
  const rng = makeRng(seed);
  const truth = Array.from({ length: 6 }, () => Array.from({ length: 36 }, () => rng.normal()));
  const images = new Float32Array(count * 36);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const i = rng.int(6);
    const j = (i + 1 + rng.int(5)) % 6;
    for (let p = 0; p < 36; p++) images[n * 36 + p] = (1 + rng.uniform()) * truth[i]![p]! + (1 + rng.uniform()) * truth[j]![p]! + 0.05 * rng.normal();
  }
  return makeDataset({ name: 'synthetic/sparse', source: 'test', images, labels, count, height: 6, width: 6, classes: 1, classNames: ['x'] });
}

describe('lca dictionary rules', () => {
  it('Hebbian update = η/(n_k + 1) Σ_batch a_k (s − ŝ), computed here element by element (fully connected)', () => {
    const rng = makeRng(1);
    const system = lca({ inputSize: 12, features: 8, lambda: 0.1, tau: 10 });
    const dictionary = randomDictionary([12, 8], rng);
    const x = randomNormal(rng, [5, 12]);
    const rule = lcaHebbianRule({ system, iterations: 40, eta: 0.3 });
    const out = rule.directions({ dictionary }, { x }, rng);
    const { code, error } = settle({ system, iterations: 40 }, dictionary, x);
    const a = code.arraySync() as number[][];
    const e = error.arraySync() as number[][];
    const direction = out.directions.dictionary!.arraySync() as number[][];
    let checked = 0;
    for (let k = 0; k < 8; k++) {
      const timesActive = a.filter((row) => row[k] !== 0).length;
      if (timesActive > 0) checked++;
      for (let i = 0; i < 12; i++) {
        let sum = 0;
        for (let b = 0; b < 5; b++) sum += a[b]![k]! * e[b]![i]!;
        expect(-direction[i]![k]!).toBeCloseTo((0.3 / (timesActive + 1)) * sum, 5);
      }
    }
    expect(checked).toBeGreaterThan(0);
    expect(Object.keys(out.metrics!)).toEqual(['l2_error', 'l1_sparsity', 'energy', 'fraction_active', 'recon_error_rel']);
    tf.dispose([dictionary, x, code, error, ...Object.values(out.directions), ...Object.values(out.metrics!)]);
  });

  it('the convolutional correlation equals the explicit sum over batch and positions of a_k times the error patch', () => {
    const rng = makeRng(2);
    const [k, s, p] = [3, 2, 1];
    const system = lcaConv({ inputChannels: 2, features: 3, kernelSize: k, stride: s, lambda: 0.05, tau: 10 });
    const dictionary = randomDictionary([k, k, 2, 3], rng);
    const x = randomNormal(rng, [2, 7, 7, 2]);
    const { code, error } = settle({ system, iterations: 30 }, dictionary, x);
    const correlation = hebbianCorrelation({ system, iterations: 30 }, dictionary, code, error).arraySync() as number[][][][];
    const a = code.arraySync() as number[][][][];
    const e = error.arraySync() as number[][][][];
    const [, outH, outW] = code.shape;
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        for (let c = 0; c < 2; c++)
          for (let f = 0; f < 3; f++) {
            let sum = 0;
            for (let b = 0; b < 2; b++)
              for (let oy = 0; oy < outH!; oy++)
                for (let ox = 0; ox < outW!; ox++) {
                  const y = oy * s - p + i;
                  const xx = ox * s - p + j;
                  if (y >= 0 && y < 7 && xx >= 0 && xx < 7) sum += a[b]![oy]![ox]![f]! * e[b]![y]![xx]![c]!;
                }
            expect(correlation[i]![j]![c]![f]).toBeCloseTo(sum, 4);
          }
    tf.dispose([dictionary, x, code, error]);
  });

  it('the Hebbian step is the negative energy gradient scaled per feature by batch·η/(n_k + 1); clip bounds it', () => {
    const rng = makeRng(3);
    const system = lca({ inputSize: 10, features: 6, lambda: 0.05, tau: 10 });
    const dictionary = randomDictionary([10, 6], rng);
    const x = randomNormal(rng, [4, 10]);
    const hebbian = lcaHebbianRule({ system, iterations: 50, eta: 0.2 }).directions({ dictionary }, { x }, rng);
    const gradient = lcaEnergyGradientRule({ system, iterations: 50 }).directions({ dictionary }, { x }, rng);
    const { code } = settle({ system, iterations: 50 }, dictionary, x);
    const active = tf.tidy(() => Array.from(tf.sum(tf.cast(tf.notEqual(code, 0), 'float32'), 0).dataSync()));
    const h = hebbian.directions.dictionary!.arraySync() as number[][];
    const g = gradient.directions.dictionary!.arraySync() as number[][];
    for (let i = 0; i < 10; i++) for (let f = 0; f < 6; f++) expect(h[i]![f]).toBeCloseTo(g[i]![f]! * 4 * (0.2 / (active[f]! + 1)), 5);
    const clipped = lcaHebbianRule({ system, iterations: 50, eta: 0.2, clip: 1e-3 }).directions({ dictionary }, { x }, rng);
    expect(tf.tidy(() => tf.max(tf.abs(clipped.directions.dictionary!)).dataSync()[0])).toBeLessThanOrEqual(1e-3 + 1e-9);
    tf.dispose([dictionary, x, code, hebbian.directions.dictionary!, gradient.directions.dictionary!, clipped.directions.dictionary!]);
    tf.dispose([...Object.values(hebbian.metrics!), ...Object.values(gradient.metrics!), ...Object.values(clipped.metrics!)]);
  });

  for (const which of ['hebbian', 'energy-gradient'] as const) {
    it(`${which}: atoms stay unit-norm after every update, the energy on held-out images falls, no tensor leaks`, async () => {
      const all = sparseImages(4, 320);
      const data = subset(all, 0, 256);
      const held = subset(all, 256, 64);
      const system = lca({ inputSize: 36, features: 12, lambda: 0.1, tau: 10 });
      const dictionary = randomDictionary([36, 12], makeRng(6));
      const heldX = tf.tensor2d(held.images, [64, 36]);
      // train() disposes the dictionary it replaces, so one tensor fewer at the end.
      const before = tf.memory().numTensors;
      const options = { system, iterations: 60 };
      const rule = which === 'hebbian' ? lcaHebbianRule({ ...options, eta: 0.05 }) : lcaEnergyGradientRule(options);
      const optimizer = which === 'hebbian' ? sgd({ lr: 1 }) : sgd({ lr: 0.02, momentum: 0.1 });
      const energyWith = (phi: tf.Tensor) => tf.tidy(() => {
        const out = lcaEnergyGradientRule(options).directions({ dictionary: phi }, { x: heldX }, makeRng(0));
        return out.metrics!.energy!.dataSync()[0]!;
      });
      const initialEnergy = energyWith(dictionary);
      const norms: number[][] = [];
      const result = await train({
        params: { dictionary },
        rule,
        optimizer,
        data,
        layout: 'flat',
        batchSize: 32,
        epochs: 3,
        rng: makeRng(7),
        project: unitNormAtoms(),
        onEpoch: (_report, params) => {
          norms.push(atomNorms(params.dictionary!));
        },
      });
      for (const epochNorms of norms) for (const n of epochNorms) expect(n).toBeCloseTo(1, 5);
      const finalEnergy = energyWith(result.params.dictionary!);
      expect(finalEnergy).toBeLessThan(0.5 * initialEnergy);
      tf.dispose([...Object.values(result.params), ...Object.values(result.state.slots).flatMap((slot) => Object.values(slot))]);
      expect(tf.memory().numTensors).toBe(before - 1);
      heldX.dispose();
    });
  }
});
