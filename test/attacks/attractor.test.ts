/**
 * Issue 18: deep equilibrium-propagation nets have real attractor dynamics, and the attack machinery goes
 * through them correctly. Oracles: the energy (a Lyapunov function of the relaxation), autodiff through
 * the unrolled relaxation (the implicit gradient must equal it at a converged fixed point), the exact
 * derivative of the clip (the straight-through surrogate must differ from it exactly where units saturate),
 * and the threat model's own membership test.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng, randomUniform } from '../../src/base/rng.js';
import { attackModel } from '../../src/attacks/attack-model.js';
import { attractorUniqueness, energyAlongPath, relaxationTrace, returnsToClean, type EnergyRelaxation } from '../../src/attacks/attractor.js';
import { relaxationClassifier } from '../../src/attacks/models/index.js';
import { pgd } from '../../src/attacks/pgd.js';
import { insideThreat, type ThreatModel } from '../../src/attacks/threat-model.js';
import { transfer } from '../../src/attacks/transfer.js';
import type { GradientMode } from '../../src/core/gradient-mode.js';
import { simulate } from '../../src/core/simulate.js';
import { activation } from '../../src/families/equilibrium-prop/system-activations.js';
import { equilibriumProp, type EpInput, type EpOutput, type EpParams, type EpState, type EquilibriumPropSystem } from '../../src/families/equilibrium-prop/system.js';
import { straightThrough, type SurrogateGradient } from '../../src/families/equilibrium-prop/system-straight-through.js';
import { equilibriumPropConv, type EquilibriumPropConvSystem } from '../../src/families/equilibrium-prop/system-conv.js';
import { withSurrogateGradient } from '../../src/families/equilibrium-prop/surrogate-variant.js';
import { unrolledFreePhaseLoss } from '../../src/families/equilibrium-prop/bptt-rule.js';
import { liveTensorCount, useBackend } from '../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const DEEP = [48, 32, 24, 6];

/** A deep net with weights large enough that the layers interact (PyTorch's default init, scaled). */
function deepNet(seed: number, output: EpOutput = 'mse', sizes = DEEP, scale = 1): { system: EquilibriumPropSystem; params: EpParams } {
  const system = equilibriumProp({ sizes, output, init: 'torch-default' });
  const raw = system.initParams(makeRng(seed));
  const params = Object.fromEntries(Object.entries(raw).map(([k, t]) => [k, tf.mul(t, scale)]));
  tf.dispose(Object.values(raw));
  return { system, params };
}

function images(seed: number, batch: number, width = DEEP[0]!): tf.Tensor2D {
  return randomUniform(makeRng(seed + 100), [batch, width]) as tf.Tensor2D;
}

/**
 * The Lyapunov function of the synchronous (Jacobi) map s ← clip(A s + h) with A symmetric: with
 * G(a, b) = ½‖a‖² + ½‖b‖² − aᵀA b − hᵀ(a + b), the update minimises G(·, s_t) over the box, so
 * G(s_{t+1}, s_t) ≤ G(s_{t−1}, s_t) = G(s_t, s_{t−1}): G along the trajectory never increases, even where
 * the map cycles (Goles 1985; Marcus & Westervelt 1989), and G(s*, s*) = 2E(s*) at a fixed point.
 * Written with the system's own primitive Φ(s) = ½ sᵀA s + hᵀs: aᵀA b = Φ(a + b) − Φ(a) − Φ(b) and
 * hᵀs = 2Φ(s) − Φ(2s)/2.
 */
function twoStateEnergy(system: EquilibriumPropSystem, params: EpParams, input: EpInput, a: tf.Tensor2D[], b: tf.Tensor2D[]): Float32Array {
  return tf.tidy(() => {
    const phi = (s: tf.Tensor[]) => system.primitive({ layers: s as tf.Tensor2D[] }, input, params);
    const sum = a.map((t, i) => tf.add(t, b[i]!));
    const cross = tf.sub(tf.sub(phi(sum), phi(a)), phi(b));
    const linear = tf.sub(tf.mul(phi(sum), 2), tf.mul(phi(sum.map((t) => tf.mul(t, 2))), 0.5));
    const squares = tf.mul(tf.addN([...a, ...b].map((t) => tf.sum(tf.square(t), 1))), 0.5);
    return tf.sub(tf.sub(squares, cross), linear).dataSync() as Float32Array;
  });
}

