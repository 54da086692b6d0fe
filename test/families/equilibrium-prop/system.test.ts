import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng, randomNormal, randomUniform } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { ACTIVATION_NAMES, type ActivationName } from '../../../src/families/equilibrium-prop/system-activations.js';
import { equilibriumProp, nudged, oneHotTargets, withInputDrive, type EpInput, type EpOutput, type EpParams, type EpState } from '../../../src/families/equilibrium-prop/system.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});

function randomNet(seed: number, sizes: number[], scale: number): EpParams {
  const rng = makeRng(seed);
  const params: Record<string, tf.Tensor> = {};
  for (let n = 1; n < sizes.length; n++) {
    params[`W${n}`] = randomNormal(rng, [sizes[n - 1]!, sizes[n]!], scale / Math.sqrt(sizes[n - 1]!));
    params[`b${n}`] = randomNormal(rng, [sizes[n]!], 0.2);
  }
  return params;
}

function randomInput(seed: number, batch: number, sizes: number[], beta?: number): EpInput {
  const rng = makeRng(seed + 1000);
  const x = randomUniform(rng, [batch, sizes[0]!]) as tf.Tensor2D;
  if (beta === undefined) return { x };
  const labels = tf.tensor1d(Array.from({ length: batch }, () => rng.int(sizes[sizes.length - 1]!)), 'int32');
  const target = oneHotTargets(labels, sizes[sizes.length - 1]!);
  labels.dispose();
  return nudged({ x }, target, beta);
}

function disposeAll(...trees: object[]): void {
  for (const t of trees) tf.dispose(Object.values(t).flat() as tf.Tensor[]);
}

/** ‖A‖₂ of the symmetric coupling between free layers, by power iteration (the curvature bound of E is 1 + ‖A‖₂). */
function couplingNorm(params: EpParams, sizes: number[], free: number): number {
  let v = sizes.slice(1, free + 1).map((n) => tf.ones([1, n]));
  let norm = 0;
  for (let it = 0; it < 200; it++) {
    const next = tf.tidy(() =>
      v.map((_, i) => {
        let out: tf.Tensor = tf.zeros(v[i]!.shape);
        if (i > 0) out = tf.add(out, tf.matMul(v[i - 1]!, params[`W${i + 1}`] as tf.Tensor2D));
        if (i + 1 < free) out = tf.add(out, tf.matMul(v[i + 1]!, params[`W${i + 2}`] as tf.Tensor2D, false, true));
        return out;
      }),
    );
    norm = Math.sqrt(next.reduce((s, t) => s + tf.sum(tf.square(t)).dataSync()[0]!, 0));
    tf.dispose(v);
    v = next.map((t) => tf.div(t, norm));
    tf.dispose(next);
  }
  tf.dispose(v);
  return norm;
}

describe('equilibrium-prop: the step is s ← ρ(∂Φ/∂s) with ∂Φ/∂s from autodiff of the primitive function', () => {
  for (const output of ['mse', 'softmax-ce'] as EpOutput[]) {
    for (const beta of [undefined, 0.7]) {
      it(`${output}, ${beta === undefined ? 'free' : `nudged β = ${beta}`}, 3 hidden layers`, () => {
        const sizes = [12, 9, 7, 5, 4];
        const system = equilibriumProp({ sizes, output, activation: 'sigmoid-4' });
        const params = randomNet(1, sizes, 1.5);
        const input = randomInput(2, 6, sizes, beta);
        const rng = makeRng(3);
        const state: EpState = { layers: system.initState(input, params).layers.map((s) => tf.keep(randomUniform(rng, s.shape)) as tf.Tensor2D) };
        const step = system.step(state, input, params, 0);
        const grads = tf.grads((...layers: tf.Tensor[]) => tf.sum(system.primitive({ layers: layers as tf.Tensor2D[] }, input, params)))([...state.layers]);
        grads.forEach((g, i) => {
          const expected = tf.sigmoid(tf.mul(tf.sub(g, 0.5), 4));
          expect(tf.max(tf.abs(tf.sub(expected, step.layers[i]!))).dataSync()[0]).toBeLessThan(1e-5);
        });
        // The cached input drive gives the same step.
        const cached = system.step(state, withInputDrive(input, params), params, 0);
        cached.layers.forEach((s, i) => expect(tf.max(tf.abs(tf.sub(s, step.layers[i]!))).dataSync()[0]).toBeLessThan(1e-5));
        disposeAll(params, input, state.layers, step.layers, grads, cached.layers);
      });
    }
  }
});

