/**
 * Family adapters: the classifier computes exactly what the family's own relaxation computes, and the
 * attacker's gradient through it matches finite differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeRng, randomUniform } from '../../src/base/rng.js';
import { simulate } from '../../src/core/simulate.js';
import { loadDataset } from '../../src/data/index.js';
import { attackModel } from '../../src/attacks/attack-model.js';
import { attackLoss } from '../../src/attacks/losses.js';
import '../../src/families/index.js';
import { classifierFor, type ModelSource } from '../../src/attacks/models/index.js';
import { equilibriumProp } from '../../src/families/equilibrium-prop/system.js';
import { useBackend } from '../../src/tensor/index.js';

// Seconds normally; minutes when the machine is shared and loaded.
vi.setConfig({ testTimeout: 120_000 });

beforeAll(async () => {
  await useBackend('cpu');
});


/** Checks ∂(Σ loss)/∂x of the attack model against central differences at the given coordinates. */
function checkAgainstFiniteDifferences(model: ReturnType<typeof attackModel>, x: tf.Tensor, labels: tf.Tensor1D, loss: 'ce' | 'margin', pick: (g: Float32Array) => number[], relative: number): void {
  const { gradient, logits } = model.gradient(x, labels, loss);
  const g = gradient.dataSync() as Float32Array;
  const base = x.dataSync();
  const lossAt = (values: Float32Array) => {
    const t = tf.tensor(values, x.shape);
    const l = model.logits(t);
    const v = tf.sum(attackLoss(loss, l, labels)).dataSync()[0]!;
    tf.dispose([t, l]);
    return v;
  };
  for (const i of pick(g)) {
    const h = 1e-3;
    const plus = base.slice() as Float32Array;
    const minus = base.slice() as Float32Array;
    plus[i]! += h;
    minus[i]! -= h;
    expect(Math.abs(g[i]! - (lossAt(plus) - lossAt(minus)) / (2 * h))).toBeLessThan(2e-3 + relative * Math.abs(g[i]!));
  }
  tf.dispose([gradient, logits]);
}

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
    checkAgainstFiniteDifferences(model, x, labels, 'margin', () => [100, 400, 784 + 300, 2 * 784 + 500], 2e-2);
    tf.dispose([x, labels, ...Object.values(params)]);
    classifier.dispose();
  });

  it('refuses an untrained spec with a clear message', () => {
    const data = loadDataset('mnist-embedded');
    const source: ModelSource = { origin: 'sims/ep.json', system: { kind: 'equilibrium-prop', layers: [30, 10] }, run: { dt: 1, maxSteps: 5 }, data };
    expect(() => classifierFor(source)).toThrow(/must be trained first; run its spec with neurodyn run and pass the run folder/);
    expect(() => classifierFor({ ...source, system: { kind: 'nonexistent' } })).toThrow(/no attack adapter for system "nonexistent"; attackable kinds: hopfield, equilibrium-prop/);
  });
});

describe('LCANet adapter', () => {
  it('scores are the head applied to the code after the spec’s steps; the unrolled gradient matches finite differences', async () => {
    const { lcaConv } = await import('../../src/families/lca/system-conv.js');
    const { headLogits, initHead } = await import('../../src/families/lca/lcanet-head.js');
    const { randomDictionary } = await import('../../src/families/lca/system-common.js');
    const data = loadDataset('mnist-embedded');
    const options = { features: 4, inputChannels: 1, kernelSize: 5, stride: 2, padding: 'same', lambda: 0.1, tau: 5, threshold: 'soft', nonnegative: true, normalizeInput: true } as const;
    const system = lcaConv(options as never);
    const dictionary = randomDictionary(system.dictionaryShape(), makeRng(1));
    const head = { kind: 'mlp' as const, inputShape: [14, 14, 4] as [number, number, number], classes: 10, hidden: 16 };
    const headParams = initHead(head, makeRng(2)) as Record<string, tf.Tensor>;
    const params = { 'lca.dictionary': dictionary.clone(), ...Object.fromEntries(Object.entries(headParams).map(([k, v]) => [k, v.clone()])) };
    const source: ModelSource = { origin: 'test', system: { kind: 'lca-conv', ...options }, run: { dt: 1, maxSteps: 10 }, data, trained: { params, trainedBy: 'test', meta: { head } } };
    const classifier = classifierFor(source);
    const x = randomUniform(makeRng(4), [2, 784]);
    const image = tf.reshape(x, [2, 28, 28, 1]);
    const run = classifier.run(x);
    const own = simulate({ system, params: { dictionary }, input: { x: image }, maxSteps: 10 });
    const expected = tf.tidy(() => headLogits(head, headParams, (own.state as { a: tf.Tensor }).a));
    const got = run.logits.dataSync();
    expected.dataSync().forEach((v, i) => expect(got[i]!).toBeCloseTo(v, 5));
    tf.dispose([expected, image]);
    own.dispose();
    run.dispose();
    const labels = tf.tensor1d([3, 7], 'int32');
    const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
    // The largest gradient coordinates (inactive units pass none; check where the gradient lives).
    const largest = (g: Float32Array) => Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, 4);
    checkAgainstFiniteDifferences(model, x, labels, 'ce', largest, 5e-2);
    tf.dispose([x, labels, dictionary, ...Object.values(headParams)]);
    classifier.dispose();
  });
});
