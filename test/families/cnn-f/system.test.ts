import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng, randomNormal, randomUniform } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { runCycles } from '../../../src/families/cnn-f/run-cycles.js';
import { cnnf, type CnnfParams, type CnnfSystem } from '../../../src/families/cnn-f/system.js';
import { ARCHITECTURES } from '../../../src/families/cnn-f/system-architectures.js';
import {
  adaPoolFeedback,
  adaPoolForward,
  adaReluForward,
  convFeedback,
  convForward,
  linearFeedback,
  linearForward,
  type LayerSpec,
} from '../../../src/families/cnn-f/system-layers.js';
import { liveTensorCount, useBackend, type BackendName } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});
afterAll(async () => {
  await useBackend('cpu');
});

const plain = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v + 0);
const close = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/** A small CNN-F on 8×8 images: conv 1→3, norm, adarelu, pool, conv 3→4, norm, adarelu, pool, flatten, fc 16→6, adarelu, fc 6→5. */
const SMALL: LayerSpec[] = [
  { type: 'conv', channels: 3 },
  { type: 'norm' },
  { type: 'adarelu' },
  { type: 'adapool' },
  { type: 'conv', channels: 4 },
  { type: 'norm' },
  { type: 'adarelu' },
  { type: 'adapool' },
  { type: 'flatten' },
  { type: 'linear', units: 6 },
  { type: 'adarelu' },
  { type: 'linear', units: 5 },
];

function small(ind: number, eta = 0.1, readout: 'last' | 'average' = 'last', seed = 1) {
  const system = cnnf({ layers: SMALL, ind, eta, readout, inputShape: [8, 8, 1] });
  const rng = makeRng(seed);
  const params = system.initParams(rng.split('params'));
  // Non-zero norm biases, so that skipping them on the way down is visible.
  for (const name of system.paramNames.filter((n) => n.startsWith('beta'))) {
    const old = params[name]!;
    params[name] = randomNormal(rng.split(name), [...old.shape], 0.3);
    old.dispose();
  }
  const x = randomUniform(rng.split('x'), [3, 8, 8, 1]);
  return { system, params: params as CnnfParams, x };
}

describe('cnn-f feedback of linear and conv layers is the vector-Jacobian product of their forward map', () => {
  for (const seed of [1, 2, 3]) {
    it(`conv 3×3 and 5×5, seed ${seed}`, () => {
      tf.tidy(() => {
        const rng = makeRng(seed);
        for (const k of [3, 5]) {
          const x = randomNormal(rng.split(`x${k}`), [2, 6, 7, 3]);
          const w = randomNormal(rng.split(`w${k}`), [k, k, 3, 4]);
          const g = randomNormal(rng.split(`g${k}`), [2, 6, 7, 4]);
          const vjp = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(convForward(xx, w), g)))(x);
          expect(close(convFeedback(g, w, [6, 7, 3]), vjp)).toBeLessThan(1e-4);
        }
      });
    });
    it(`linear, seed ${seed}`, () => {
      tf.tidy(() => {
        const rng = makeRng(seed);
        const x = randomNormal(rng.split('x'), [4, 9]);
        const w = randomNormal(rng.split('w'), [9, 5]);
        const b = randomNormal(rng.split('b'), [5]);
        const g = randomNormal(rng.split('g'), [4, 5]);
        const vjp = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(linearForward(xx, w, b), g)))(x);
        expect(close(linearFeedback(g, w), vjp)).toBeLessThan(1e-5);
      });
    });
  }
});

describe('AdaReLU on hand-computed cases', () => {
  it('first pass is ReLU; later passes blend x ← x + 0.1(g − x) and pass where x·g > 0 (negatives too), 0 where g = 0', () => {
    tf.tidy(() => {
      const x = tf.tensor1d([1, -2, 0.5, -1, 3, 0]);
      const g = tf.tensor1d([1, -1, -1, 0, 2, 1]);
      const first = adaReluForward(x, undefined);
      expect(plain(first.y)).toEqual([1, 0, 0.5, 0, 3, 0]);
      expect(plain(first.z)).toEqual([1, 0, 1, 0, 1, 0]);
      const later = adaReluForward(x, g);
      // blended: [1, -1.9, 0.35, -0.9, 2.9, 0.1]; signs agree with g at 0, 1, 4, 5; g = 0 at 3.
      const y = Array.from(later.y.dataSync());
      [1, -1.9, 0, 0, 2.9, 0.1].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
      expect(plain(later.z)).toEqual([1, 1, 0, 0, 1, 1]);
    });
  });
});