describe('equilibrium-prop: energy never increases in the energy-descent (Euler) form', () => {
  const cases: { activation: ActivationName; output: EpOutput }[] = [
    { activation: 'hard-sigmoid', output: 'mse' },
    { activation: 'hard-sigmoid', output: 'softmax-ce' },
    { activation: 'sigmoid-4', output: 'mse' },
    { activation: 'centered-hard-sigmoid', output: 'mse' },
  ];
  for (const seed of [1, 2, 3, 4, 5]) {
    for (const { activation, output } of cases) {
      it(`seed ${seed}, ${activation}, ${output}, free and nudged`, () => {
        const sizes = [20, 16, 12, 6];
        const free = output === 'mse' ? 3 : 2;
        const params = randomNet(seed, sizes, 2);
        // Projected gradient descent decreases E for ε ≤ 1/L; L ≤ 1 + ‖A‖₂ (+ β for the MSE nudge) for the
        // piecewise-linear ρ, and ρ' ≤ 1 with |ρ''| ≤ 4·0.4 adds at most a few units for sigmoid-4.
        const curvature = 1 + couplingNorm(params, sizes, free) + (activation === 'sigmoid-4' ? 6 : 0) + 1;
        const system = equilibriumProp({ sizes, output, activation, dynamics: 'energy-descent', stepSize: 1 / curvature });
        for (const beta of [undefined, 1]) {
          const input = randomInput(seed, 8, sizes, beta);
          const sol = simulate({ system, params, input, maxSteps: 150, probes: [{ variable: 'energy' }] });
          const energy = sol.traces.energy!.values.arraySync() as number[][];
          for (let t = 1; t < energy.length; t++) {
            for (let b = 0; b < energy[t]!.length; b++) expect(energy[t]![b]! - energy[t - 1]![b]!).toBeLessThan(1e-5 * Math.max(1, Math.abs(energy[t - 1]![b]!)));
          }
          expect(energy[energy.length - 1]![0]!).toBeLessThan(energy[0]![0]! - 1e-3);
          sol.dispose();
          disposeAll(input);
        }
        disposeAll(params);
      }, 30_000);
    }
  }
});

