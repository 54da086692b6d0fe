import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { NeurodynError } from '../../../src/base/errors.js';
import { makeRng, normalArray } from '../../../src/base/rng.js';
import { euler } from '../../../src/core/integrators/index.js';
import { simulate } from '../../../src/core/simulate.js';
import { loadDataset, subset, toTensors } from '../../../src/data/index.js';
import { adam } from '../../../src/learning/optimizers.js';
import { train } from '../../../src/learning/train.js';
import { feedforwardBackprop } from '../../../src/families/predictive-coding/rule-backprop.js';
import { predictiveCodingRule, type PcSchedule } from '../../../src/families/predictive-coding/rule-pc.js';
import { clamped, oneHot, predictiveCodingFlow, predictiveCodingNetwork, type PcParams, type PcState } from '../../../src/families/predictive-coding/system-pc.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const randomX = (seed: number, n: number, d: number) => tf.tensor2d(normalArray(makeRng(seed), n * d), [n, d]);
const randomLabels = (seed: number, n: number, k: number) => tf.tensor1d(Int32Array.from({ length: n }, (_, i) => Math.floor(makeRng(seed).split(`y${i}`).uniform() * k)), 'int32');

/** max|a − b| / max|b|. */
function relative(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(tf.max(tf.abs(b)).dataSync()[0]!, 1e-30));
}

function mnistBatch(count: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const { x, y } = toTensors(subset(loadDataset('mnist-embedded').train, 0, count), { layout: 'flat' });
  return { x: x as tf.Tensor2D, y: y as tf.Tensor1D };
}

describe('PCN inference: the explicit local dynamics are gradient descent on F', () => {
  it('∂F/∂z and ∂F/∂θ of the local forms equal autodiff of the energy at a relaxed state (tanh, gelu; SE, CE)', () => {
    for (const [activation, output] of [['tanh', 'se'], ['gelu', 'ce']] as const) {
      tf.tidy(() => {
        const net = predictiveCodingNetwork({ sizes: [7, 6, 5, 4], activation, output, stateStep: 0.2 });
        const params = net.initParams(makeRng(3));
        const input = clamped(randomX(1, 5, 7), oneHot(randomLabels(2, 5, 4), 4), 0.7);
        const state = simulate({ system: net, params, input, maxSteps: 3 }).state;
        const local = net.stateGradient(state, input, params);
        const auto = tf.grads((...zs: tf.Tensor[]) => tf.sum(net.energy({ layers: zs as tf.Tensor2D[] }, input, params)))([...state.layers]);
        local.forEach((g, i) => expect(relative(g, auto[i]!)).toBeLessThan(2e-5));
        const names = net.paramNames;
        const autoW = tf.grads((...ps: tf.Tensor[]) => tf.sum(net.energy(state, input, Object.fromEntries(names.map((n, i) => [n, ps[i]!])))))(names.map((n) => params[n]!));
        const localW = net.weightGradients(state, input, params);
        names.forEach((n, i) => expect(relative(localW[n]!, autoW[i]!), `${activation} ${n}`).toBeLessThan(2e-5));
      });
    }
  }, 60_000);

  it('energy never increases along inference at a small step, over seeds (clamped output)', () => {
    for (let seed = 0; seed < 6; seed++) {
      tf.tidy(() => {
        const net = predictiveCodingNetwork({ sizes: [10, 16, 12, 3], activation: seed % 2 ? 'tanh' : 'sigmoid', output: seed % 3 ? 'se' : 'ce', stateStep: 0.05 });
        const params = net.initParams(makeRng(seed));
        const input = clamped(randomX(100 + seed, 8, 10), oneHot(randomLabels(200 + seed, 8, 3), 3), 1);
        let state: PcState = net.initState(input, params);
        let previous = net.energy(state, input, params).arraySync();
        const first = previous;
        for (let k = 0; k < 60; k++) {
          state = net.step(state, input, params, k);
          const energy = net.energy(state, input, params).arraySync();
          energy.forEach((e, i) => expect(e, `seed ${seed} step ${k} example ${i}`).toBeLessThanOrEqual(previous[i]! * (1 + 1e-6) + 1e-7));
          previous = energy;
        }
        // and it does descend: the clamp's error spreads into the hidden layers and F falls
        expect(previous.reduce((a, b) => a + b, 0)).toBeLessThan(0.999 * first.reduce((a, b) => a + b, 0));
      });
    }
  }, 60_000);

  it('without a label the forward state is the energy minimum: F = 0 and inference does not move it', () => {
    tf.tidy(() => {
      const net = predictiveCodingNetwork({ sizes: [6, 5, 4], stateStep: 0.3 });
      const params = net.initParams(makeRng(9));
      const input = { x: randomX(4, 3, 6) };
      const state0 = net.initState(input, params);
      expect(tf.max(net.energy(state0, input, params)).dataSync()[0]).toBe(0);
      const after = simulate({ system: net, params, input, maxSteps: 10 }).state;
      expect(relative(after.layers[0]!, state0.layers[0]!)).toBe(0);
      expect(relative(net.readout(after, input, params), net.forward(input.x, params)[1]!)).toBeLessThan(1e-7);
    });
  }, 60_000);

  it('the flow under Euler with dt = γ is the discrete map', () => {
    tf.tidy(() => {
      const options = { sizes: [7, 6, 5, 4], activation: 'tanh' as const, stateStep: 0.1 };
      const map = predictiveCodingNetwork(options);
      const flow = predictiveCodingFlow(options);
      const params = map.initParams(makeRng(5));
      const input = clamped(randomX(6, 4, 7), oneHot(randomLabels(7, 4, 4), 4), 1);
      const a = simulate({ system: map, params, input, maxSteps: 12 }).state;
      const b = simulate({ system: flow, params, input, maxSteps: 12, integrator: euler, dt: 0.1 }).state;
      a.layers.forEach((z, i) => expect(relative(b.layers[i]!, z)).toBeLessThan(1e-6));
    });
  }, 60_000);
});