describe('AdaPool on hand-computed cases', () => {
  // One example, 2×4 image, one channel: two windows [1, 3; 3, -2] and [-2, 5; -2, 0].
  const image = () => tf.tensor4d([1, 3, -2, 5, 3, -2, -2, 0], [1, 2, 4, 1]);
  it('first pass: max-pool, ties to the first position; feedback to the argmax whatever the sign of g', () => {
    tf.tidy(() => {
      expect(plain(adaPoolForward(image(), undefined))).toEqual([3, 5]);
      const back = adaPoolFeedback(tf.tensor4d([2, -1], [1, 1, 2, 1]), image(), true);
      expect(plain(back)).toEqual([0, 2, 0, -1, 0, 0, 0, 0]);
    });
  });
  it('later passes: max where g > 0, min where g < 0 (first of tied minima), 0 and no feedback where g = 0', () => {
    tf.tidy(() => {
      expect(plain(adaPoolForward(image(), tf.tensor4d([1, -1], [1, 1, 2, 1])))).toEqual([3, -2]);
      expect(plain(adaPoolForward(image(), tf.tensor4d([-1, 0], [1, 1, 2, 1])))).toEqual([-2, 0]);
      const back = adaPoolFeedback(tf.tensor4d([-0.5, 0], [1, 1, 2, 1]), image(), false);
      // Window 1's minimum -2 is at (1, 1); window 2's g = 0 sends nothing.
      expect(plain(back)).toEqual([0, 0, 0, 0, 0, -0.5, 0, 0]);
      const up = adaPoolFeedback(tf.tensor4d([0.5, -3], [1, 1, 2, 1]), image(), false);
      // Window 1: argmax (first 3 at (0, 1)); window 2: argmin (first -2 at (0, 2)).
      expect(plain(up)).toEqual([0, 0.5, -3, 0, 0, 0, 0, 0]);
    });
  });
});

