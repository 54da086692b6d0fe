/**
 * Attacks through the dynamics: the attacker's gradient in each of the core's gradient modes against an
 * independent computation (central finite differences of the defender's own forward pass), losses on
 * intermediate states, the implicit gradient's known blind spot, EOT on a stochastic model, transfer, the
 * minimal-perturbation search on a linear model with an analytic answer, and no tensor leaks over long runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeRng, randomNormal, type Rng } from '../../src/base/rng.js';
import type { GradientMode } from '../../src/core/gradient-mode.js';
import { hopfield, storePatterns } from '../../src/families/hopfield/system.js';
import { apgd } from '../../src/attacks/apgd.js';
import { attackModel, type StepWeighting } from '../../src/attacks/attack-model.js';
import type { ClassifierRun, DynamicsClassifier } from '../../src/attacks/classifier.js';
import { expectationOverTransformation } from '../../src/attacks/eot.js';
import { attackLoss } from '../../src/attacks/losses.js';
import { minimalPerturbation } from '../../src/attacks/minimal-perturbation.js';
import { feedForwardClassifier, relaxationClassifier } from '../../src/attacks/models/index.js';
import { fgsm, pgd } from '../../src/attacks/pgd.js';
import { spsa } from '../../src/attacks/spsa.js';
import { square } from '../../src/attacks/square.js';
import { transfer } from '../../src/attacks/transfer.js';
import { insideThreat } from '../../src/attacks/threat-model.js';
import { useBackend } from '../../src/tensor/index.js';

// Seconds normally; minutes when the machine is shared and loaded.
vi.setConfig({ testTimeout: 120_000 });

beforeAll(async () => {
  await useBackend('cpu');
});

/** A 16-unit Hopfield net storing 3 random ±1 prototypes, read out by its overlaps with them. */
function tinyHopfield(options: { cueCurrent: number; gain: number; maxSteps: number; tolerance?: number }): DynamicsClassifier {
  const rng = makeRng(7);
  const n = 16;
  const prototypes = tf.tidy(() => tf.sign(tf.add(randomNormal(rng, [3, n]), 1e-3))) as tf.Tensor2D;
  return relaxationClassifier({
    name: 'tiny hopfield',
    family: 'hopfield',
    system: hopfield({ size: n, gain: options.gain, tau: 1, cueCurrent: options.cueCurrent }),
    params: storePatterns(prototypes),
    classes: 3,
    imageShape: [4, 4, 1],
    relaxation: { maxSteps: options.maxSteps, ...(options.tolerance ? { converge: { tolerance: options.tolerance } } : {}), dt: 0.2 },
    toInput: (x) => ({ cue: tf.sub(tf.mul(x, 2), 1) as tf.Tensor2D }),
    logitsOf: (v) => tf.mul(tf.matMul(v as tf.Tensor2D, prototypes, false, true), 10 / n) as tf.Tensor2D,
    owned: [prototypes],
  });
}

function inputs(seed: number, batch = 4): { x: tf.Tensor2D; labels: tf.Tensor1D } {
  const rng = makeRng(seed);
  return {
    x: tf.tidy(() => tf.clipByValue(tf.add(tf.mul(randomNormal(rng, [batch, 16]), 0.2), 0.5), 0.05, 0.95)) as tf.Tensor2D,
    labels: tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 3), 'int32'),
  };
}

/** Σ_t w_t Σ_examples CE(z_t) of the defender's own forward pass (no gradient). */
function forwardLoss(classifier: DynamicsClassifier, x: tf.Tensor, labels: tf.Tensor1D, weighting: StepWeighting): number {
  return tf.tidy(() => {
    const run: ClassifierRun = classifier.run(x, { stepLogits: weighting !== 'final' });
    let total: number;
    if (weighting === 'final') total = tf.sum(attackLoss('ce', run.logits, labels)).dataSync()[0]!;
    else {
      const { values, steps } = run.stepLogits!;
      const raw = steps.map((t) => (t === 0 ? 0 : weighting === 'uniform' ? 1 : t));
      const norm = raw.reduce((a, b) => a + b, 0);
      total = steps.reduce((acc, _, i) => acc + (raw[i]! / norm) * tf.sum(attackLoss('ce', tf.gather(values, i) as unknown as tf.Tensor2D, labels)).dataSync()[0]!, 0);
    }
    run.dispose();
    return total;
  });
}

