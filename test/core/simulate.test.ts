import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../src/base/errors.js';
import { parseGradientMode, type GradientMode } from '../../src/core/gradient-mode.js';
import { rk4 } from '../../src/core/integrators/index.js';
import { makeRng, randomNormal } from '../../src/base/rng.js';
import { throwIfDiverged } from '../../src/core/solution.js';
import { simulate } from '../../src/core/simulate.js';
import type { DiscreteSystem } from '../../src/core/system.js';
import { hopfield, type HopfieldInput, type HopfieldParams, type HopfieldState } from '../../src/families/hopfield/system.js';
import { useBackend } from '../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A small Hopfield net with a random symmetric W; gain 0.7 makes it a contraction with one fixed point. */
function smallNet(seed: number, gain = 0.7) {
  const rng = makeRng(seed);
  const n = 6;
  const system = hopfield({ size: n, gain, tau: 1, cueCurrent: 0.5 });
  const params = tf.tidy(() => {
    const a = randomNormal(rng, [n, n], 0.4);
    return { weights: tf.div(tf.add(a, tf.transpose(a)), 2) as tf.Tensor2D, bias: randomNormal(rng, [n], 0.1) as tf.Tensor1D };
  });
  const input = { cue: randomNormal(rng, [2, n], 0.5) as tf.Tensor2D };
  const weightsOut = randomNormal(rng, [2, n]);
  return { system, params, input, weightsOut, dispose: () => tf.dispose([params.weights, params.bias, input.cue, weightsOut]) };
}

type Net = ReturnType<typeof smallNet>;

/** L(cue, W) = Σ c ⊙ V(final) for a solve with the given options. */
function lossOf(net: Net, cue: tf.Tensor, weights: tf.Tensor, options: { maxSteps: number; gradient?: GradientMode; tolerance?: number; state0?: HopfieldState }) {
  const sol = simulate({
    system: net.system,
    params: { weights: weights as tf.Tensor2D, bias: net.params.bias },
    input: { cue: cue as tf.Tensor2D },
    dt: 0.1,
    maxSteps: options.maxSteps,
    gradient: options.gradient ?? { kind: 'none' },
    ...(options.tolerance ? { converge: { tolerance: options.tolerance } } : {}),
    ...(options.state0 ? { state0: options.state0 } : {}),
  });
  const loss = tf.sum(tf.mul(net.system.readout!(sol.state, { cue: cue as tf.Tensor2D }, net.params), net.weightsOut)) as tf.Scalar;
  return { loss, sol };
}

function scalarLoss(net: Net, cue: tf.Tensor, weights: tf.Tensor, options: Parameters<typeof lossOf>[3]): number {
  return tf.tidy(() => {
    const { loss, sol } = lossOf(net, cue, weights, options);
    const v = loss.dataSync()[0]!;
    sol.dispose();
    return v;
  });
}

function gradients(net: Net, options: Parameters<typeof lossOf>[3]): { cue: Float32Array; weights: Float32Array; steps: number } {
  let steps = 0;
  const grads = tf.grads((cue: tf.Tensor, weights: tf.Tensor) => {
    const { loss, sol } = lossOf(net, cue, weights, options);
    steps = sol.steps;
    return loss;
  })([net.input.cue, net.params.weights]);
  const out = { cue: grads[0]!.dataSync() as Float32Array, weights: grads[1]!.dataSync() as Float32Array, steps };
  tf.dispose(grads);
  return out;
}

/** Central differences of `f` at a few coordinates of `x`. */
function finiteDifferences(x: tf.Tensor, f: (x: tf.Tensor) => number, indices: number[], h = 1e-2): number[] {
  const base = x.dataSync();
  return indices.map((i) => {
    const plus = base.slice();
    const minus = base.slice();
    plus[i] = plus[i]! + h;
    minus[i] = minus[i]! - h;
    const tp = tf.tensor(plus, x.shape);
    const tm = tf.tensor(minus, x.shape);
    const d = (f(tp) - f(tm)) / (2 * h);
    tf.dispose([tp, tm]);
    return d;
  });
}

