/**
 * Family adapters: the classifier computes exactly what the family's own relaxation computes, and the
 * attacker's gradient through it matches finite differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng, randomUniform } from '../../src/core/rng.js';
import { simulate } from '../../src/core/simulate.js';
import { loadDataset } from '../../src/data/index.js';
import { attackModel } from '../../src/attacks/attack-model.js';
import { attackLoss } from '../../src/attacks/losses.js';
import { classifierFor, type ModelSource } from '../../src/attacks/models/index.js';
import { equilibriumProp } from '../../src/systems/equilibrium-prop.js';
import { useBackend } from '../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('equilibrium-prop adapter', () => {
  it('scores are the free phase readout after T1 steps, and the unrolled input gradient matches finite differences', () => {
    const data = loadDataset('mnist-embedded');
    const options = { layers: [30, 10], activation: 'hard-sigmoid', output: 'mse', dynamics: 'primitive-map', init: 'torch-default' } as const;
    const system = equilibriumProp({ ...options, sizes: [784, 30, 10] });
    const params = system.initParams(makeRng(3)) as Record<string, tf.Tensor>;
    const copies = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.clone()]));
    const source: ModelSource = { origin: 'test', system: { kind: 'equilibrium-prop', ...options }, run: { dt: 1, maxSteps: 12 }, data, trained: { params: copies, trainedBy: 'test' } };
    const classifier = classifierFor(source);
    const x = randomUniform(makeRng(4), [3, 784]);
    const labels = tf.tensor1d([1, 2, 3], 'int32');
    const run = classifier.run(x);
    const own = simulate({ system, params, input: { x: x as tf.Tensor2D }, maxSteps: 12 });
    const expected = tf.tidy(() => system.readout!(own.state, { x: x as tf.Tensor2D }, params).clone());
    expect(Array.from(run.logits.dataSync())).toEqual(Array.from(expected.dataSync()));
    expect(run.steps).toBe(12);
    own.dispose();
    expected.dispose();
    run.dispose();
    // Finite differences of the margin loss (hard-sigmoid is piecewise linear: small h stays on one piece).
    const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
    const { gradient, logits } = model.gradient(x, labels, 'margin');
    const g = gradient.dataSync();
    const base = x.dataSync();
    const lossAt = (values: Float32Array) => {
      const t = tf.tensor(values, x.shape);
      const l = model.logits(t);
      const v = tf.sum(attackLoss('margin', l, labels)).dataSync()[0]!;
      tf.dispose([t, l]);
      return v;
    };
    for (const i of [100, 400, 784 + 300, 2 * 784 + 500]) {
      const h = 1e-3;
      const plus = base.slice() as Float32Array;
      const minus = base.slice() as Float32Array;
      plus[i]! += h;
      minus[i]! -= h;
      expect(Math.abs(g[i]! - (lossAt(plus) - lossAt(minus)) / (2 * h))).toBeLessThan(2e-3 + 2e-2 * Math.abs(g[i]!));
    }
    tf.dispose([gradient, logits, x, labels, ...Object.values(params)]);
    classifier.dispose();
  });

  it('refuses an untrained spec with a clear message', () => {
    const data = loadDataset('mnist-embedded');
    const source: ModelSource = { origin: 'sims/ep.json', system: { kind: 'equilibrium-prop', layers: [30, 10] }, run: { dt: 1, maxSteps: 5 }, data };
    expect(() => classifierFor(source)).toThrow(/must be trained first; run its spec with neurodyn run and pass the run folder/);
    expect(() => classifierFor({ ...source, system: { kind: 'nonexistent' } })).toThrow(/no attack adapter for system "nonexistent"; attackable kinds: hopfield, equilibrium-prop/);
  });
});