function finiteDifferences(f: (x: tf.Tensor) => number, x: tf.Tensor, indices: number[], h = 1e-3): number[] {
  const base = x.dataSync();
  return indices.map((i) => {
    const plus = base.slice();
    const minus = base.slice();
    plus[i]! += h;
    minus[i]! -= h;
    const tp = tf.tensor(plus, x.shape);
    const tm = tf.tensor(minus, x.shape);
    const d = (f(tp) - f(tm)) / (2 * h);
    tf.dispose([tp, tm]);
    return d;
  });
}

function attackerGradient(classifier: DynamicsClassifier, x: tf.Tensor, labels: tf.Tensor1D, gradient: GradientMode, stepWeighting: StepWeighting = 'final'): Float32Array {
  const model = attackModel(classifier, { gradient, stepWeighting });
  const out = model.gradient(x, labels, 'ce');
  const g = out.gradient.dataSync() as Float32Array;
  tf.dispose([out.gradient, out.logits]);
  return g;
}

const coords = [0, 5, 17, 30, 47, 63];
const expectClose = (g: ArrayLike<number>, fd: number[]) => {
  const scale = Math.max(...fd.map(Math.abs));
  coords.forEach((c, j) => expect(Math.abs(g[c]! - fd[j]!)).toBeLessThan(2e-3 + 2e-2 * scale));
};

describe('the attacker gradient through the relaxation', () => {
  let contraction: DynamicsClassifier;
  let data: { x: tf.Tensor2D; labels: tf.Tensor1D };
  beforeAll(() => {
    // gain 0.7 with a held input current: one fixed point that depends on x, reached to 1e-6.
    contraction = tinyHopfield({ cueCurrent: 0.5, gain: 0.7, maxSteps: 400, tolerance: 1e-6 });
    data = inputs(1);
  });
  afterAll(() => {
    contraction.dispose();
    tf.dispose([data.x, data.labels]);
  });

  it('unrolled BPTT equals finite differences of the defender forward pass', () => {
    const g = attackerGradient(contraction, data.x, data.labels, { kind: 'unrolled' });
    expectClose(g, finiteDifferences((x) => forwardLoss(contraction, x, data.labels, 'final'), data.x, coords));
  });

  it('implicit differentiation at the converged fixed point agrees with BPTT (cosine > 0.999)', () => {
    const a = attackerGradient(contraction, data.x, data.labels, { kind: 'unrolled' });
    const b = attackerGradient(contraction, data.x, data.labels, { kind: 'implicit' });
    let dot = 0;
    let na = 0;
    let nb = 0;
    a.forEach((v, i) => {
      dot += v * b[i]!;
      na += v * v;
      nb += b[i]! * b[i]!;
    });
    expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.999);
  });

  for (const weighting of ['uniform', 'linear'] as StepWeighting[]) {
    it(`a ${weighting} loss on intermediate states Σ w_t CE(z_t) is differentiated exactly`, () => {
      const short = tinyHopfield({ cueCurrent: 0.5, gain: 0.7, maxSteps: 12 });
      const g = attackerGradient(short, data.x, data.labels, { kind: 'unrolled' }, weighting);
      expectClose(g, finiteDifferences((x) => forwardLoss(short, x, data.labels, weighting), data.x, coords));
      short.dispose();
    });
  }

  it('asks for the unrolled mode when intermediate states are weighted', () => {
    expect(() => attackModel(contraction, { gradient: { kind: 'implicit' }, stepWeighting: 'uniform' })).toThrow(/needs the unrolled gradient/);
  });

  it('an input that only sets the initial state gives an implicit gradient of exactly 0: the masking the evaluation must catch', () => {
    const memory = tinyHopfield({ cueCurrent: 0, gain: 4, maxSteps: 300, tolerance: 1e-6 });
    const implicit = attackerGradient(memory, data.x, data.labels, { kind: 'implicit' });
    expect(Math.max(...Array.from(implicit, Math.abs))).toBe(0);
    // The unrolled gradient is not zero, and matches finite differences of the real forward pass.
    const unrolled = attackerGradient(memory, data.x, data.labels, { kind: 'unrolled' });
    expect(Math.max(...Array.from(unrolled, Math.abs))).toBeGreaterThan(0);
    memory.dispose();
  });
});

