import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/base/errors.js';
import { makeRng, randomNormal } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { lca } from '../../../src/families/lca/system.js';
import { lcaConv, type LcaConvOptions } from '../../../src/families/lca/system-conv.js';
import { normalizeAtoms, randomDictionary, transfer, resolveDynamics, type LcaState } from '../../../src/families/lca/system-common.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});
afterAll(async () => {
  await useBackend('wasm');
});

const LAMBDAS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Runs `steps` steps and returns the final state's code and potentials as arrays (disposing everything else). */
function relax(system: Parameters<typeof simulate>[0]['system'], params: { dictionary: tf.Tensor }, x: tf.Tensor, steps: number) {
  const sol = simulate({ system, params, input: { x }, maxSteps: steps });
  const state = sol.state as LcaState;
  const out = { a: state.a.arraySync() as number[][], u: Float32Array.from(state.u.dataSync()), aFlat: Float32Array.from(state.a.dataSync()) };
  sol.dispose();
  return out;
}

describe('lca: an input equal to one atom gives exactly one nonzero coefficient (lcapt test_lca.py)', () => {
  it('fully connected, 10 atoms of size 300, λ = 0.1 … 0.9, soft threshold: that atom, at 1 − λ', () => {
    const before = tf.memory().numTensors;
    const dictionary = randomDictionary([300, 10], makeRng(1));
    for (const lambda of LAMBDAS) {
      const system = lca({ inputSize: 300, features: 10, lambda, normalizeInput: false });
      // Two examples at once: atoms 0 and 7.
      const atoms = [0, 7];
      const x = tf.tidy(() => tf.transpose(tf.gather(dictionary, atoms, 1)));
      const { a } = relax(system, { dictionary }, x, 1000);
      atoms.forEach((atom, b) => {
        const nonzero = a[b]!.map((v, i) => [v, i] as const).filter(([v]) => v !== 0);
        expect(nonzero.map(([, i]) => i)).toEqual([atom]);
        // Fixed point u = 1 reached to (1 − 1/τ)^999 ≈ 4e-5.
        expect(nonzero[0]![0]).toBeCloseTo(1 - lambda, 3);
      });
      x.dispose();
    }
    dictionary.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('convolutional (3 channels, 10×10 atoms, valid padding), λ = 0.1 … 0.9', () => {
    const dictionary = randomDictionary([10, 10, 3, 10], makeRng(2));
    for (const lambda of LAMBDAS) {
      const system = lcaConv({ inputChannels: 3, features: 10, kernelSize: 10, padding: 'valid', lambda, normalizeInput: false });
      const x = tf.tidy(() => tf.reshape(tf.slice(dictionary, [0, 0, 0, 4], [10, 10, 3, 1]), [1, 10, 10, 3]));
      const { aFlat } = relax(system, { dictionary }, x, 1000);
      const nonzero = [...aFlat.entries()].filter(([, v]) => v !== 0).map(([i]) => i);
      expect(nonzero).toEqual([4]);
      expect(aFlat[4]).toBeCloseTo(1 - lambda, 3);
      x.dispose();
    }
    dictionary.dispose();
  });

  it('signed codes: minus an atom gives one negative coefficient; hard threshold keeps the full value 1', () => {
    const dictionary = randomDictionary([100, 12], makeRng(3));
    const x = tf.tidy(() => tf.neg(tf.transpose(tf.slice(dictionary, [0, 5], [100, 1]))));
    const signed = relax(lca({ inputSize: 100, features: 12, lambda: 0.3, nonnegative: false, normalizeInput: false }), { dictionary }, x, 1000);
    expect(signed.a[0]!.flatMap((v, i) => (v !== 0 ? [i] : []))).toEqual([5]);
    expect(signed.a[0]![5]).toBeCloseTo(-0.7, 3);
    const hard = relax(lca({ inputSize: 100, features: 12, lambda: 0.3, threshold: 'hard', nonnegative: false, normalizeInput: false }), { dictionary }, x, 1000);
    expect(hard.a[0]!.flatMap((v, i) => (v !== 0 ? [i] : []))).toEqual([5]);
    expect(hard.a[0]![5]).toBeCloseTo(-1, 3);
    tf.dispose([x, dictionary]);
  });
});

describe('lca: schedule — the code lags the potentials by one step, as lcapt returns it', () => {
  it('one active atom: u_k = 1 − (1 − 1/τ)^k analytically, and a after K steps is T(u_{K−1})', () => {
    const tau = 20;
    const lambda = 0.25;
    const dictionary = normalizeAtoms(tf.tensor2d([[1], [0], [0]]));
    const system = lca({ inputSize: 3, features: 1, lambda, tau, normalizeInput: false });
    const x = tf.tensor2d([[1, 0, 0]]);
    for (const steps of [1, 2, 10, 37]) {
      const { a, u } = relax(system, { dictionary }, x, steps);
      const uAt = (k: number) => 1 - (1 - 1 / tau) ** k;
      expect(u[0]).toBeCloseTo(uAt(steps), 5);
      expect(a[0]![0]).toBeCloseTo(Math.max(0, uAt(steps - 1) - lambda), 5);
    }
    tf.dispose([dictionary, x]);
  });

  it('in general: the code after K steps equals T(potentials after K − 1 steps)', () => {
    const rng = makeRng(4);
    const dictionary = randomDictionary([5, 5, 1, 3], rng);
    const x = randomNormal(rng, [2, 9, 9, 1]);
    const system = lcaConv({ inputChannels: 1, features: 3, kernelSize: 5, tau: 10, lambda: 0.1 });
    const early = simulate({ system, params: { dictionary }, input: { x }, maxSteps: 14 });
    const late = simulate({ system, params: { dictionary }, input: { x }, maxSteps: 15 });
    const expected = tf.tidy(() => transfer((early.state as LcaState).u, resolveDynamics({ lambda: 0.1 })));
    expect(tf.max(tf.abs(tf.sub(expected, (late.state as LcaState).a))).dataSync()[0]).toBe(0);
    tf.dispose([expected, dictionary, x]);
    early.dispose();
    late.dispose();
  });
});

/** Energy traces [records, batch] must not rise (beyond float32 round-off) and must fall overall. */
function expectDescends(energy: number[][]): void {
  for (let t = 1; t < energy.length; t++) {
    for (let b = 0; b < energy[t]!.length; b++) {
      expect(energy[t]![b]! - energy[t - 1]![b]!).toBeLessThan(2e-6 * Math.max(1, Math.abs(energy[t - 1]![b]!)));
    }
  }
  for (let b = 0; b < energy[0]!.length; b++) expect(energy[energy.length - 1]![b]!).toBeLessThan(energy[1]![b]!);
}

describe('lca: energy never increases along a relaxation (soft threshold)', () => {
  for (const seed of [11, 12, 13, 14, 15, 16]) {
    it(`seed ${seed}: fully connected (64 → 128) and convolutional (stride ${1 + (seed % 2)})`, () => {
      const rng = makeRng(seed);
      const nonnegative = seed % 3 !== 0;
      const lambda = 0.05 + 0.3 * rng.uniform();
      const fc = lca({ inputSize: 64, features: 128, lambda, tau: 10, nonnegative });
      const dictionary = randomDictionary([64, 128], rng);
      const x = randomNormal(rng, [6, 64]);
      const sol = simulate({ system: fc, params: { dictionary }, input: { x }, maxSteps: 150, probes: [{ variable: 'energy' }, { variable: 'fraction_active' }] });
      expectDescends(sol.traces.energy!.values.arraySync() as number[][]);
      const active = sol.traces.fraction_active!.values.arraySync() as number[][];
      expect(active[active.length - 1]!.every((f) => f > 0 && f < 1)).toBe(true);
      sol.dispose();

      const stride = 1 + (seed % 2);
      const conv = lcaConv({ inputChannels: 2, features: 4, kernelSize: 5, stride, lambda, tau: 60, nonnegative });
      const convDictionary = randomDictionary([5, 5, 2, 4], rng);
      const image = randomNormal(rng, [3, 12, 12, 2]);
      const convSol = simulate({ system: conv, params: { dictionary: convDictionary }, input: { x: image }, maxSteps: 150, probes: [{ variable: 'energy' }] });
      expectDescends(convSol.traces.energy!.values.arraySync() as number[][]);
      convSol.dispose();
      tf.dispose([dictionary, x, convDictionary, image]);
    });
  }
});

/**
 * The convolution as an explicit matrix Φ [H·W·C, H'·W'·K], written out index by index from the atoms:
 * code position (y', x', K) places atom K with its top-left corner at (y'·s − p, x'·s − p).
 */
function explicitConvolutionMatrix(atoms: Float32Array, o: Required<Pick<LcaConvOptions, 'kernelSize' | 'stride' | 'inputChannels' | 'features'>> & { padding: 'same' | 'valid' }, h: number, w: number) {
  const { kernelSize: k, stride: s, inputChannels: c, features: K } = o;
  const p = o.padding === 'same' ? (k - 1) / 2 : 0;
  const outH = Math.floor((h + 2 * p - k) / s) + 1;
  const outW = Math.floor((w + 2 * p - k) / s) + 1;
  const n = h * w * c;
  const m = outH * outW * K;
  const matrix = new Float32Array(n * m);
  for (let oy = 0; oy < outH; oy++)
    for (let ox = 0; ox < outW; ox++)
      for (let f = 0; f < K; f++) {
        const column = (oy * outW + ox) * K + f;
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++)
            for (let ch = 0; ch < c; ch++) {
              const y = oy * s - p + i;
              const x = ox * s - p + j;
              if (y < 0 || y >= h || x < 0 || x >= w) continue;
              matrix[((y * w + x) * c + ch) * m + column] = atoms[((i * k + j) * c + ch) * K + f]!;
            }
      }
  return { matrix: tf.tensor2d(matrix, [n, m]), n, m, outH, outW };
}

describe('lca-conv: the convolutional error form equals the explicit G-matrix form', () => {
  const cases: { padding: 'same' | 'valid'; stride: number; kernelSize: number }[] = [
    { padding: 'same', stride: 1, kernelSize: 3 },
    { padding: 'same', stride: 2, kernelSize: 5 },
    { padding: 'valid', stride: 2, kernelSize: 4 },
  ];
  for (const c of cases) {
    it(`${c.padding}, stride ${c.stride}, kernel ${c.kernelSize}: same potentials after 40 steps as u ← u + (b − u − aG)/τ with G = ΦᵀΦ − I`, () => {
      const rng = makeRng(21 + c.stride);
      const o = { inputChannels: 2, features: 3, ...c };
      const [h, w] = [9, 8];
      const dictionary = randomDictionary([c.kernelSize, c.kernelSize, 2, 3], rng);
      const x = randomNormal(rng, [2, h, w, 2]);
      const conv = relax(lcaConv({ ...o, lambda: 0.1, tau: 8 }), { dictionary }, x, 40);
      const { matrix, n, m } = explicitConvolutionMatrix(dictionary.dataSync() as Float32Array, o, h, w);
      const fc = lca({ inputSize: n, features: m, lambda: 0.1, tau: 8, form: 'gram' });
      const flat = tf.reshape(x, [2, n]);
      const input = tf.tidy(() => fc.prepare({ x: flat }, { dictionary: matrix }));
      const sol = simulate({ system: fc, params: { dictionary: matrix }, input, maxSteps: 40 });
      const expected = (sol.state as LcaState).u.dataSync();
      expect(conv.u.length).toBe(expected.length);
      let diff = 0;
      for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(conv.u[i]! - expected[i]!));
      expect(diff).toBeLessThan(1e-4);
      expect(conv.aFlat.some((v) => v !== 0)).toBe(true);
      sol.dispose();
      tf.dispose([dictionary, x, matrix, ...Object.values(input)]);
    });
  }

  it('the fully connected error and gram forms agree', () => {
    const rng = makeRng(31);
    const dictionary = randomDictionary([20, 30], rng);
    const x = randomNormal(rng, [4, 20]);
    const error = relax(lca({ inputSize: 20, features: 30, tau: 10, lambda: 0.1 }), { dictionary }, x, 60);
    const gramSystem = lca({ inputSize: 20, features: 30, tau: 10, lambda: 0.1, form: 'gram' });
    const input = tf.tidy(() => gramSystem.prepare({ x }, { dictionary }));
    const sol = simulate({ system: gramSystem, params: { dictionary }, input, maxSteps: 60 });
    const gram = (sol.state as LcaState).u.dataSync();
    for (let i = 0; i < gram.length; i++) expect(error.u[i]).toBeCloseTo(gram[i]!, 4);
    sol.dispose();
    tf.dispose([dictionary, x, ...Object.values(input).filter((t) => t !== x)]);
  });
});