function relax(system: EquilibriumPropSystem, params: EpParams, x: tf.Tensor2D, steps: number) {
  const input = system.prepare({ x }, params);
  const probes = [{ variable: 'energy' }, ...system.options.sizes.slice(1, system.options.output === 'mse' ? undefined : -1).map((_, i) => ({ variable: `layers.${i}` }))];
  const solution = simulate({ system, params, input, maxSteps: steps, converge: { tolerance: 1e-6 }, probes });
  const energy = solution.traces.energy!.values.arraySync() as number[][];
  const layers = probes.slice(1).map((p) => tf.unstack(solution.traces[p.variable]!.values) as tf.Tensor2D[]);
  const states = energy.map((_, t) => layers.map((l) => l[t]!));
  const g = states.slice(1).map((s, t) => twoStateEnergy(system, params, input, s, states[t]!));
  const gFinal = twoStateEnergy(system, params, input, states[states.length - 1]!, states[states.length - 1]!);
  const out = { energy, steps: solution.steps, stopped: solution.stopped, g, gFinal };
  solution.dispose();
  tf.dispose([input.drive!, ...layers.flat()]);
  return out;
}

describe('a deep EP net relaxes: its free phase is a real fixed-point iteration', () => {
  for (const output of ['mse', 'softmax-ce'] as const) {
    for (const seed of [0, 1, 2, 3, 4]) {
      it(`${output}, seed ${seed}: 48-32-24-6 at its initialisation needs more steps than it has free layers, and the synchronous map's energy never increases`, () => {
        const { system, params } = deepNet(seed, output, DEEP, 1);
        const x = images(seed, 16);
        const { energy, steps, stopped, g, gFinal } = relax(system, params, x, 300);
        // Layers are updated from their neighbours' previous values: the input needs (free layers) steps to
        // reach the top, so a net that is done then is feed-forward. This one keeps moving.
        const free = output === 'mse' ? 3 : 2;
        expect(stopped).toBe('converged');
        expect(steps).toBeGreaterThan(free + 2);
        for (let t = 1; t < g.length; t++) {
          g[t]!.forEach((v, i) => expect(v).toBeLessThanOrEqual(g[t - 1]![i]! + 1e-4 * Math.max(1, Math.abs(v))));
        }
        // At the fixed point G(s*, s*) = 2E(s*), the energy the relaxation reports.
        gFinal.forEach((v, i) => expect(v / 2).toBeCloseTo(energy[energy.length - 1]![i]!, 3));
        tf.dispose([x, ...Object.values(params)]);
      });
    }
  }

  it('with twice the weights the synchronous map need not settle and E itself can increase, yet G never increases, over seeds', () => {
    let increases = 0;
    for (const seed of [0, 1, 2, 3, 4]) {
      const { system, params } = deepNet(seed, 'mse', DEEP, 2);
      const x = images(seed, 16);
      const { g, energy } = relax(system, params, x, 120);
      for (let t = 1; t < g.length; t++) g[t]!.forEach((v, i) => expect(v).toBeLessThanOrEqual(g[t - 1]![i]! + 1e-4 * Math.max(1, Math.abs(v))));
      for (let t = 2; t < energy.length; t++) energy[t]!.forEach((v, i) => (increases += v > energy[t - 1]![i]! + 1e-3 ? 1 : 0));
      tf.dispose([x, ...Object.values(params)]);
    }
    // The G check is not vacuous: on the same trajectories the one-state energy E does go up.
    expect(increases).toBeGreaterThan(0);
    // Five seeds of 120 steps with the two-state energy per step: a few seconds alone, more under load.
  }, 60_000);

  it('energy descent s ← clip(s − ε∂E/∂s) with ε = 1/(1 + Σ‖W‖_F) ≤ 1/L on the deep net: E itself never increases, over seeds', () => {
    for (const seed of [0, 1, 2, 3, 4]) {
      const { system: map, params } = deepNet(seed, 'mse', DEEP, 2);
      const bound = 1 + ['W2', 'W3'].reduce((s, k) => s + Math.sqrt(tf.tidy(() => tf.sum(tf.square(params[k]!)).dataSync()[0]!)), 0);
      const system = equilibriumProp({ ...map.options, dynamics: 'energy-descent', stepSize: 1 / bound });
      const x = images(seed, 8);
      const input = system.prepare({ x }, params);
      const solution = simulate({ system, params, input, maxSteps: 200, probes: [{ variable: 'energy' }] });
      const energy = solution.traces.energy!.values.arraySync() as number[][];
      for (let t = 1; t < energy.length; t++) energy[t]!.forEach((v, i) => expect(v).toBeLessThanOrEqual(energy[t - 1]![i]! + 1e-5 * Math.max(1, Math.abs(v))));
      expect(energy[energy.length - 1]![0]).toBeLessThan(energy[3]![0]! - 1e-3);
      solution.dispose();
      tf.dispose([x, input.drive!, ...Object.values(params)]);
    }
  });

  it('the one-hidden-layer softmax net of sims/ep-mnist-quick.json is done after one step (the contrast this study exists for)', () => {
    const { system, params } = deepNet(0, 'softmax-ce', [48, 32, 6]);
    const x = images(0, 8);
    const { energy, steps } = relax(system, params, x, 50);
    expect(steps).toBeLessThanOrEqual(2);
    for (let i = 0; i < energy[1]!.length; i++) expect(energy[energy.length - 1]![i]).toBeCloseTo(energy[1]![i]!, 5);
    tf.dispose([x, ...Object.values(params)]);
  });
});