function expectClose(actual: ArrayLike<number>, indices: number[], expected: number[]) {
  const scale = Math.max(...expected.map(Math.abs), 1e-3);
  indices.forEach((idx, j) => expect(Math.abs(actual[idx]! - expected[j]!)).toBeLessThan(2e-3 + 1e-2 * scale));
}

const cueIdx = [0, 3, 7, 11];
const weightIdx = [0, 5, 14, 27, 35];

describe('gradient modes agree with finite differences', () => {
  it('unrolled: gradient of the whole trajectory', () => {
    const net = smallNet(1);
    const opts = { maxSteps: 30, gradient: { kind: 'unrolled' } as GradientMode };
    const g = gradients(net, opts);
    expectClose(g.cue, cueIdx, finiteDifferences(net.input.cue, (c) => scalarLoss(net, c, net.params.weights, opts), cueIdx));
    expectClose(g.weights, weightIdx, finiteDifferences(net.params.weights, (w) => scalarLoss(net, net.input.cue, w, opts), weightIdx));
    net.dispose();
  });

  for (const converge of [false, true]) {
    it(`truncated(5): gradient of the last 5 steps from a constant state${converge ? ' (stopped by convergence)' : ''}`, () => {
      const net = smallNet(2);
      const tolerance = converge ? 1e-3 : undefined;
      const opts = { maxSteps: 400, gradient: { kind: 'truncated', steps: 5 } as GradientMode, ...(tolerance ? { tolerance } : {}) };
      const g = gradients(net, opts);
      if (converge) expect(g.steps).toBeLessThan(400);
      else expect(g.steps).toBe(400);
      // Oracle: the state 5 steps before the end is a constant; differentiate the last 5 steps only.
      const prefix = simulate({ system: net.system, params: net.params, input: net.input, dt: 0.1, maxSteps: g.steps - 5 });
      const tail = { maxSteps: 5, state0: prefix.state };
      expectClose(g.weights, weightIdx, finiteDifferences(net.params.weights, (w) => scalarLoss(net, net.input.cue, w, tail), weightIdx));
      expectClose(g.cue, cueIdx, finiteDifferences(net.input.cue, (c) => scalarLoss(net, c, net.params.weights, tail), cueIdx));
      prefix.dispose();
      net.dispose();
    });
  }

  it('implicit: gradient of the fixed point, equal to the unrolled gradient at convergence', () => {
    const net = smallNet(3);
    const opts = { maxSteps: 3000, tolerance: 1e-7, gradient: { kind: 'implicit' } as GradientMode };
    const g = gradients(net, opts);
    const fdOpts = { maxSteps: 3000, tolerance: 1e-7 };
    expectClose(g.weights, weightIdx, finiteDifferences(net.params.weights, (w) => scalarLoss(net, net.input.cue, w, fdOpts), weightIdx));
    expectClose(g.cue, cueIdx, finiteDifferences(net.input.cue, (c) => scalarLoss(net, c, net.params.weights, fdOpts), cueIdx));
    const unrolled = gradients(net, { maxSteps: g.steps, gradient: { kind: 'unrolled' } });
    for (let i = 0; i < unrolled.weights.length; i++) expect(Math.abs(g.weights[i]! - unrolled.weights[i]!)).toBeLessThan(1e-3);
    net.dispose();
  });

  it('none: the solve is a constant to an enclosing gradient', () => {
    const net = smallNet(4);
    const result = tf.engine().gradients(() => lossOf(net, net.input.cue, net.params.weights, { maxSteps: 5 }).loss, [net.params.weights], undefined, true);
    expect(result.grads[0]).toBeUndefined();
    tf.dispose(result.value);
    net.dispose();
  });
});