describe('lca: cpu and wasm agree', () => {
  it('fully connected and convolutional (stride 2, same), 30 steps, energy and code', async () => {
    const results: Record<string, Float32Array[]> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      const rng = makeRng(41);
      const out: Float32Array[] = [];
      const fcDictionary = randomDictionary([30, 45], rng);
      const fcX = randomNormal(rng, [3, 30]);
      const fc = simulate({ system: lca({ inputSize: 30, features: 45, tau: 10, lambda: 0.1 }), params: { dictionary: fcDictionary }, input: { x: fcX }, maxSteps: 30, probes: [{ variable: 'energy' }] });
      out.push(Float32Array.from((fc.state as LcaState).u.dataSync()), Float32Array.from(fc.traces.energy!.values.dataSync()));
      fc.dispose();
      const convDictionary = randomDictionary([5, 5, 1, 4], rng);
      const image = randomNormal(rng, [2, 11, 11, 1]);
      const conv = simulate({ system: lcaConv({ inputChannels: 1, features: 4, kernelSize: 5, stride: 2, tau: 20, lambda: 0.05 }), params: { dictionary: convDictionary }, input: { x: image }, maxSteps: 30, probes: [{ variable: 'energy' }] });
      out.push(Float32Array.from((conv.state as LcaState).u.dataSync()), Float32Array.from(conv.traces.energy!.values.dataSync()));
      conv.dispose();
      tf.dispose([fcDictionary, fcX, convDictionary, image]);
      results[backend] = out;
    }
    results.cpu!.forEach((expected, i) => {
      const actual = results.wasm![i]!;
      let scale = 1e-6;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      for (let j = 0; j < expected.length; j++) expect(Math.abs(actual[j]! - expected[j]!) / scale).toBeLessThan(1e-4);
    });
  });
});