describe("BPDA (maskGradient 'bpda'): the same forward, a sigmoid surrogate for the switches' gradient", () => {
  const sigmoidSlope = (u: number, tau: number) => {
    const s = 1 / (1 + Math.exp(-u / tau));
    return (s * (1 - s)) / tau;
  };
  const rms = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);

  it('AdaReLU: y is bit-identical; ∂Σ w·y/∂g = w·(0.1 z + x̃ σ′(u/τ)/τ (x̃ + 0.1 g)), u = x̃ g, τ = RMS(u), by hand', () => {
    const xs = [1, -2, 0.5, -1, 3, 0.2];
    const gs = [1, -1, -1, 0.3, 2, -0.4];
    const ws = [0.5, -1, 2, 1, -0.3, 0.7];
    tf.tidy(() => {
      const x = tf.tensor1d(xs);
      const g = tf.tensor1d(gs);
      const w = tf.tensor1d(ws);
      expect(Buffer.from(adaReluForward(x, g, 'bpda').y.dataSync().buffer)).toEqual(Buffer.from(adaReluForward(x, g).y.dataSync().buffer));
      const gradient = (mode: 'exact' | 'bpda') => Array.from(tf.grad((gv: tf.Tensor) => tf.sum(tf.mul(adaReluForward(x, gv, mode).y, w)))(g).dataSync());
      const blended = xs.map((v, i) => v + 0.1 * (gs[i]! - v));
      const u = blended.map((b, i) => b * gs[i]!);
      const z = u.map((v) => (v > 0 ? 1 : 0));
      const tau = rms(u);
      const expected = ws.map((wi, i) => wi * (0.1 * z[i]! + blended[i]! * sigmoidSlope(u[i]!, tau) * (blended[i]! + 0.1 * gs[i]!)));
      gradient('bpda').forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
      // The exact gradient treats z as a constant: only the blend's 0.1 z reaches g.
      gradient('exact').forEach((v, i) => expect(v).toBeCloseTo(ws[i]! * 0.1 * z[i]!, 6));
    });
  });

  it('AdaPool: the forward and the feedback are bit-identical; ∂Σ w·y/∂g = w·(max − min)·σ′(g/τ)/τ, τ = RMS(g), by hand', () => {
    // Two windows [1, 3; 3, -2] and [-2, 5; -2, 0]: max − min = 5 and 7.
    const image = () => tf.tensor4d([1, 3, -2, 5, 3, -2, -2, 0], [1, 2, 4, 1]);
    const gs = [0.4, -1.5];
    const ws = [2, -0.5];
    tf.tidy(() => {
      const g = tf.tensor4d(gs, [1, 1, 2, 1]);
      const w = tf.tensor4d(ws, [1, 1, 2, 1]);
      expect(plain(adaPoolForward(image(), g, 'bpda'))).toEqual(plain(adaPoolForward(image(), g)));
      expect(plain(adaPoolFeedback(g, image(), false, 'bpda'))).toEqual(plain(adaPoolFeedback(g, image(), false)));
      // + 0·Σg keeps g on the tape: under 'exact' nothing else depends on it.
      const gradient = (mode: 'exact' | 'bpda') => Array.from(tf.grad((gv: tf.Tensor) => tf.add(tf.sum(tf.mul(adaPoolForward(image(), gv, mode), w)), tf.mul(tf.sum(gv), 0)))(g).dataSync());
      const tau = rms(gs);
      [5, 7].forEach((spread, i) => expect(gradient('bpda')[i]).toBeCloseTo(ws[i]! * spread * sigmoidSlope(gs[i]!, tau), 5));
      expect(gradient('exact')).toEqual([0, 0]);
    });
  });

  it('a whole CNN-F: the same scores bit for bit, a different input gradient, and with zero cycles the same gradient', () => {
    const { params, x } = small(4, 0.5, 'average', 2);
    const exact = cnnf({ layers: SMALL, ind: 4, eta: 0.5, readout: 'average', inputShape: [8, 8, 1] });
    const bpda = cnnf({ layers: SMALL, ind: 4, eta: 0.5, readout: 'average', inputShape: [8, 8, 1], maskGradient: 'bpda' });
    const scoreOf = (system: CnnfSystem, cycles: number) => (input: tf.Tensor) => tf.sum(tf.mul(runCycles(system, params, input, cycles, { gradient: { kind: 'unrolled' } }).scores, tf.linspace(-1, 1, 5)));
    tf.tidy(() => {
      expect(scoreOf(bpda, 2)(x).dataSync()[0]).toBe(scoreOf(exact, 2)(x).dataSync()[0]);
      const difference = close(tf.grad(scoreOf(bpda, 2))(x), tf.grad(scoreOf(exact, 2))(x));
      expect(difference).toBeGreaterThan(1e-4);
      expect(close(tf.grad(scoreOf(bpda, 0))(x), tf.grad(scoreOf(exact, 0))(x))).toBe(0);
    });
    // Outside any tidy: the surrogate's tensors are freed with the gradient computation.
    const before = liveTensorCount();
    const gradient = tf.grad(scoreOf(bpda, 2))(x);
    gradient.dispose();
    expect(liveTensorCount()).toBe(before);
    tf.dispose([x, ...Object.values(params)]);
  });
});

/** The plain feedforward CNN, written independently with tfjs's own relu and maxPool. */
function plainCnn(layers: readonly LayerSpec[], params: CnnfParams, x01: tf.Tensor): tf.Tensor {
  let a = tf.sub(tf.mul(x01, 2), 1);
  layers.forEach((l, i) => {
    if (l.type === 'conv') a = tf.conv2d(a as tf.Tensor4D, params[`W${i}`] as tf.Tensor4D, 1, 'same');
    else if (l.type === 'norm') a = tf.add(tf.div(a, tf.sqrt(tf.add(tf.mean(tf.mul(a, a), [1, 2], true), 1e-8))), params[`beta${i}`]!);
    else if (l.type === 'adarelu') a = tf.relu(a);
    else if (l.type === 'adapool') a = tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid');
    else if (l.type === 'flatten') a = tf.reshape(a, [a.shape[0]!, -1]);
    else a = tf.add(tf.matMul(a as tf.Tensor2D, params[`W${i}`] as tf.Tensor2D), params[`b${i}`]!);
  });
  return a;
}

