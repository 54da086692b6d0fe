/**
 * The closed-form EP contrast (rule.ts contrastDirections: each weight's phase difference as one product)
 * against its oracle, autodiff through Φ^β in each phase (primitiveGradient), on random states in [0, 1]:
 * MSE and softmax readouts, one and two hidden layers, symmetric (+β/−β) and one-sided (β/free) pairs,
 * batch 1 and odd widths, a subset of the parameters; and no tensor left.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng, randomUniform } from '../../../src/base/rng.js';
import { contrastDirections, primitiveGradient, type ContrastPhase } from '../../../src/families/equilibrium-prop/rule.js';
import { equilibriumProp, nudged, oneHotTargets, type EpOutput, type EpState } from '../../../src/families/equilibrium-prop/system.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function relativeDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const norm = tf.norm(b).dataSync()[0]!;
    const diff = tf.norm(tf.sub(a, b)).dataSync()[0]!;
    return norm === 0 ? diff : diff / norm;
  });
}

describe('EP contrast in closed form equals autodiff through Φ^β', () => {
  type Case = { sizes: number[]; output: EpOutput; batch: number; pair: 'symmetric' | 'one-sided'; names?: string[] };
  const cases: Case[] = [
    { sizes: [13, 7, 5], output: 'mse', batch: 3, pair: 'symmetric' },
    { sizes: [13, 7, 5], output: 'mse', batch: 4, pair: 'one-sided' },
    { sizes: [11, 9, 6, 4], output: 'mse', batch: 1, pair: 'symmetric' },
    { sizes: [17, 8, 3], output: 'softmax-ce', batch: 5, pair: 'symmetric' },
    { sizes: [17, 8, 3], output: 'softmax-ce', batch: 2, pair: 'one-sided' },
    { sizes: [10, 6, 5, 4], output: 'softmax-ce', batch: 3, pair: 'symmetric', names: ['W2', 'b3', 'W3'] },
  ];
  for (const c of cases) {
    it(`${c.sizes.join('-')} ${c.output}, ${c.pair}, batch ${c.batch}${c.names ? `, only ${c.names.join(' ')}` : ''}`, () => {
      const system = equilibriumProp({ sizes: c.sizes, output: c.output, init: 'torch-default' });
      const rng = makeRng(c.sizes.length * 100 + c.batch);
      const params = system.initParams(rng.split('init'));
      const names = c.names ?? system.paramNames;
      const free = c.output === 'mse' ? c.sizes.length - 1 : c.sizes.length - 2;
      const state = (label: string): EpState => ({ layers: c.sizes.slice(1, free + 1).map((n) => randomUniform(rng.split(label), [c.batch, n]) as tf.Tensor2D) });
      const x = randomUniform(rng.split('x'), [c.batch, c.sizes[0]!]) as tf.Tensor2D;
      const labels = tf.tensor1d(Array.from({ length: c.batch }, (_, i) => (3 * i + 1) % c.sizes[c.sizes.length - 1]!), 'int32');
      const target = oneHotTargets(labels, c.sizes[c.sizes.length - 1]!);
      const beta = 0.7;
      const first: ContrastPhase = { state: state('first'), beta };
      const second: ContrastPhase = c.pair === 'symmetric' ? { state: state('second'), beta: -beta } : { state: state('second'), beta: 0 };
      const before = tf.memory().numTensors;
      const closed = tf.tidy(() => contrastDirections(system, params, x, target, first, second, names));
      const oracle = tf.tidy(() => {
        const input = (b: number) => (b === 0 ? { x } : nudged({ x }, target, b));
        const g1 = primitiveGradient(system, first.state, input(first.beta), params, names);
        const g2 = primitiveGradient(system, second.state, input(second.beta), params, names);
        return g1.map((g, i) => tf.mul(tf.sub(g, g2[i]!), -1 / (first.beta - second.beta)));
      });
      names.forEach((name, i) => {
        expect(closed[i]!.shape, name).toEqual(params[name]!.shape);
        // The oracle is not trivially zero (a one-sided readout contrast is β₁'s term alone).
        expect(tf.tidy(() => tf.norm(oracle[i]!).dataSync()[0]!), name).toBeGreaterThan(1e-4);
        expect(relativeDifference(closed[i]!, oracle[i]!), name).toBeLessThan(2e-6);
      });
      tf.dispose([...closed, ...oracle]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...Object.values(params), ...(first.state as EpState).layers, ...(second.state as EpState).layers, x, labels, target]);
    });
  }

  it('energy-descent dynamics (u = ρ(s)) take the autodiff path and give its result', () => {
    const system = equilibriumProp({ sizes: [9, 6, 4], dynamics: 'energy-descent', init: 'torch-default' });
    const rng = makeRng(5);
    const params = system.initParams(rng.split('init'));
    const s = (label: string): EpState => ({ layers: [6, 4].map((n) => tf.sub(tf.mul(randomUniform(rng.split(label + n), [2, n]), 1.4), 0.2) as tf.Tensor2D) });
    const x = randomUniform(rng.split('x'), [2, 9]) as tf.Tensor2D;
    const target = oneHotTargets(tf.tensor1d([1, 3], 'int32'), 4);
    const first = { state: s('a'), beta: 0.5 }, second = { state: s('b'), beta: -0.5 };
    const closed = contrastDirections(system, params, x, target, first, second, system.paramNames);
    const g1 = primitiveGradient(system, first.state, nudged({ x }, target, 0.5), params, system.paramNames);
    const g2 = primitiveGradient(system, second.state, nudged({ x }, target, -0.5), params, system.paramNames);
    system.paramNames.forEach((name, i) => expect(relativeDifference(closed[i]!, tf.mul(tf.sub(g1[i]!, g2[i]!), -1)), name).toBeLessThan(1e-6));
  });
});