describe('attacks on a relaxation', () => {
  it('every attack stays inside the threat model and leaves no tensor behind over long runs', () => {
    const classifier = tinyHopfield({ cueCurrent: 0.5, gain: 2, maxSteps: 20 });
    const { x, labels } = inputs(2, 6);
    const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
    const attacks = [fgsm(), pgd({ steps: 100, restarts: 2 }), apgd({ loss: 'ce', steps: 50 }), apgd({ loss: 'dlr', steps: 50 }), square({ queries: 200 }), spsa({ iterations: 10, samples: 8 })];
    for (const norm of ['linf', 'l2'] as const) {
      const threat = { norm, epsilon: norm === 'linf' ? 0.1 : 0.5, bounds: [0, 1] as const };
      for (const attack of attacks) {
        if (attack.name === 'square' && norm === 'l2') continue;
        const before = tf.memory().numTensors;
        const result = attack.run({ model, x, labels, threat, rng: makeRng(4) });
        expect(insideThreat(result.adversarial, x, threat).every(Boolean), `${attack.name} ${norm}`).toBe(true);
        result.adversarial.dispose();
        expect(tf.memory().numTensors, `${attack.name} ${norm} leaked`).toBe(before);
      }
    }
    tf.dispose([x, labels]);
    classifier.dispose();
  }, 60_000);
});

describe('spsa in chunks', () => {
  it('sending the 2·samples·n points in chunks (maxPoints) gives the attack it gives in one call, and frees every chunk', () => {
    const classifier = tinyHopfield({ cueCurrent: 0.5, gain: 2, maxSteps: 20 });
    const { x, labels } = inputs(3, 6);
    const model = attackModel(classifier, { gradient: { kind: 'none' } });
    const threat = { norm: 'linf' as const, epsilon: 0.1, bounds: [0, 1] as const };
    const before = tf.memory().numTensors;
    const whole = spsa({ iterations: 5, samples: 8 }).run({ model, x, labels, threat, rng: makeRng(5) });
    // 2·8·3 = 48 points per step: chunks of 7 leave a remainder of 6.
    const chunked = spsa({ iterations: 5, samples: 8, maxPoints: 7 }).run({ model, x, labels, threat, rng: makeRng(5) });
    const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(whole.adversarial, chunked.adversarial))).dataSync()[0]!);
    expect(gap).toBeLessThan(1e-5);
    expect(Array.from(chunked.fooled)).toEqual(Array.from(whole.fooled));
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(whole.adversarial, x))).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([whole.adversarial, chunked.adversarial]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => spsa({ maxPoints: 0 })).toThrow(/maxPoints/);
    tf.dispose([x, labels]);
    classifier.dispose();
  }, 60_000);
});

/** logits = (x + σ n) W with fresh Gaussian noise n per forward pass. */
function noisyLinear(w: tf.Tensor2D, sigma: number): DynamicsClassifier {
  let draws = makeRng(99);
  return {
    name: 'noisy linear',
    family: 'test',
    classes: w.shape[1],
    inputShape: [w.shape[0]],
    imageShape: [1, w.shape[0], 1],
    bounds: [0, 1],
    stochastic: true,
    hasEnergy: false,
    run(x: tf.Tensor, request = {}) {
      const rng: Rng = request.rng ?? (draws = draws.split('next'));
      const logits = tf.tidy(() => tf.matMul(tf.add(x, tf.mul(randomNormal(rng, x.shape), sigma)), w)) as tf.Tensor2D;
      return { logits, steps: 0, stopped: 'feed-forward', dispose: () => logits.dispose() };
    },
    dispose: () => w.dispose(),
  };
}