function classifierOf(system: EquilibriumPropSystem, params: EpParams, relaxation: { maxSteps: number; converge?: { tolerance: number } }) {
  return relaxationClassifier({
    name: 'deep EP',
    family: 'equilibrium-prop',
    system,
    params,
    classes: system.classes,
    imageShape: [1, DEEP[0]!, 1],
    relaxation,
    toInput: (x) => system.prepare({ x: x as tf.Tensor2D }, params),
    logitsOf: (r) => r as tf.Tensor2D,
  });
}

function inputGradient(system: EquilibriumPropSystem, params: EpParams, x: tf.Tensor2D, labels: tf.Tensor1D, gradient: GradientMode): Float32Array {
  const model = attackModel(classifierOf(system, params, { maxSteps: 400, converge: { tolerance: 1e-7 } }), { gradient });
  const { gradient: g, logits } = model.gradient(x, labels, 'margin');
  const out = Float32Array.from(g.dataSync());
  tf.dispose([g, logits]);
  return out;
}

describe('gradients through the deep relaxation', () => {
  for (const seed of [0, 1, 2]) {
    it(`seed ${seed}: the implicit gradient equals the unrolled one at the converged fixed point`, () => {
      const { system, params } = deepNet(seed);
      const x = images(seed, 6);
      const labels = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
      const unrolled = inputGradient(system, params, x, labels, { kind: 'unrolled' });
      const implicit = inputGradient(system, params, x, labels, { kind: 'implicit', tolerance: 1e-8, maxIterations: 2000 });
      const norm = Math.sqrt(unrolled.reduce((s, v) => s + v * v, 0));
      expect(norm).toBeGreaterThan(1e-3);
      const diff = Math.sqrt(unrolled.reduce((s, v, i) => s + (v - implicit[i]!) ** 2, 0));
      expect(diff / norm).toBeLessThan(1e-3);
      // A truncated gradient through one step is a different quantity: it must not pass the same check.
      const truncated = inputGradient(system, params, x, labels, { kind: 'truncated', steps: 1 });
      const diffTruncated = Math.sqrt(unrolled.reduce((s, v, i) => s + (v - truncated[i]!) ** 2, 0));
      expect(diffTruncated / norm).toBeGreaterThan(1e-2);
      tf.dispose([x, labels, ...Object.values(params)]);
    });
  }

  it('BPDA: the straight-through clip has the forward pass of the clip and slope 1 where the clip has slope 0', () => {
    const rho = activation('hard-sigmoid');
    const st = straightThrough(rho);
    const x = tf.tensor1d([-1.5, -0.2, 0.3, 0.9, 1.7]);
    expect(Array.from(st.apply(x).dataSync())).toEqual(Array.from(rho.apply(x).dataSync()));
    const exact = tf.grad((v: tf.Tensor) => tf.sum(rho.apply(v)))(x);
    const through = tf.grad((v: tf.Tensor) => tf.sum(st.apply(v)))(x);
    expect(Array.from(exact.dataSync())).toEqual([0, 0, 1, 1, 0]);
    expect(Array.from(through.dataSync())).toEqual([1, 1, 1, 1, 1]);
    tf.dispose([x, exact, through]);
  });

  it('BPDA: same logits as the defender; the input gradient differs from the exact one only through saturated units', () => {
    const { system, params } = deepNet(1);
    const st = equilibriumProp({ ...system.options, surrogateGradient: 'straight-through' });
    const x = images(1, 4);
    const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
    const a = classifierOf(system, params, { maxSteps: 200, converge: { tolerance: 1e-6 } }).run(x);
    const b = classifierOf(st, params, { maxSteps: 200, converge: { tolerance: 1e-6 } }).run(x);
    expect(Array.from(b.logits.dataSync())).toEqual(Array.from(a.logits.dataSync()));
    a.dispose();
    b.dispose();
    const exact = inputGradient(system, params, x, labels, { kind: 'unrolled' });
    const through = inputGradient(st, params, x, labels, { kind: 'unrolled' });
    const diff = Math.sqrt(exact.reduce((s, v, i) => s + (v - through[i]!) ** 2, 0));
    expect(diff).toBeGreaterThan(1e-6);
    // With small weights and biases ½, every pre-activation lies inside (0, 1): no unit saturates, and the
    // two gradients coincide.
    const small = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, k.startsWith('b') ? tf.fill(t.shape, 0.5) : tf.mul(t, 0.05)]));
    const dim = tf.add(tf.mul(x, 0.2), 0.1) as tf.Tensor2D;
    const e2 = inputGradient(system, small, dim, labels, { kind: 'unrolled' });
    const t2 = inputGradient(st, small, dim, labels, { kind: 'unrolled' });
    const n2 = Math.sqrt(e2.reduce((s, v) => s + v * v, 0));
    const d2 = Math.sqrt(e2.reduce((s, v, i) => s + (v - t2[i]!) ** 2, 0));
    expect(n2).toBeGreaterThan(0);
    expect(d2 / n2).toBeLessThan(1e-5);
    tf.dispose([x, labels, dim, ...Object.values(params), ...Object.values(small)]);
  });
});