describe('tensor hygiene', () => {
  const modes: GradientMode[] = ['none', 'unrolled', 'truncated(3)', 'implicit'].map((m) => parseGradientMode(m));
  for (const mode of modes) {
    it(`no tensors are left after a run is disposed (gradient ${mode.kind})`, () => {
      const net = smallNet(5);
      const before = tf.memory().numTensors;
      const probes = [{ variable: 'u' }, { variable: 'energy', every: 2 }, { variable: 'readout', reduce: 'mean' as const }];
      // Outside a gradient,
      simulate({ system: net.system, params: net.params, input: net.input, dt: 0.1, maxSteps: 20, gradient: mode, probes, converge: { tolerance: 1e-4 }, countEvents: true }).dispose();
      expect(tf.memory().numTensors).toBe(before);
      // and inside one.
      const grads = tf.grads((w: tf.Tensor) => {
        const sol = simulate({
          system: net.system,
          params: { weights: w as tf.Tensor2D, bias: net.params.bias },
          input: net.input,
          dt: 0.1,
          maxSteps: 20,
          gradient: mode,
          probes,
          converge: { tolerance: 1e-4 },
        });
        const loss = tf.sum(sol.state.u);
        sol.dispose();
        return loss;
      });
      if (mode.kind === 'none') {
        // No path from the weights to the loss: tfjs reports no gradient.
        const result = tf.engine().gradients(() => {
          const sol = simulate({ system: net.system, params: net.params, input: net.input, dt: 0.1, maxSteps: 20, gradient: mode, probes });
          const loss = tf.sum(sol.state.u) as tf.Scalar;
          sol.dispose();
          return loss;
        }, [net.params.weights], undefined, true);
        expect(result.grads[0]).toBeUndefined();
        tf.dispose(result.value);
      } else tf.dispose(grads([net.params.weights]));
      expect(tf.memory().numTensors).toBe(before);
      net.dispose();
    });
  }
});

describe('stop conditions', () => {
  it('stops when converged, with the step and the change in the message', () => {
    const net = smallNet(6);
    const sol = simulate({ system: net.system, params: net.params, input: net.input, dt: 0.1, maxSteps: 5000, converge: { tolerance: 1e-5 } });
    expect(sol.stopped).toBe('converged');
    expect(sol.steps).toBeLessThan(5000);
    expect(sol.lastChange).toBeLessThan(1e-5);
    expect(sol.message).toMatch(/converged after \d+ steps/);
    sol.dispose();
    net.dispose();
  });

  it('converges on energy change too', () => {
    const net = smallNet(6);
    const sol = simulate({ system: net.system, params: net.params, input: net.input, dt: 0.1, maxSteps: 5000, converge: { tolerance: 1e-7, on: 'energy' } });
    expect(sol.stopped).toBe('converged');
    sol.dispose();
    net.dispose();
  });

  it('reports max steps with advice when a tolerance is not met', () => {
    const net = smallNet(6);
    const sol = simulate({ system: net.system, params: net.params, input: net.input, dt: 0.1, maxSteps: 3, converge: { tolerance: 1e-9 } });
    expect(sol.stopped).toBe('max-steps');
    expect(sol.message).toMatch(/raise maxSteps/);
    sol.dispose();
    net.dispose();
  });

  it('detects divergence and names the variable and step', () => {
    // y_{k+1} = y_k² + 1 from y_0 = 2: 5, 26, 677, 4.6e5, 2.1e11, 4.4e22, then 1.9e45 overflows float32 at step 7.
    const blowUp: DiscreteSystem<{ x: tf.Tensor; y: tf.Tensor }, Record<string, never>, Record<string, never>> = {
      kind: 'blow-up',
      time: 'discrete',
      initState: () => ({ x: tf.ones([3]), y: tf.fill([2], 2) }),
      step: (s) => ({ x: s.x.clone(), y: tf.add(tf.mul(s.y, s.y), 1) }),
    };
    const sol = simulate({ system: blowUp, params: {}, input: {}, maxSteps: 100 });
    expect(sol.stopped).toBe('diverged');
    expect(sol.divergence).toEqual({ variable: 'y', step: 7 });
    expect(sol.message).toMatch(/'y' became NaN or Inf at step 7/);
    expect(() => throwIfDiverged(sol)).toThrow(/'y' became NaN or Inf at step 7/);
  });

  it('rejects bad requests with the option named', () => {
    const net = smallNet(7);
    const base = { system: net.system, params: net.params, input: net.input };
    expect(() => simulate({ ...base, maxSteps: 0 })).toThrow(SpecError);
    expect(() => simulate({ ...base, maxSteps: 10, dt: -1 })).toThrow(/dt: must be a positive number/);
    expect(() => simulate({ ...base, maxSteps: 10, probes: [{ variable: 'v' }] })).toThrow(/not a variable of hopfield; allowed: u, energy, readout/);
    expect(() => parseGradientMode('truncated(0)')).toThrow(/allowed/);
    net.dispose();
  });
});

