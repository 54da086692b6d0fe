/**
 * The sanity checks of Carlini et al. (2019) on a small undefended feed-forward net trained here: iterative
 * attacks beat one-step ones, accuracy reaches about 0 at large ε and falls with ε, doubling the steps
 * barely changes the result, and the gradient-free attack does not beat the white-box ones by more than
 * noise. Every attack's output lies inside the threat model (the evaluator checks each point).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { apgd } from '../../src/attacks/apgd.js';
import { attackModel, type AttackModel } from '../../src/attacks/attack-model.js';
import type { DynamicsClassifier } from '../../src/attacks/classifier.js';
import { evaluateRobustness } from '../../src/attacks/evaluate.js';
import { fgsm, pgd } from '../../src/attacks/pgd.js';
import { square } from '../../src/attacks/square.js';
import type { Attack } from '../../src/attacks/attack.js';
import { useBackend } from '../../src/tensor/index.js';
import { testBatch, trainedNet } from './trained-net.js';

let classifier: DynamicsClassifier;
let model: AttackModel;
let x: tf.Tensor2D;
let labels: tf.Tensor1D;
const N = 100;

beforeAll(async () => {
  await useBackend('wasm');
  const net = await trainedNet(0, 64, 5);
  classifier = net.classifier;
  model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
  ({ x, labels } = testBatch(net.data, N));
}, 60_000);

afterAll(() => {
  tf.dispose([x, labels]);
  classifier.dispose();
});

function accuracies(attacks: Attack[], epsilons: number[], norm: 'linf' | 'l2' = 'linf') {
  const report = evaluateRobustness({ model, attacks, x, labels, norm, epsilons, rng: makeRng(1), batchSize: 50 });
  return { report, of: (eps: number, name: string) => report.perEpsilon.find((p) => p.epsilon === eps)!.attacks[name]!.accuracy };
}

describe('attack sanity checks on an undefended net', () => {
  it('is accurate clean, iterative attacks beat one-step ones, and accuracy falls with ε to about 0', () => {
    const pgd20 = pgd({ steps: 20 });
    const { report, of } = accuracies([fgsm(), pgd20], [0.03, 0.05, 0.1, 0.2, 0.3]);
    expect(report.cleanAccuracy).toBeGreaterThan(0.88);
    for (const p of report.perEpsilon) expect(p.attacks[pgd20.name]!.accuracy).toBeLessThanOrEqual(p.attacks.fgsm!.accuracy);
    // Where one step leaves about half the examples standing, 20 steps break clearly more of them.
    expect(of(0.05, pgd20.name)).toBeLessThan(of(0.05, 'fgsm') - 0.03);
    const curve = report.perEpsilon.map((p) => p.robustAccuracy);
    for (let i = 1; i < curve.length; i++) expect(curve[i]!).toBeLessThanOrEqual(curve[i - 1]!);
    expect(of(0.2, pgd20.name)).toBeLessThanOrEqual(0.01);
    expect(of(0.3, pgd20.name)).toBe(0);
    // The worst case is per example: never above any single attack.
    for (const p of report.perEpsilon) for (const a of Object.values(p.attacks)) expect(p.robustAccuracy).toBeLessThanOrEqual(a.accuracy);
  }, 60_000);

  it('doubling the PGD steps barely changes the result; APGD is at least as strong as PGD', () => {
    const eps = 0.08;
    const attacks = [pgd({ steps: 20 }), pgd({ steps: 40 }), apgd({ loss: 'ce', steps: 40 }), apgd({ loss: 'dlr', steps: 40 })];
    const { of } = accuracies(attacks, [eps]);
    const [a20, a40] = [of(eps, attacks[0]!.name), of(eps, attacks[1]!.name)];
    expect(Math.abs(a40 - a20)).toBeLessThanOrEqual(0.04);
    expect(of(eps, 'apgd-ce')).toBeLessThanOrEqual(a40 + 0.02);
    expect(of(eps, 'apgd-dlr')).toBeLessThanOrEqual(a40 + 0.04);
  }, 60_000);

  it('the gradient-free Square attack does not beat the white-box attacks by more than noise', () => {
    const eps = 0.1;
    const attacks = [apgd({ loss: 'ce', steps: 40 }), square({ queries: 300 })];
    const { of } = accuracies(attacks, [eps]);
    // Binomial noise at n = 100 and accuracy p: about √(p(1−p)/n) ≤ 0.05; allow two of those.
    expect(of(eps, 'square')).toBeGreaterThanOrEqual(of(eps, 'apgd-ce') - 0.1);
    // and it is a real attack: it breaks a good share of the examples on its own.
    expect(of(eps, 'square')).toBeLessThan(0.8);
  }, 60_000);

  it('L2 attacks stay inside the L2 ball and reach about 0 at large ε', () => {
    const attacks = [fgsm(), pgd({ steps: 20 }), apgd({ loss: 'dlr', steps: 20 })];
    const { of } = accuracies(attacks, [1, 4], 'l2');
    expect(of(1, attacks[1]!.name)).toBeLessThan(of(1, 'fgsm'));
    expect(of(4, attacks[1]!.name)).toBeLessThanOrEqual(0.02);
  }, 60_000);
});