describe('attacks through the deep relaxation stay inside their threat model', () => {
  it('PGD with every gradient mode, BPDA, attacker horizons and transfer from the net cut short: every point in the L∞ ball ∩ [0, 1], no tensor left', () => {
    const { system, params } = deepNet(2);
    const st = equilibriumProp({ ...system.options, surrogateGradient: 'straight-through' });
    const x = images(2, 8);
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 0, 1], 'int32');
    const threat: ThreatModel = { norm: 'linf', epsilon: 0.1, bounds: [0, 1] };
    const defender = classifierOf(system, params, { maxSteps: 200, converge: { tolerance: 1e-5 } });
    const bpda = classifierOf(st, params, { maxSteps: 200, converge: { tolerance: 1e-5 } });
    const cut = classifierOf(system, params, { maxSteps: 3 });
    const before = liveTensorCount();
    const settings = [
      attackModel(defender, { gradient: { kind: 'unrolled' } }),
      attackModel(defender, { gradient: { kind: 'truncated', steps: 2 } }),
      attackModel(defender, { gradient: { kind: 'implicit' } }),
      attackModel(bpda, { gradient: { kind: 'unrolled' } }),
      attackModel(bpda, { gradient: { kind: 'implicit' } }),
      attackModel(defender, { gradient: { kind: 'unrolled' }, relaxation: { maxSteps: 1 } }),
      attackModel(defender, { gradient: { kind: 'unrolled' }, relaxation: { maxSteps: 50 } }),
    ];
    const runs = settings.map((model, i) => pgd({ steps: 5, loss: 'margin' }).run({ model, x, labels, threat, rng: makeRng(i) }));
    runs.push(transfer(attackModel(cut, { gradient: { kind: 'unrolled' } }), pgd({ steps: 5 })).run({ model: settings[0]!, x, labels, threat, rng: makeRng(9) }));
    for (const r of runs) {
      expect(insideThreat(r.adversarial, x, threat).every(Boolean)).toBe(true);
      r.adversarial.dispose();
    }
    // The check can fail: the unrolled attack's points left a smaller ball.
    const moved = pgd({ steps: 5, loss: 'margin', randomStart: false }).run({ model: settings[0]!, x, labels, threat, rng: makeRng(0) });
    expect(insideThreat(moved.adversarial, x, { ...threat, epsilon: 0.01 }).some((v) => !v)).toBe(true);
    moved.adversarial.dispose();
    expect(liveTensorCount()).toBe(before);
    tf.dispose([x, labels, ...Object.values(params)]);
    // Eight PGD runs through relaxations of up to 200 steps: about 5 s alone, several times that on a loaded machine.
  }, 60_000);
});