describe('probes', () => {
  it('record the initial state, every n-th step and the final step', () => {
    const net = smallNet(8);
    const sol = simulate({
      system: net.system,
      params: net.params,
      input: net.input,
      integrator: rk4,
      dt: 0.1,
      maxSteps: 7,
      probes: [{ variable: 'u', every: 3 }, { name: 'E', variable: 'energy' }, { variable: 'readout', reduce: 'mean' }],
    });
    expect(sol.traces.u!.steps).toEqual([0, 3, 6, 7]);
    expect(sol.traces.u!.values.shape).toEqual([4, 2, 6]);
    expect(sol.traces.E!.values.shape).toEqual([8, 2]);
    expect(sol.traces.readout!.values.shape).toEqual([8, 6]);
    // The last record is the final state.
    const last = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.gather(sol.traces.u!.values, 3), sol.state.u))).dataSync()[0]);
    expect(last).toBe(0);
    sol.dispose();
    net.dispose();
  });
});

describe('differentiable probes (losses on intermediate states)', () => {
  /** L = Σ_t w_t Σ c ⊙ V(s_t) over the recorded steps t = 0, 2, 4, ..., 12, with w_t = t + 1. */
  function intermediateLoss(net: Net, cue: tf.Tensor, gradient: GradientMode): tf.Scalar {
    const sol = simulate({
      system: net.system,
      params: net.params,
      input: { cue: cue as tf.Tensor2D },
      dt: 0.1,
      maxSteps: 12,
      gradient,
      probes: [{ variable: 'readout', every: 2, differentiable: true }],
    });
    const trace = sol.traces.readout!;
    const weights = tf.tensor(trace.steps.map((t) => t + 1), [trace.steps.length, 1, 1]);
    const loss = tf.sum(tf.mul(tf.mul(trace.values, weights), net.weightsOut)) as tf.Scalar;
    sol.dispose();
    weights.dispose();
    return loss;
  }

  it('unrolled: the gradient of Σ_t w_t f(readout(s_t)) matches finite differences', () => {
    const net = smallNet(11);
    const before = tf.memory().numTensors;
    const grad = tf.grad((cue: tf.Tensor) => intermediateLoss(net, cue, { kind: 'unrolled' }))(net.input.cue);
    const g = grad.dataSync();
    grad.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const value = (c: tf.Tensor) => tf.tidy(() => intermediateLoss(net, c, { kind: 'none' }).dataSync()[0]!);
    expectClose(g, cueIdx, finiteDifferences(net.input.cue, value, cueIdx));
    net.dispose();
  });

  it('a probe that is not marked differentiable stays a constant', () => {
    const net = smallNet(12);
    const result = tf.engine().gradients(
      () => {
        const sol = simulate({ system: net.system, params: net.params, input: net.input, dt: 0.1, maxSteps: 5, gradient: { kind: 'unrolled' }, probes: [{ variable: 'readout' }] });
        const loss = tf.sum(sol.traces.readout!.values) as tf.Scalar;
        sol.dispose();
        return loss;
      },
      [net.input.cue],
      undefined,
      true,
    );
    expect(result.grads[0]).toBeUndefined();
    tf.dispose(result.value);
    net.dispose();
  });
});

describe('probes of a readout that is a state variable', () => {
  it('record copies, so the trace survives the loop freeing each state', () => {
    // x_{k+1} = x_k / 2 with readout = the state itself (as EP's output layer is).
    const halving: DiscreteSystem<{ x: tf.Tensor }, Record<string, never>, Record<string, never>> = {
      kind: 'halving',
      time: 'discrete',
      initState: () => ({ x: tf.ones([2]) }),
      step: (s) => ({ x: tf.div(s.x, 2) }),
      readout: (s) => s.x,
    };
    const before = tf.memory().numTensors;
    for (const differentiable of [false, true]) {
      const sol = simulate({ system: halving, params: {}, input: {}, maxSteps: 3, probes: [{ variable: 'readout', differentiable }] });
      expect(Array.from(sol.traces.readout!.values.dataSync())).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]);
      sol.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