describe('equilibrium-prop: fixed points', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: the energy-descent fixed point satisfies s = ρ(∂Φ/∂s) (autodiff) and is the fixed point of the primitive map`, () => {
      const sizes = [30, 20, 10];
      // Weak enough coupling that the synchronous map contracts (it oscillates when ‖A‖₂ > 1).
      const params = randomNet(seed, sizes, 0.4);
      const input = randomInput(seed, 5, sizes, 0.5);
      const descent = equilibriumProp({ sizes, dynamics: 'energy-descent', stepSize: 0.4 });
      const sol = simulate({ system: descent, params, input, maxSteps: 2000, converge: { tolerance: 1e-6 } });
      expect(sol.stopped, sol.message).toBe("converged");
      const grads = tf.grads((...layers: tf.Tensor[]) => tf.sum(descent.primitive({ layers: layers as tf.Tensor2D[] }, input, params)))([...sol.state.layers]);
      grads.forEach((g, i) => expect(tf.max(tf.abs(tf.sub(tf.clipByValue(g, 0, 1), sol.state.layers[i]!))).dataSync()[0]).toBeLessThan(1e-5));
      const map = equilibriumProp({ sizes, dynamics: 'primitive-map' });
      const mapSol = simulate({ system: map, params, input, maxSteps: 2000, converge: { tolerance: 1e-6 } });
      expect(mapSol.stopped, mapSol.message).toBe("converged");
      mapSol.state.layers.forEach((s, i) => expect(tf.max(tf.abs(tf.sub(s, sol.state.layers[i]!))).dataSync()[0]).toBeLessThan(1e-5));
      sol.dispose();
      mapSol.dispose();
      disposeAll(params, input, grads);
    }, 30_000);
  }
});

describe('equilibrium-prop: housekeeping', () => {
  it('no tensor is left after relaxations (free, nudged, with counts and probes)', () => {
    const sizes = [16, 8, 4];
    const system = equilibriumProp({ sizes, output: 'softmax-ce' });
    const params = randomNet(4, sizes, 1);
    const input = randomInput(4, 3, sizes, 0.2);
    const before = tf.memory().numTensors;
    simulate({ system, params, input, maxSteps: 10, countEvents: true, probes: [{ variable: 'energy' }, { variable: 'readout' }, { variable: 'layers.0' }] }).dispose();
    tf.dispose(system.initParams(makeRng(1)));
    expect(tf.memory().numTensors).toBe(before);
    disposeAll(params, input);
  });

  it('counts: dense MACs per layer from the widths, events = nonzero activations', () => {
    const sizes = [16, 8, 4];
    const system = equilibriumProp({ sizes });
    const params = randomNet(5, sizes, 1);
    const input = randomInput(5, 3, sizes);
    const sol = simulate({ system, params, input, maxSteps: 3, countEvents: true });
    const perStep = sol.events!.perStep;
    expect(perStep[0]!.layer1!.macs).toBe(3 * 8 * (16 + 4));
    expect(perStep[0]!.layer2!.macs).toBe(3 * 4 * 8);
    const active = tf.sum(tf.cast(tf.notEqual(sol.state.layers[0]!, 0), 'float32')).dataSync()[0]!;
    expect(perStep[2]!.layer1!.events).toBe(active);
    sol.dispose();
    disposeAll(params, input);
  });

  it('bad options name the field and what is allowed', () => {
    expect(() => equilibriumProp({ sizes: [784, 10] })).toThrow(/^sizes.*at least 3/);
    expect(() => equilibriumProp({ sizes: [4, 3, 2], stepSize: 0 })).toThrow(/^stepSize: must be positive/);
  });

  it('every activation maps into its box', () => {
    for (const name of ACTIVATION_NAMES) {
      const system = equilibriumProp({ sizes: [3, 2, 2], activation: name });
      expect(system.options.activation).toBe(name);
    }
  });
});

describe('equilibrium-prop: cpu and wasm agree', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });
  for (const dynamics of ['primitive-map', 'energy-descent'] as const) {
    it(`${dynamics}: 784-64-10, 30 steps, nudged`, async () => {
      const sizes = [784, 64, 10];
      const run = async (backend: 'cpu' | 'wasm') => {
        await useBackend(backend);
        const system = equilibriumProp({ sizes, dynamics, activation: 'sigmoid-4' });
        const params = system.initParams(makeRng(7));
        const input = randomInput(7, 4, sizes, 0.5);
        const prepared = withInputDrive(input, params);
        const sol = simulate({ system, params, input: prepared, maxSteps: 30, probes: [{ variable: 'energy' }] });
        const out = { layers: sol.state.layers.map((s) => Array.from(s.dataSync())), energy: Array.from(sol.traces.energy!.values.dataSync()) };
        sol.dispose();
        disposeAll(params, input, [prepared.drive!]);
        return out;
      };
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      cpu.layers.forEach((l, i) => l.forEach((v, j) => expect(Math.abs(v - wasm.layers[i]![j]!)).toBeLessThan(1e-4)));
      cpu.energy.forEach((e, i) => expect(Math.abs(e - wasm.energy[i]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(e))));
    }, 60_000);
  }
});
