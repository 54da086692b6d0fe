/** Threat models, losses and schedules against hand-computed values. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { apgdCheckpoints } from '../../src/attacks/apgd.js';
import { wilsonInterval } from '../../src/base/statistics.js';
import { attackLoss, misclassified } from '../../src/attacks/losses.js';
import { median } from '../../src/attacks/minimal-perturbation.js';
import { squareFraction } from '../../src/attacks/square.js';
import { checkEpsilonRange, insideThreat, perExampleNorm, project, randomStart, steepestAscent, type ThreatModel } from '../../src/attacks/threat-model.js';
import { useBackend } from '../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const close = (actual: ArrayLike<number>, expected: number[], digits = 5) => expected.forEach((v, i) => expect(actual[i]!).toBeCloseTo(v, digits));

describe('threat models', () => {
  it('L∞ projection clips δ to [−ε, ε] and then to the bounds', () => {
    const x = tf.tensor2d([[0.5, 0.95, 0.02]]);
    const candidate = tf.tensor2d([[0.9, 1.2, -0.5]]);
    const p = project(candidate, x, { norm: 'linf', epsilon: 0.1, bounds: [0, 1] });
    close(p.dataSync(), [0.6, 1, 0]);
    tf.dispose([x, candidate, p]);
  });

  it('L2 projection scales δ onto the ball, per example radii included', () => {
    const x = tf.tensor2d([[0.5, 0.5], [0.5, 0.5]]);
    // δ = (0.3, 0.4), ‖δ‖ = 0.5; radius 0.25 halves it; radius 1 leaves it.
    const candidate = tf.tensor2d([[0.8, 0.9], [0.8, 0.9]]);
    const p = project(candidate, x, { norm: 'l2', epsilon: [0.25, 1], bounds: [0, 1] });
    close(p.dataSync(), [0.65, 0.7, 0.8, 0.9]);
    tf.dispose([x, candidate, p]);
  });

  it('steepest ascent is sign(g) for L∞ and g/‖g‖ for L2; random starts lie inside', () => {
    const g = tf.tensor2d([[3, -4, 0]]);
    close(steepestAscent(g, 'linf').dataSync(), [1, -1, 0]);
    close(steepestAscent(g, 'l2').dataSync(), [0.6, -0.8, 0]);
    const x = tf.fill([20, 50], 0.5);
    for (const threat of [{ norm: 'linf', epsilon: 0.3, bounds: [0, 1] }, { norm: 'l2', epsilon: 2, bounds: [0, 1] }] as ThreatModel[]) {
      const start = randomStart(x, threat, makeRng(3));
      expect(insideThreat(start, x, threat).every(Boolean)).toBe(true);
      const norms = perExampleNorm(tf.sub(start, x), threat.norm).dataSync();
      // Not the centre: uniform in the box / ball puts most points far from it.
      expect(Math.min(...norms)).toBeGreaterThan(0.5 * (threat.epsilon as number));
      start.dispose();
    }
    tf.dispose([g, x]);
  });

  it('ε must lie strictly inside the input box: (0, hi − lo) under L∞, (0, (hi − lo)·√d) under L2', () => {
    expect(() => checkEpsilonRange([0.05, 0.3, 0.999], 'linf', [0, 1], 784)).not.toThrow();
    expect(() => checkEpsilonRange([0.1, -0.2], 'linf', [0, 1], 784)).toThrow(/--eps: ε = -0.2 is outside the input range; allowed under linf: 0 < ε < 1/);
    expect(() => checkEpsilonRange([1], 'linf', [0, 1], 784)).toThrow(/ε = 1 is outside/);
    expect(() => checkEpsilonRange([1.5], 'linf', [-1, 1], 4)).not.toThrow();
    // The L2 diameter of [0, 1]^d is √d: 3 for 9 values.
    expect(() => checkEpsilonRange([2.99], 'l2', [0, 1], 9)).not.toThrow();
    expect(() => checkEpsilonRange([3], 'l2', [0, 1], 9, 'eps')).toThrow(/eps: ε = 3 is outside the input range; allowed under l2: 0 < ε < 3 /);
    expect(() => checkEpsilonRange([Number.NaN], 'l2', [0, 1], 9)).toThrow(/ε = NaN/);
  });

  it('insideThreat flags points outside the ball or the bounds', () => {
    const x = tf.tensor2d([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]);
    const a = tf.tensor2d([[0.6, 0.4], [0.62, 0.5], [0.45, 1.01]]);
    expect(insideThreat(a, x, { norm: 'linf', epsilon: 0.1, bounds: [0, 1] })).toEqual([true, false, false]);
    tf.dispose([x, a]);
  });
});

describe('losses', () => {
  let logits: tf.Tensor2D;
  let labels: tf.Tensor1D;
  beforeAll(() => {
    logits = tf.tensor2d([
      [2, 1, 0, -1],
      [0.5, 3, 1, 0],
    ]);
    labels = tf.tensor1d([0, 0], 'int32');
  });

  it('cross-entropy, margin and DLR by hand', () => {
    const lse = (z: number[]) => Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    close(attackLoss('ce', logits, labels).dataSync(), [lse([2, 1, 0, -1]) - 2, lse([0.5, 3, 1, 0]) - 0.5]);
    close(attackLoss('margin', logits, labels).dataSync(), [1 - 2, 3 - 0.5]);
    // DLR = −(z_y − max_{i≠y} z_i)/(z_π1 − z_π3): (2−1)/(2−0) → −0.5; (0.5−3)/(3−0.5) → 1.
    close(attackLoss('dlr', logits, labels).dataSync(), [-0.5, 1]);
    expect(Array.from(misclassified(logits, labels))).toEqual([0, 1]);
  });

  it('DLR does not change when the logits are shifted and rescaled; its gradient exists', () => {
    const scaled = tf.add(tf.mul(logits, 7), 3) as tf.Tensor2D;
    close(attackLoss('dlr', scaled, labels).dataSync(), Array.from(attackLoss('dlr', logits, labels).dataSync()));
    const g = tf.grad((z: tf.Tensor) => tf.sum(attackLoss('dlr', z as tf.Tensor2D, labels)))(logits);
    // Row 0: f = −(z0 − z1)/(z0 − z2), so ∂f/∂z = (−(z1 − z2), z0 − z2, −(z0 − z1), 0)/(z0 − z2)² = (−¼, ½, −¼, 0).
    // Row 1 (sorted 3, 1, 0.5, 0, so π3 is the true class): f = −(z0 − z1)/(z1 − z0) = 1 everywhere nearby.
    close(g.dataSync(), [-0.25, 0.5, -0.25, 0, 0, 0, 0, 0]);
    tf.dispose([scaled, g]);
  });
});

describe('schedules', () => {
  it("APGD's checkpoints for 100 iterations are those of the paper: 0, 22, 41, 57, 70, 80, 87, 93, 99", () => {
    expect(apgdCheckpoints(100)).toEqual([0, 22, 41, 57, 70, 80, 87, 93, 99]);
  });

  it("Square's window fraction halves on AutoAttack's schedule, rescaled to the budget", () => {
    expect(squareFraction(0.8, 5, 10000)).toBe(0.8);
    expect(squareFraction(0.8, 11, 10000)).toBe(0.4);
    expect(squareFraction(0.8, 300, 10000)).toBe(0.1);
    expect(squareFraction(0.8, 9000, 10000)).toBeCloseTo(0.8 / 512);
    // 5,000 queries: query 100 is query 200 of 10,000.
    expect(squareFraction(0.8, 100, 5000)).toBe(0.2);
  });

  it('Wilson interval and the median with ∞', () => {
    const [lo, hi] = wilsonInterval(50, 100);
    expect(lo).toBeCloseTo(0.4038, 3);
    expect(hi).toBeCloseTo(0.5962, 3);
    expect(median([3, Number.POSITIVE_INFINITY, 1])).toBe(3);
    expect(median([1, 2, 3, 4])).toBe(2.5);
  });
});

describe('gradient-masking signs', () => {
  it('flag a gradient-free attack that beats the white-box ones, a one-step attack that beats iterative ones, no fall to 0, and a vanishing gradient', async () => {
    const { gradientMaskingSigns } = await import('../../src/attacks/protocol.js');
    const attack = (name: string, access: 'white-box' | 'gradient-free') => ({ name, access, run: () => { throw new Error('not run'); } });
    const attacks = [attack('fgsm', 'white-box'), attack('pgd', 'white-box'), attack('square', 'gradient-free')];
    const outcome = (accuracy: number) => ({ accuracy, newlyBroken: 0, seconds: 0 });
    const report = {
      examples: 100,
      cleanCorrect: new Uint8Array(100),
      cleanAccuracy: 0.9,
      perEpsilon: [
        { epsilon: 0.1, robust: new Uint8Array(100), robustAccuracy: 0.2, interval: [0, 1] as const, brokenBy: {}, attacks: { fgsm: outcome(0.3), pgd: outcome(0.5), square: outcome(0.2) } },
      ],
    };
    const horizon = [{ steps: 20, median: 0, zero: 1, nonFinite: 0 }];
    const warnings = gradientMaskingSigns(report, attacks, { gradientNormByHorizon: horizon } as never);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/square \(gradient-free\) leaves 20.0% against 30.0%/);
    expect(warnings[1]).toMatch(/one-step FGSM \(30.0%\) beats the iterative attacks \(50.0%\)/);
    expect(warnings[2]).toMatch(/does not reach about 0/);
    expect(warnings[3]).toMatch(/vanishes or explodes/);
    const clean = { ...report, perEpsilon: [{ ...report.perEpsilon[0]!, robustAccuracy: 0, attacks: { fgsm: outcome(0.1), pgd: outcome(0), square: outcome(0) } }] };
    expect(gradientMaskingSigns(clean, attacks)).toEqual([]);
  });
});