describe('EOT, transfer and minimal perturbations', () => {
  it('EOT averages the gradient over draws: it approaches the gradient of the expected loss', () => {
    const w = randomNormal(makeRng(5), [8, 3]) as tf.Tensor2D;
    const classifier = noisyLinear(w, 1);
    const x = tf.fill([1, 8], 0.5);
    const labels = tf.tensor1d([0], 'int32');
    const base = attackModel(classifier, { gradient: { kind: 'unrolled' } });
    const grad = (samples: number, seed: number) => {
      const m = samples === 1 ? base : expectationOverTransformation(base, samples, makeRng(seed));
      const out = m.gradient(x, labels, 'ce', makeRng(seed));
      const g = Array.from(out.gradient.dataSync());
      tf.dispose([out.gradient, out.logits]);
      return g;
    };
    const reference = grad(4000, 1);
    const distance = (g: number[]) => Math.sqrt(g.reduce((s, v, i) => s + (v - reference[i]!) ** 2, 0));
    const single = [2, 3, 4, 5, 6].map((seed) => distance(grad(1, seed)));
    const averaged = [2, 3, 4, 5, 6].map((seed) => distance(grad(100, seed)));
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    // Averaging 100 draws cuts the error about tenfold (√100); demand at least 3×.
    expect(mean(averaged)).toBeLessThan(mean(single) / 3);
    tf.dispose([x, labels]);
    classifier.dispose();
  });

  it('minimal perturbation: bisection with PGD finds the analytic minimum for a linear model', () => {
    // z = x W + b with bounds far away: the smallest L2 change of class is min_j (z_y − z_j)/‖w_y − w_j‖₂,
    // and the smallest L∞ change min_j (z_y − z_j)/‖w_y − w_j‖₁.
    const rng = makeRng(6);
    const w = randomNormal(rng, [10, 4]) as tf.Tensor2D;
    const b = tf.zeros([4]) as tf.Tensor1D;
    const classifier = feedForwardClassifier({ layers: [{ weights: w, bias: b }], imageShape: [1, 10, 1], bounds: [-100, 100] });
    const x = randomNormal(rng, [5, 10]) as tf.Tensor2D;
    const labels = tf.tidy(() => tf.argMax(tf.matMul(x, w), 1)) as tf.Tensor1D;
    const z = tf.matMul(x, w).arraySync() as number[][];
    const W = w.arraySync() as number[][];
    const y = Array.from(labels.dataSync());
    for (const norm of ['l2', 'linf'] as const) {
      const analytic = z.map((row, i) => {
        let best = Number.POSITIVE_INFINITY;
        for (let j = 0; j < 4; j++) {
          if (j === y[i]) continue;
          const diff = W.map((r) => r[y[i]!]! - r[j]!);
          const size = norm === 'l2' ? Math.sqrt(diff.reduce((s, v) => s + v * v, 0)) : diff.reduce((s, v) => s + Math.abs(v), 0);
          best = Math.min(best, (row[y[i]!]! - row[j]!) / size);
        }
        return best;
      });
      const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
      const found = minimalPerturbation({ model, attack: pgd({ steps: 50, loss: 'margin', randomStart: false }), x, labels, norm, maxEpsilon: 10, bisections: 14, rng: makeRng(1) });
      found.forEach((v, i) => {
        expect(v).toBeGreaterThanOrEqual(analytic[i]! * 0.999);
        expect(v).toBeLessThan(analytic[i]! * 1.03 + 1e-3);
      });
    }
    tf.dispose([x, labels]);
    classifier.dispose();
  });

  it('a transfer attack crafts on the source and is judged on the target', () => {
    const rng = makeRng(8);
    const make = (seed: number) => feedForwardClassifier({ layers: [{ weights: randomNormal(rng.split(`w${seed}`), [10, 3]) as tf.Tensor2D, bias: tf.zeros([3]) as tf.Tensor1D }], imageShape: [1, 10, 1] });
    const target = make(1);
    const source = make(2);
    const x = tf.fill([8, 10], 0.5);
    const labels = tf.tidy(() => tf.argMax(target.run(x).logits, 1)) as tf.Tensor1D;
    const threat = { norm: 'linf' as const, epsilon: 0.5, bounds: [0, 1] as const };
    const targetModel = attackModel(target, { gradient: { kind: 'unrolled' } });
    const sourceModel = attackModel(source, { gradient: { kind: 'unrolled' } });
    // From the target itself, transfer is the white-box attack.
    const self = transfer(targetModel, pgd({ steps: 10 })).run({ model: targetModel, x, labels, threat, rng: makeRng(1) });
    const white = pgd({ steps: 10 }).run({ model: targetModel, x, labels, threat, rng: makeRng(1) });
    expect(Array.from(self.fooled)).toEqual(Array.from(white.fooled));
    const other = transfer(sourceModel, pgd({ steps: 10 })).run({ model: targetModel, x, labels, threat, rng: makeRng(1) });
    const logits = targetModel.logits(other.adversarial);
    const truth = Array.from(tf.tidy(() => tf.notEqual(tf.argMax(logits, 1), labels)).dataSync());
    expect(Array.from(other.fooled)).toEqual(truth);
    tf.dispose([self.adversarial, white.adversarial, other.adversarial, logits, x, labels]);
    target.dispose();
    source.dispose();
  });
});