describe('attractor diagnostics', () => {
  it('clean relaxation ends at distance 0 from itself, returns there from its own fixed point and from random starts; the path at t = 0 is the clean fixed point; no tensor left', () => {
    const { system, params } = deepNet(3);
    const net: EnergyRelaxation<EpState, EpParams, EpInput> = { system: system as never, params, toInput: (x) => system.prepare({ x: x as tf.Tensor2D }, params), maxSteps: 300, tolerance: 1e-6 };
    const x = images(3, 6);
    const before = liveTensorCount();
    const clean = relaxationTrace(net, x);
    const again = relaxationTrace(net, x, { reference: clean.state });
    const last = again.distance![again.distance!.length - 1]!;
    for (const d of last) expect(d).toBeLessThan(1e-4);
    // The energy trace agrees with the system's energy at the final state.
    const eTensor = tf.tidy(() => system.energy!({ layers: clean.state as tf.Tensor2D[] }, system.prepare({ x }, params), params));
    const e = eTensor.dataSync();
    eTensor.dispose();
    const final = clean.energy[clean.energy.length - 1]!;
    Array.from(e).forEach((v, i) => expect(final[i]!).toBeCloseTo(v, 4));
    const basin = returnsToClean(net, x, clean.state, clean.state, 1e-3);
    expect(Array.from(basin.returned)).toEqual([1, 1, 1, 1, 1, 1]);
    const unique = attractorUniqueness(net, x, [0, 1], 2, 1e-2, makeRng(0));
    expect(unique.unique).toBeGreaterThanOrEqual(0);
    expect(unique.maxDistance.length).toBe(6);
    const adversarial = tf.tidy(() => tf.clipByValue(tf.add(x, 0.1), 0, 1));
    const along = energyAlongPath(net, x, adversarial, Int32Array.from([0, 1, 2, 3, 4, 5]), [0, 0.5, 1]);
    along[0]!.energy.forEach((v, i) => expect(v).toBeCloseTo(final[i]!, 4));
    tf.dispose([...clean.state, ...again.state, adversarial]);
    expect(liveTensorCount()).toBe(before);
    tf.dispose([x, ...Object.values(params)]);
  });
});