describe('PC weight updates against backprop (Torch2PC property) on a 3-layer MLP of MNIST digits', () => {
  const sizes = [784, 64, 32, 10];
  let batch: { x: tf.Tensor2D; y: tf.Tensor1D };
  beforeAll(() => {
    batch = mnistBatch(16);
  });

  function directions(schedule: PcSchedule | 'bp', options: { stateStep?: number; steps?: number; beta?: number; activation?: 'tanh' | 'gelu' | 'relu'; output?: 'se' | 'ce' } = {}) {
    const net = predictiveCodingNetwork({ sizes, activation: options.activation ?? 'tanh', output: options.output ?? 'se', stateStep: options.stateStep ?? 1 });
    const params = net.initParams(makeRng(11));
    const rule = schedule === 'bp' ? feedforwardBackprop(net) : predictiveCodingRule({ system: net, schedule, steps: options.steps ?? 3, beta: options.beta ?? 1 });
    const out = rule.directions(params, batch, makeRng(0));
    return { net, d: out.directions };
  }

  for (const [activation, output] of [['tanh', 'se'], ['gelu', 'ce'], ['relu', 'se']] as const) {
    it(`FPA (γ = 1, T = L = 3) and Z-IL equal backprop to float32 precision (${activation}, ${output})`, () => {
      tf.tidy(() => {
        const bp = directions('bp', { activation, output }).d;
        for (const schedule of ['fpa', 'z-il'] as const) {
          const { net, d } = directions(schedule, { activation, output, steps: 3 });
          for (const name of net.paramNames) expect(relative(d[name]!, bp[name]!), `${schedule} ${name}`).toBeLessThan(1e-5);
        }
      });
    }, 60_000);
  }

  it('FPA with fewer than L − 1 sweeps leaves the first layer without an error (the front travels one layer per sweep)', () => {
    tf.tidy(() => {
      const { d } = directions('fpa', { steps: 1 });
      expect(tf.max(tf.abs(d.W1!)).dataSync()[0]).toBe(0);
      expect(tf.max(tf.abs(d.W2!)).dataSync()[0]).toBeGreaterThan(0);
    });
  }, 60_000);

  it('strict PC approaches backprop as β → 0 at equilibrium (Whittington & Bogacz), and differs from it at β = 1', () => {
    tf.tidy(() => {
      const bp = directions('bp').d;
      const gap = (beta: number) => {
        const { net, d } = directions('strict', { beta, stateStep: 0.2, steps: 300 });
        return Math.max(...net.paramNames.map((n) => relative(d[n]!, bp[n]!)));
      };
      const small = gap(1e-3);
      const large = gap(1);
      expect(small).toBeLessThan(0.02);
      expect(large).toBeGreaterThan(5 * small);
    });
  }, 60_000);
});