describe('cnn-f with zero cycles is the feedforward CNN; with η = 0 the features h never move', () => {
  for (const ind of [0, 4, 9]) {
    it(`ind = ${ind}`, () => {
      const { system, params, x } = small(ind, 0);
      tf.tidy(() => {
        const state = system.initState({ x }, params);
        expect(close(system.readout!(state, { x }, params), plainCnn(SMALL, params, x))).toBe(0);
      });
      const sol = simulate({ system, params, input: { x }, maxSteps: 3, probes: [{ variable: 'residual' }] });
      expect(Math.max(...(sol.traces.residual!.values.dataSync() as Float32Array))).toBe(0);
      sol.dispose();
      tf.dispose([x, ...Object.values(params)]);
    });
  }
  it('the official Fashion-MNIST net and the CPU net, zero cycles', () => {
    for (const arch of Object.values(ARCHITECTURES)) {
      const system = cnnf({ layers: arch.layers, ind: arch.ind, inputShape: [28, 28, 1] });
      const params = system.initParams(makeRng(3));
      const x = randomUniform(makeRng(4), [2, 28, 28, 1]);
      tf.tidy(() => {
        expect(close(system.readout!(system.initState({ x }, params), { x }, params), plainCnn(arch.layers, params, x))).toBeLessThan(1e-5);
      });
      tf.dispose([x, ...Object.values(params)]);
    }
  }, 120_000);
});