describe('lca: counts, input normalisation, memory and errors', () => {
  it('events are the nonzero coefficients of the code the step used; dense MACs as documented', () => {
    const rng = makeRng(51);
    const dictionary = randomDictionary([5, 5, 1, 4], rng);
    const x = randomNormal(rng, [2, 10, 10, 1]);
    const system = lcaConv({ inputChannels: 1, features: 4, kernelSize: 5, stride: 1, tau: 10, lambda: 0.1 });
    const sol = simulate({ system, params: { dictionary }, input: { x }, maxSteps: 12, countEvents: true });
    const a = (sol.state as LcaState).a.dataSync();
    const nonzero = Array.from(a).filter((v) => v !== 0).length;
    const last = sol.events!.perStep[11]!.lca!;
    expect(last.events).toBe(nonzero);
    expect(last.macs).toBe(2 * 2 * 10 * 10 * 4 * 25);
    expect(last.synaptic_ops).toBe(nonzero * 9 * 9 * 4);
    expect(sol.events!.perStep[0]!.lca!.events).toBe(0);
    sol.dispose();
    tf.dispose([dictionary, x]);
  });

  it('normalisation makes the code invariant to the scale and offset of the input', () => {
    const rng = makeRng(52);
    const dictionary = randomDictionary([40, 20], rng);
    const x = randomNormal(rng, [2, 40]);
    const shifted = tf.tidy(() => tf.add(tf.mul(x, 7), 3));
    const system = lca({ inputSize: 40, features: 20, tau: 10 });
    const a1 = relax(system, { dictionary }, x, 50).aFlat;
    const a2 = relax(system, { dictionary }, shifted, 50).aFlat;
    for (let i = 0; i < a1.length; i++) expect(a2[i]).toBeCloseTo(a1[i]!, 4);
    tf.dispose([dictionary, x, shifted]);
  });

  it('a relaxation with probes and counts leaves no tensor behind', () => {
    const rng = makeRng(53);
    const dictionary = randomDictionary([3, 3, 1, 2], rng);
    const x = randomNormal(rng, [1, 6, 6, 1]);
    const before = tf.memory().numTensors;
    const sol = simulate({
      system: lcaConv({ inputChannels: 1, features: 2, kernelSize: 3 }),
      params: { dictionary },
      input: { x },
      maxSteps: 5,
      countEvents: true,
      probes: [{ variable: 'energy' }, { variable: 'fraction_active', reduce: 'mean' }, { variable: 'recon_error_rel' }, { variable: 'a' }],
    });
    sol.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([dictionary, x]);
  });

  it('bad options name the option, the value and what is allowed', () => {
    expect(() => lca({ inputSize: 10, features: 0 })).toThrow(SpecError);
    expect(() => lca({ inputSize: 10, features: 5, tau: 0.5 })).toThrow(/^tau.*≥ 1/);
    expect(() => lcaConv({ inputChannels: 1, features: 4, kernelSize: 4 })).toThrow(/^kernelSize.*odd kernel/);
    expect(() => lcaConv({ inputChannels: 1, features: 4, padding: 'full' as 'same' })).toThrow(/^padding/);
    const system = lcaConv({ inputChannels: 3, features: 4 });
    const x = tf.zeros([1, 8, 8, 1]);
    const dictionary = tf.zeros([7, 7, 3, 4]);
    expect(() => system.initState({ x }, { dictionary })).toThrow(/input\.x.*3 input channel/);
    tf.dispose([x, dictionary]);
  });
});