describe('PC rule: bad options, backends, memory', () => {
  it('rejects a bad schedule, β = 0 and z-il with γ ≠ 1 with errors that name the field', () => {
    const net = predictiveCodingNetwork({ sizes: [4, 3, 2], stateStep: 0.5 });
    expect(() => predictiveCodingRule({ system: net, schedule: 'z-il', steps: 2 })).toThrow(/stateStep.*γ = 1/);
    expect(() => predictiveCodingRule({ system: net, schedule: 'nope' as PcSchedule, steps: 2 })).toThrow(NeurodynError);
    expect(() => predictiveCodingRule({ system: net, schedule: 'strict', steps: 2, beta: 0 })).toThrow(/beta/);
    expect(() => predictiveCodingNetwork({ sizes: [4, 2] })).toThrow(/sizes/);
  }, 60_000);

  it('cpu and wasm give the same strict-PC directions', async () => {
    const run = () =>
      tf.tidy(() => {
        const net = predictiveCodingNetwork({ sizes: [12, 10, 8, 3], activation: 'gelu', output: 'ce', stateStep: 0.1 });
        const params = net.initParams(makeRng(21));
        const out = predictiveCodingRule({ system: net, schedule: 'strict', steps: 8, beta: 0.5 }).directions(params, { x: randomX(22, 6, 12), y: randomLabels(23, 6, 3) }, makeRng(0));
        return net.paramNames.map((n) => Float32Array.from(out.directions[n]!.dataSync()));
      });
    await useBackend('cpu');
    const onCpu = run();
    await useBackend('wasm');
    const onWasm = run();
    onCpu.forEach((c, i) => {
      const scale = Math.max(...c.map(Math.abs));
      const diff = Math.max(...c.map((v, j) => Math.abs(v - onWasm[i]![j]!)));
      expect(diff / scale).toBeLessThan(5e-5);
    });
  }, 60_000);

  it('a short training by each schedule leaks no tensor and lowers the loss', async () => {
    const data = subset(loadDataset('mnist-embedded').train, 0, 256);
    for (const schedule of ['strict', 'fpa', 'z-il'] as const) {
      const before = tf.memory().numTensors;
      const net = predictiveCodingNetwork({ sizes: [784, 32, 32, 10], activation: 'tanh', stateStep: schedule === 'strict' ? 0.1 : 1 });
      const params: PcParams = net.initParams(makeRng(1));
      const losses: number[] = [];
      const result = await train({
        params,
        rule: predictiveCodingRule({ system: net, schedule, steps: schedule === 'strict' ? 8 : 3 }),
        optimizer: adam({ lr: 1e-3 }),
        data,
        layout: 'flat',
        batchSize: 32,
        epochs: 3,
        rng: makeRng(2),
        onEpoch: (report) => void losses.push(report.metrics.loss!),
      });
      tf.dispose([...Object.values(result.params), ...Object.values(result.state.slots).flatMap((s) => Object.values(s))]);
      expect(tf.memory().numTensors, schedule).toBe(before);
      expect(losses[2]!, schedule).toBeLessThan(losses[0]!);
    }
  }, 60_000);
});
