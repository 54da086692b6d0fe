import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng, randomUniform } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { equilibriumPropagation } from '../../../src/families/equilibrium-prop/rule.js';
import { bpttThroughFreePhase } from '../../../src/families/equilibrium-prop/bptt-rule.js';
import { equilibriumPropConv, type EpConvInput, type EpConvState } from '../../../src/families/equilibrium-prop/system-conv.js';
import { nudged, oneHotTargets, type EpOutput } from '../../../src/families/equilibrium-prop/system.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A small P_CNN: 14×14 input, 3×3 kernels, 3 and 4 channels: 14 → 12 → 6 → 4 → 2. */
function smallNet(output: EpOutput, seed: number, activation: 'sigmoid-4' | 'hard-sigmoid' = 'sigmoid-4') {
  const system = equilibriumPropConv({ inputSize: 14, channels: [3, 4], kernelSize: 3, classes: 5, output, activation });
  const params = system.initParams(makeRng(seed));
  const rng = makeRng(seed + 1);
  const x = randomUniform(rng, [3, 14, 14, 1]) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 3, 4], 'int32');
  const target = oneHotTargets(labels, 5);
  return { system, params, x, labels, target, rng };
}

describe('equilibrium-prop-conv: the step is s ← ρ(∂Φ/∂s), ∂Φ/∂s by autodiff through conv and max-pool', () => {
  for (const output of ['mse', 'softmax-ce'] as EpOutput[]) {
    for (const beta of [undefined, 0.5]) {
      it(`${output}, ${beta === undefined ? 'free' : `nudged β = ${beta}`}`, () => {
        const net = smallNet(output, 1);
        const input: EpConvInput = beta === undefined ? { x: net.x } : nudged({ x: net.x }, net.target, beta);
        // Random states, with the first layer half saturated at 0 so that whole pooling windows tie.
        const state: EpConvState = {
          layers: net.system.initState(input, net.params).layers.map((s, i) => (i === 0 ? tf.relu(randomUniform(net.rng, s.shape, -1, 1)) : randomUniform(net.rng, s.shape))),
        };
        const step = net.system.step(state, input, net.params, 0);
        const grads = tf.grads((...layers: tf.Tensor[]) => tf.sum(net.system.primitive({ layers }, input, net.params)))([...state.layers]);
        grads.forEach((g, i) => {
          const expected = tf.sigmoid(tf.mul(tf.sub(g, 0.5), 4));
          expect(tf.max(tf.abs(tf.sub(expected, step.layers[i]!))).dataSync()[0]).toBeLessThan(1e-5);
        });
        const cached = net.system.step(state, net.system.prepare(input, net.params), net.params, 0);
        cached.layers.forEach((s, i) => expect(tf.max(tf.abs(tf.sub(s, step.layers[i]!))).dataSync()[0]).toBeLessThan(1e-5));
        tf.dispose([...Object.values(net.params), net.x, net.labels, net.target, ...state.layers, ...step.layers, ...grads, ...cached.layers]);
      });
    }
  }

  it('the P_CNN of the papers: 28×28 → 32×12×12 → 64×4×4 → 10', () => {
    const system = equilibriumPropConv({ inputSize: 28 });
    expect(system.spatial).toEqual([12, 4]);
    const params = system.initParams(makeRng(0));
    expect(params.W2!.shape).toEqual([5, 5, 32, 64]);
    expect(params.W3!.shape).toEqual([1024, 10]);
    tf.dispose(Object.values(params));
    expect(() => equilibriumPropConv({ inputSize: 28, channels: [8, 8, 8] })).toThrow(/^channels: layer 3/);
  });
});

describe('equilibrium-prop-conv: learning and memory', () => {
  it('EP directions approach the BPTT gradient for small β (hard-sigmoid, where the map is exactly s ← ∂Φ/∂s inside the box); no tensor is left', () => {
    const net = smallNet('mse', 2, 'hard-sigmoid');
    const before = tf.memory().numTensors;
    const rule = equilibriumPropagation({ system: net.system, freeSteps: 150, nudgedSteps: 80, beta: 0.001, nudging: 'symmetric' });
    const bptt = bpttThroughFreePhase({ system: net.system, freeSteps: 150 });
    tf.tidy(() => {
      const ep = rule.directions(net.params, { x: net.x, y: net.labels }, makeRng(0)).directions;
      const bp = bptt.directions(net.params, { x: net.x, y: net.labels }, makeRng(0)).directions;
      for (const name of net.system.paramNames) {
        const relative = tf.norm(tf.sub(ep[name]!, bp[name]!)).dataSync()[0]! / tf.norm(bp[name]!).dataSync()[0]!;
        expect(relative, name).toBeLessThan(0.01);
      }
    });
    simulate({ system: net.system, params: net.params, input: { x: net.x }, maxSteps: 5, countEvents: true, probes: [{ variable: 'energy' }] }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(net.params), net.x, net.labels, net.target]);
  }, 60_000);
});

describe('equilibrium-prop-conv: cpu and wasm agree', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });
  it('P_CNN, 10 nudged steps', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      const system = equilibriumPropConv({ inputSize: 28 });
      const params = system.initParams(makeRng(3));
      const x = randomUniform(makeRng(4), [2, 28, 28, 1]) as tf.Tensor4D;
      const labels = tf.tensor1d([1, 7], 'int32');
      const input = tf.tidy(() => system.prepare(nudged({ x }, oneHotTargets(labels, 10), 0.3), params));
      const sol = simulate({ system, params, input, maxSteps: 10 });
      const out = sol.state.layers.map((s) => Array.from(s.dataSync()));
      sol.dispose();
      tf.dispose([...Object.values(params), x, labels, input.drive!, input.target!, input.beta!]);
      return out;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    cpu.forEach((l, i) => l.forEach((v, j) => expect(Math.abs(v - wasm[i]![j]!)).toBeLessThan(1e-4)));
  }, 60_000);
});