describe('cnn-f cycles', () => {
  it('h moves by η(recon − h): residual = η·√(Σ(recon − h_prev)²), recon error = mean((recon − h_prev)²); the average readout is the mean of every pass', () => {
    const { system, params, x } = small(4, 0.1, 'average');
    const sol = simulate({
      system,
      params,
      input: { x },
      maxSteps: 3,
      probes: [{ variable: 'residual' }, { variable: 'recon_error' }, { variable: 'logits' }, { variable: 'readout' }],
    });
    const n = system.hShape.reduce((a, b) => a * b, 1);
    const residual = sol.traces.residual!.values.arraySync() as number[][];
    const err = sol.traces.recon_error!.values.arraySync() as number[][];
    for (let t = 1; t <= 3; t++) for (let b = 0; b < 3; b++) expect(residual[t]![b]!).toBeCloseTo(0.1 * Math.sqrt(err[t]![b]! * n), 4);
    expect(residual[1]![0]!).toBeGreaterThan(0);
    tf.tidy(() => {
      const logits = sol.traces.logits!.values;
      expect(close(tf.mean(logits, 0), tf.squeeze(tf.slice(sol.traces.readout!.values, [3, 0, 0], [1, -1, -1]), [0]))).toBeLessThan(1e-5);
    });
    sol.dispose();
    tf.dispose([x, ...Object.values(params)]);
  }, 120_000);

  it('the unrolled gradient through 2 cycles matches central finite differences (3 seeds, every parameter)', () => {
    for (const seed of [1, 2, 3]) {
      const { system, params, x } = small(4, 0.5, 'average', seed);
      const labels = tf.tensor1d([0, 2, 4], 'int32');
      const loss = (p: CnnfParams) => {
        const sol = simulate({ system, params: p, input: { x }, maxSteps: 2, gradient: { kind: 'unrolled' } });
        const out = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 5), system.readout!(sol.state, { x }, p) as tf.Tensor2D) as tf.Scalar;
        const kept = out.clone();
        sol.dispose();
        return kept;
      };
      const names = [...system.paramNames];
      const grads = tf.grads((...ts: tf.Tensor[]) => loss(Object.fromEntries(names.map((n, i) => [n, ts[i]!]))))(names.map((n) => params[n]!));
      // One coordinate per parameter (its largest gradient entry): the masks of AdaReLU/AdaPool switch where
      // x·g crosses 0, and a random direction over a whole tensor crosses such kinks within any ε that float32
      // differences can resolve. A kink within ε is the one other way to disagree, hence two ε.
      names.forEach((name, i) => {
        const flat = grads[i]!.dataSync();
        let at0 = 0;
        flat.forEach((v, j) => (Math.abs(v) > Math.abs(flat[at0]!) ? (at0 = j) : 0));
        const analytic = flat[at0]!;
        const fdAt = (eps: number) => {
          const bumped = (s: number) =>
            tf.tidy(() => {
              const d = tf.tensor(Float32Array.from({ length: flat.length }, (_, j) => (j === at0 ? s : 0)), params[name]!.shape);
              return loss({ ...params, [name]: tf.add(params[name]!, d) }).dataSync()[0]!;
            });
          return (bumped(eps) - bumped(-eps)) / (2 * eps);
        };
        const errors = [3e-4, 1e-4].map((eps) => Math.abs(fdAt(eps) - analytic));
        expect(Math.min(...errors), `${name} seed ${seed}: autodiff ${analytic}, |fd − autodiff| ${errors.join(', ')}`).toBeLessThan(1e-3 + 0.02 * Math.abs(analytic));
      });
      tf.dispose([...grads, labels, x, ...Object.values(params)]);
    }
  }, 120_000);

  it('cpu and wasm give the same logits, residuals and reconstructions over 3 cycles (both architectures)', async () => {
    const runOn = async (backend: BackendName) => {
      await useBackend(backend);
      const out: Float32Array[] = [];
      for (const arch of [ARCHITECTURES['fashion-cpu'], { layers: SMALL, ind: 0 }] as const) {
        const side = arch.layers === SMALL ? 8 : 28;
        const system: CnnfSystem = cnnf({ layers: arch.layers, ind: arch.ind, inputShape: [side, side, 1] });
        const params = system.initParams(makeRng(5));
        const x = randomUniform(makeRng(6), [2, side, side, 1]);
        const sol = simulate({ system, params, input: { x }, maxSteps: 3, probes: [{ variable: 'residual' }] });
        out.push(Float32Array.from(sol.state.logits.dataSync()), Float32Array.from(sol.traces.residual!.values.dataSync()), Float32Array.from(sol.state.recon.dataSync()));
        sol.dispose();
        tf.dispose([x, ...Object.values(params)]);
      }
      return out;
    };
    const cpu = await runOn('cpu');
    const wasm = await runOn('wasm');
    cpu.forEach((c, i) => {
      const scale = Math.max(1e-6, ...Array.from(c, Math.abs));
      const diff = Math.max(...Array.from(c, (v, j) => Math.abs(v - wasm[i]![j]!)));
      expect(diff / scale).toBeLessThan(1e-4);
    });
    await useBackend('cpu');
  }, 120_000);

  it('frees every tensor of a run once the solution is disposed', () => {
    const { system, params, x } = small(0);
    const before = liveTensorCount();
    const sol = simulate({ system, params, input: { x }, maxSteps: 4, probes: [{ variable: 'residual' }, { variable: 'readout' }], countEvents: true });
    sol.dispose();
    expect(liveTensorCount()).toBe(before);
    tf.dispose([x, ...Object.values(params)]);
  });

  it('counts per cycle: forward + feedback MACs of every weighted layer from ind up, its nonzero inputs as events (hand counts: hardware.test.ts)', () => {
    const { system, params, x } = small(4);
    const sol = simulate({ system, params, input: { x }, maxSteps: 2, countEvents: true });
    const perStep = sol.events!.perStep;
    expect(perStep.length).toBe(2);
    // Layer 4: conv 3→4 on 4×4 (after the first pool), 3×3 kernel; layer 9: linear 16→6; layer 11: 6→5; batch 3.
    expect(perStep[0]!.conv4!.macs).toBe(2 * 3 * 4 * 4 * 9 * 3 * 4);
    expect(perStep[0]!.linear9!.macs).toBe(2 * 3 * 16 * 6);
    expect(perStep[0]!.linear11!.macs).toBe(2 * 3 * 6 * 5);
    expect(perStep[0]!.conv0).toBeUndefined();
    // The last layer receives the AdaReLU's output forward (blended input where its mask passes) and the logits back.
    const z = sol.state.masks.z10!;
    const expected = tf.tidy(() => tf.sum(z).dataSync()[0]! + 3 * 5);
    expect(perStep[1]!.linear11!.events).toBe(expected);
    expect(perStep[1]!.adarelu10!.events).toBeUndefined();
    sol.dispose();
    tf.dispose([x, ...Object.values(params)]);
  });

  it('rejects bad architectures with a message naming the layer', () => {
    expect(() => cnnf({ layers: [{ type: 'linear', units: 3 }], ind: 0, inputShape: [8, 8, 1] })).toThrow(/system.layers\[0\].*flatten/);
    expect(() => cnnf({ layers: SMALL.slice(0, 4), ind: 0, inputShape: [8, 8, 1] })).toThrow(/last layer must be linear/);
    expect(() => cnnf({ layers: SMALL, ind: 12, inputShape: [8, 8, 1] })).toThrow(/system.ind/);
    expect(() => cnnf({ layers: [{ type: 'adapool' }, { type: 'flatten' }, { type: 'linear', units: 2 }], ind: 0, inputShape: [7, 7, 1] })).toThrow(/even H and W/);
  });
});
