import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { euler, rk4 } from '../../../src/core/integrators/index.js';
import { makeRng, randomNormal } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { hopfield, storePatterns } from '../../../src/families/hopfield/system.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});

function randomPatterns(seed: number, p: number, n: number): tf.Tensor2D {
  const rng = makeRng(seed);
  return tf.tensor2d(Array.from({ length: p * n }, () => (rng.uniform() < 0.5 ? -1 : 1)), [p, n]);
}

describe('hopfield: energy never increases along a relaxation', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${seed}, random symmetric weights, Euler and RK4`, () => {
      const rng = makeRng(seed);
      const n = 40;
      const system = hopfield({ size: n, gain: 1 + 4 * rng.uniform(), tau: 1, cueCurrent: rng.uniform() });
      const params = tf.tidy(() => {
        const a = randomNormal(rng, [n, n], 1 / Math.sqrt(n));
        return { weights: tf.div(tf.add(a, tf.transpose(a)), 2) as tf.Tensor2D, bias: randomNormal(rng, [n], 0.2) as tf.Tensor1D };
      });
      const input = { cue: tf.tidy(() => tf.clipByValue(randomNormal(rng, [8, n]), -1, 1)) as tf.Tensor2D };
      for (const integrator of [euler, rk4]) {
        const sol = simulate({ system, params, input, integrator, dt: 0.02, maxSteps: 300, probes: [{ variable: 'energy' }] });
        const energy = sol.traces.energy!.values.arraySync() as number[][];
        for (let t = 1; t < energy.length; t++) {
          for (let b = 0; b < energy[t]!.length; b++) {
            const rise = energy[t]![b]! - energy[t - 1]![b]!;
            // float32 round-off on energies of order n.
            expect(rise).toBeLessThan(2e-5 * Math.max(1, Math.abs(energy[t - 1]![b]!)));
          }
        }
        // It did descend, not stall.
        expect(energy[energy.length - 1]![0]!).toBeLessThan(energy[0]![0]!);
        sol.dispose();
      }
      tf.dispose([params.weights, params.bias, input.cue]);
    });
  }
});

describe('hopfield: the energy is the Lyapunov function of the flow', () => {
  it('dE/dt along the flow equals -τ Σ g\'(u) (du/dt)² (autodiff of E against the analytic expression)', () => {
    const rng = makeRng(11);
    const n = 10;
    const gain = 2;
    const system = hopfield({ size: n, gain, tau: 1.5 });
    const a = randomNormal(rng, [n, n], 0.3);
    const params = { weights: tf.div(tf.add(a, tf.transpose(a)), 2) as tf.Tensor2D, bias: randomNormal(rng, [n], 0.1) as tf.Tensor1D };
    const input = { cue: randomNormal(rng, [1, n], 0.5) as tf.Tensor2D };
    const u = randomNormal(rng, [1, n], 0.5) as tf.Tensor2D;
    const du = system.vectorField(0, { u }, input, params).u;
    const gradE = tf.grad((x: tf.Tensor) => tf.sum(system.energy!({ u: x as tf.Tensor2D }, input, params)))(u);
    const dEdt = tf.sum(tf.mul(gradE, du)).dataSync()[0]!;
    const g = tf.tanh(tf.mul(u, gain));
    const gPrime = tf.mul(tf.sub(1, tf.square(g)), gain);
    const expected = -1.5 * tf.sum(tf.mul(gPrime, tf.square(du))).dataSync()[0]!;
    expect(dEdt).toBeLessThan(0);
    expect(Math.abs(dEdt - expected)).toBeLessThan(1e-4 * Math.abs(expected));
    tf.dispose([a, params.weights, params.bias, input.cue, u, du, gradE, g, gPrime]);
  });
});

describe('hopfield: stored patterns are attractors', () => {
  for (const rule of ['projection', 'hebbian'] as const) {
    it(`${rule} rule: 15% flipped cues relax back to the stored pattern`, () => {
      const n = 200;
      const patterns = randomPatterns(3, 5, n);
      const params = storePatterns(patterns, rule);
      const rng = makeRng(4);
      const flips = tf.tensor2d(Array.from({ length: 5 * n }, () => (rng.uniform() < 0.15 ? -1 : 1)), [5, n]);
      const cue = tf.mul(patterns, flips) as tf.Tensor2D;
      const system = hopfield({ size: n, gain: 4 });
      const sol = simulate({ system, params, input: { cue }, dt: 0.1, maxSteps: 500, converge: { tolerance: 1e-5 } });
      expect(sol.stopped).toBe('converged');
      const recalled = tf.sign(system.readout!(sol.state, { cue }, params));
      const overlap = tf.div(tf.sum(tf.mul(recalled, patterns), 1), n).dataSync();
      for (const m of overlap) expect(m).toBe(1);
      sol.dispose();
      tf.dispose([patterns, params.weights, params.bias, flips, cue, recalled]);
    });
  }
});