describe('surrogate clip derivatives: the conv net under BPDA and the BPTT baseline', () => {
  /** A small P_CNN: 14×14 → conv 3×3 (2 ch) → pool → 6×6 → conv 3×3 (3 ch) → pool → 2×2 → fc 4, MSE output state. */
  function convNet(seed: number, surrogateGradient: 'exact' | 'straight-through' = 'exact', scale = 1) {
    const system = equilibriumPropConv({ inputSize: 14, channels: [2, 3], kernelSize: 3, classes: 4, surrogateGradient });
    const raw = system.initParams(makeRng(seed));
    const params = Object.fromEntries(Object.entries(raw).map(([k, t]) => [k, tf.mul(t, scale)]));
    tf.dispose(Object.values(raw));
    return { system, params };
  }
  function convClassifier(system: EquilibriumPropConvSystem, params: EpParams) {
    return relaxationClassifier({
      name: 'conv EP',
      family: 'equilibrium-prop',
      system,
      params,
      classes: 4,
      imageShape: [14, 14, 1],
      relaxation: { maxSteps: 20 },
      toInput: (x) => system.prepare({ x: tf.reshape(x, [x.shape[0]!, 14, 14, 1]) as tf.Tensor4D }, params),
      logitsOf: (r) => r as tf.Tensor2D,
    });
  }

  for (const seed of [0, 1]) {
    it(`seed ${seed}: the conv net's BPDA variant relaxes to the same logits; its input gradient differs from the exact one, and equals it when no unit saturates`, () => {
      const { system, params } = convNet(seed);
      const st = withSurrogateGradient(system, 'straight-through') as EquilibriumPropConvSystem;
      expect(st.options.surrogateGradient).toBe('straight-through');
      const x = randomUniform(makeRng(seed + 50), [3, 196]) as tf.Tensor2D;
      const labels = tf.tensor1d([0, 1, 2], 'int32');
      const before = liveTensorCount();
      const gradientOf = (net: EquilibriumPropConvSystem, p: EpParams, input: tf.Tensor2D) => {
        const model = attackModel(convClassifier(net, p), { gradient: { kind: 'unrolled' } });
        const { gradient, logits } = model.gradient(input, labels, 'margin');
        const out = { gradient: Float32Array.from(gradient.dataSync()), logits: Float32Array.from(logits.dataSync()) };
        tf.dispose([gradient, logits]);
        return out;
      };
      const exact = gradientOf(system, params, x);
      const through = gradientOf(st, params, x);
      expect(Array.from(through.logits)).toEqual(Array.from(exact.logits));
      const norm = Math.hypot(...exact.gradient);
      const diff = Math.hypot(...exact.gradient.map((v, i) => v - through.gradient[i]!));
      // Seed 1's exact gradient is 0 (every path through the clips is saturated: masked), BPDA's is not.
      expect(diff / Math.max(norm, 1e-12)).toBeGreaterThan(1e-3);
      expect(Number.isFinite(diff)).toBe(true);
      // Small weights, biases ½ and a dim input keep every pre-activation inside (0, 1): the gradients coincide.
      const small = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, k.startsWith('b') ? tf.fill(t.shape, 0.5) : tf.mul(t, 0.02)]));
      const dim = tf.tidy(() => tf.add(tf.mul(x, 0.2), 0.1)) as tf.Tensor2D;
      const e2 = gradientOf(system, small, dim);
      const t2 = gradientOf(st, small, dim);
      const n2 = Math.hypot(...e2.gradient);
      expect(n2).toBeGreaterThan(0);
      expect(Math.hypot(...e2.gradient.map((v, i) => v - t2.gradient[i]!)) / n2).toBeLessThan(1e-5);
      tf.dispose([dim, ...Object.values(small)]);
      expect(liveTensorCount()).toBe(before);
      tf.dispose([x, labels, ...Object.values(params)]);
    });
  }

  it("BPTT's straight-through-output surrogate: with the output cut off from the hidden layer (W₂ = 0) the cost's gradient in b₂ is the analytic mean of (s − y) with the clip taken as its slope; the exact one drops the saturated units", () => {
    const exactNet = equilibriumProp({ sizes: [6, 5, 4], output: 'mse', init: 'torch-default' });
    const raw = exactNet.initParams(makeRng(5));
    // s₂ = clip(s₁W₂ + b₂) = clip(b₂) whatever the hidden state: units 0 and 2 saturate (at 0 and at 1).
    const b2Values = [-0.5, 0.3, 1.5, 0.7];
    const params = { ...raw, W2: tf.zerosLike(raw.W2!), b2: tf.tensor1d(b2Values) };
    tf.dispose([raw.W2!, raw.b2!]);
    const x = randomUniform(makeRng(6), [5, 6]) as tf.Tensor2D;
    const labels = [0, 1, 2, 3, 0];
    const y = tf.tensor1d(labels, 'int32');
    const b2 = tf.variable(params.b2.clone());
    const lossGrad = (surrogateGradient: SurrogateGradient) => {
      const system = withSurrogateGradient(exactNet, surrogateGradient);
      const { value, grads } = tf.variableGrads(() => unrolledFreePhaseLoss({ system, freeSteps: 3 }, { ...params, b2 }, { x, y }).loss, [b2]);
      const out = { loss: value.dataSync()[0]!, grad: Array.from(grads[b2.name]!.dataSync()) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const exact = lossGrad('exact');
    const output = lossGrad('straight-through-output');
    expect(output.loss).toBe(exact.loss);
    const s = b2Values.map((v) => Math.min(1, Math.max(0, v)));
    const analytic = s.map((sj, j) => labels.reduce((sum, label) => sum + (sj - (label === j ? 1 : 0)), 0) / labels.length);
    output.grad.forEach((v, j) => expect(v).toBeCloseTo(analytic[j]!, 6));
    exact.grad.forEach((v, j) => expect(v).toBeCloseTo(b2Values[j]! > 0 && b2Values[j]! < 1 ? analytic[j]! : 0, 6));
    // Unit 0 sits at 0 with target 1 for two examples: the exact gradient is 0 there, the surrogate's is not.
    expect(analytic[0]).toBeLessThan(-0.1);
    tf.dispose([x, y, b2, ...Object.values(params)]);
  });

  it("straight-through-output keeps the hidden clips' exact derivative (unlike full straight-through) and is refused where there is no output state", () => {
    const { system, params } = deepNet(3, 'mse', DEEP, 2);
    const x = images(3, 4);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    const gradOf = (surrogateGradient: SurrogateGradient) => {
      const net = withSurrogateGradient(system, surrogateGradient);
      const vars = system.paramNames.map((k) => tf.variable(params[k]!.clone(), true, `${surrogateGradient}-${k}`));
      const p = Object.fromEntries(system.paramNames.map((k, i) => [k, vars[i]!]));
      const { value, grads } = tf.variableGrads(() => unrolledFreePhaseLoss({ system: net, freeSteps: 12 }, p, { x, y }).loss, vars);
      const out = { loss: value.dataSync()[0]!, w1: Float32Array.from(grads[vars[0]!.name]!.dataSync()) };
      tf.dispose([value, ...Object.values(grads), ...vars]);
      return out;
    };
    const exact = gradOf('exact');
    const output = gradOf('straight-through-output');
    const all = gradOf('straight-through');
    expect(output.loss).toBe(exact.loss);
    expect(all.loss).toBe(exact.loss);
    const distance = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((v, i) => v - b[i]!));
    expect(distance(output.w1, exact.w1)).toBeGreaterThan(1e-6);
    expect(distance(output.w1, all.w1)).toBeGreaterThan(1e-6);
    expect(() => equilibriumProp({ sizes: [6, 4, 3], output: 'softmax-ce', surrogateGradient: 'straight-through-output' })).toThrow(/MSE output state/);
    expect(() => equilibriumPropConv({ inputSize: 14, channels: [2], kernelSize: 3, surrogateGradient: 'straight-through-output' })).toThrow(/'exact' or 'straight-through'/);
    tf.dispose([x, y, ...Object.values(params)]);
  });
});
