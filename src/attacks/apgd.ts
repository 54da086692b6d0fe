/**
 * Auto-PGD (Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse
 * parameter-free attacks", ICML 2020, Algorithm 1), with the cross-entropy loss (APGD-CE) or the DLR loss
 * (APGD-DLR), as in AutoAttack.
 *
 * From x⁽⁰⁾ (a random point of S), with step size η⁽⁰⁾ = 2ε and momentum α = 0.75:
 *
 *   x⁽¹⁾ = P_S(x⁽⁰⁾ + η ∇f(x⁽⁰⁾))
 *   z⁽ᵏ⁺¹⁾ = P_S(x⁽ᵏ⁾ + η⁽ᵏ⁾ ∇f(x⁽ᵏ⁾))                          (∇ replaced by sign(∇) for L∞, ∇/‖∇‖₂ for L2)
 *   x⁽ᵏ⁺¹⁾ = P_S(x⁽ᵏ⁾ + α (z⁽ᵏ⁺¹⁾ − x⁽ᵏ⁾) + (1 − α)(x⁽ᵏ⁾ − x⁽ᵏ⁻¹⁾))
 *
 * keeping x_max, the point of highest loss f_max. At the checkpoints w_j = ⌈p_j N⌉ with p₀ = 0, p₁ = 0.22,
 * p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), the step size is halved and the iterate restarts from
 * x_max (with its gradient, and no momentum) for every example where
 *   1. the loss increased in at most ρ = 75% of the steps since the last checkpoint, or
 *   2. the step was not halved at the last checkpoint and f_max has not risen since then.
 * As in AutoAttack's code (autopgd_base.py), condition 1 counts with ≤, and condition 2 is off at the first
 * checkpoint (there is no earlier one to compare with). After a restart from x_max the momentum term starts
 * from zero (AutoAttack keeps the step from the last iterate; the paper does not say). Everything is per
 * example. The reported point is the best iterate (first misclassified, else highest
 * loss). Examples that are misclassified leave the batch; restarts run only on the remaining ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import type { Rng } from '../base/rng.js';
import { gatherRows, judge, unflagged, type Attack, type AttackRequest, type AttackResult, type BestIterate } from './attack.js';
import type { AttackModel } from './attack-model.js';
import { attackLoss, type LossKind } from './losses.js';
import { checkPositiveInteger, offerRows, startFromClean } from './pgd.js';
import { epsilonTensor, project, randomStart, restrictThreat, steepestAscent, type ThreatModel } from './threat-model.js';

const MOMENTUM = 0.75;
const RHO = 0.75;

/** The checkpoint iterations w_j = ⌈p_j N⌉ (w₀ = 0 included). */
export function apgdCheckpoints(iterations: number): number[] {
  const p = [0, 0.22];
  for (;;) {
    const j = p.length - 1;
    const next = p[j]! + Math.max(p[j]! - p[j - 1]! - 0.03, 0.06);
    if (next > 1) break;
    p.push(next);
  }
  // The small offset keeps 0.22·100 = 22.000000000000004 from rounding up to 23.
  return [...new Set(p.map((v) => Math.ceil(v * iterations - 1e-9)))];
}

export interface ApgdOptions {
  readonly loss: LossKind;
  /** Iterations N (AutoAttack: 100). */
  readonly steps?: number;
  /** Random restarts (AutoAttack standard: 1; plus: 5). */
  readonly restarts?: number;
}

export function apgd(options: ApgdOptions): Attack {
  const steps = options.steps ?? 100;
  const restarts = options.restarts ?? 1;
  checkPositiveInteger(steps, 'apgd.steps');
  checkPositiveInteger(restarts, 'apgd.restarts');
  if (options.loss === 'margin') throw new SpecError('apgd.loss', 'APGD is defined with ce or dlr; use pgd with the margin loss');
  return {
    name: `apgd-${options.loss}`,
    access: 'white-box',
    run({ model, x, labels, threat, rng }: AttackRequest): AttackResult {
      const best = startFromClean(model, x, labels, options.loss);
      try {
        for (let r = 0; r < restarts; r++) {
          const rows = unflagged(best.fooled);
          if (rows.length === 0) break;
          runApgd(model, best, rows, x, labels, threat, options.loss, steps, rng.split(`restart-${r}`));
        }
        return { adversarial: best.points(), fooled: Uint8Array.from(best.fooled) };
      } finally {
        best.dispose();
      }
    },
  };
}

/** Per-row choice between two tensors of the same shape: rows where mask is 1 come from `a`. */
function chooseRows(mask: Uint8Array, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const m = tf.reshape(tf.tensor1d(mask, 'bool'), [mask.length, ...a.shape.slice(1).map(() => 1)]);
    return tf.where(tf.broadcastTo(m, a.shape), a, b);
  });
}

function replace(mask: Uint8Array, target: tf.Tensor, source: tf.Tensor): tf.Tensor {
  const out = chooseRows(mask, source, target);
  target.dispose();
  return out;
}

function runApgd(
  model: AttackModel,
  best: BestIterate,
  rows0: readonly number[],
  xAll: tf.Tensor,
  labelsAll: tf.Tensor1D,
  threatAll: ThreatModel,
  lossKind: LossKind,
  iterations: number,
  rng: Rng,
): void {
  const checkpoints = apgdCheckpoints(iterations);
  let rows = [...rows0];
  let n = rows.length;
  const t: Record<string, tf.Tensor> = {};
  t.x = gatherRows(xAll, rows);
  t.labels = gatherRows(labelsAll, rows);
  let threat = restrictThreat(threatAll, rows);
  t.current = randomStart(t.x, threat, rng);
  t.previous = t.current.clone();
  // Per-example state.
  let eta = new Float32Array(n).fill(2);
  let fMax = new Float32Array(n);
  let lossPrevious = new Float32Array(n);
  let increases = new Float32Array(n);
  let fMaxAtCheck = new Float32Array(n);
  let halvedAtCheck = new Uint8Array(n).fill(1);
  const evaluate = () => {
    const { gradient, logits } = model.gradient(t.current!, t.labels as tf.Tensor1D, lossKind);
    const values = attackLoss(lossKind, logits, t.labels as tf.Tensor1D);
    const verdict = judge(logits, t.labels as tf.Tensor1D, values);
    tf.dispose([logits, values]);
    offerRows(best, rows, t.current!, verdict.loss, verdict.fooled);
    return { gradient, ...verdict };
  };
  try {
    let first = evaluate();
    t.gradient = first.gradient;
    t.xMax = t.current.clone();
    t.gradientAtMax = t.gradient.clone();
    fMax = Float32Array.from(first.loss);
    lossPrevious = Float32Array.from(first.loss);
    fMaxAtCheck = Float32Array.from(first.loss);
    let fooled = first.fooled;
    let nextCheck = 1;
    let lastCheck = 0;
    for (let k = 0; k < iterations; k++) {
      // Examples already broken leave the batch.
      const keep = unflagged(fooled);
      if (keep.length === 0) break;
      if (keep.length < n) {
        for (const key of Object.keys(t)) {
          const old = t[key]!;
          t[key] = gatherRows(old, keep);
          old.dispose();
        }
        const pick = <A extends Float32Array | Uint8Array>(a: A): A => a.constructor === Uint8Array ? (Uint8Array.from(keep, (i) => a[i]!) as A) : (Float32Array.from(keep, (i) => a[i]!) as A);
        eta = pick(eta);
        fMax = pick(fMax);
        lossPrevious = pick(lossPrevious);
        increases = pick(increases);
        fMaxAtCheck = pick(fMaxAtCheck);
        halvedAtCheck = pick(halvedAtCheck);
        threat = restrictThreat(threat, keep);
        rows = keep.map((i) => rows[i]!);
        n = keep.length;
      }
      const next = tf.tidy(() => {
        const step = tf.mul(epsilonTensor(threat, t.x!.shape), tf.tensor(eta, [n, ...t.x!.shape.slice(1).map(() => 1)]));
        const z = project(tf.add(t.current!, tf.mul(steepestAscent(t.gradient!, threat.norm), step)), t.x!, threat);
        if (k === 0) return z;
        const moved = tf.add(tf.add(t.current!, tf.mul(tf.sub(z, t.current!), MOMENTUM)), tf.mul(tf.sub(t.current!, t.previous!), 1 - MOMENTUM));
        return project(moved, t.x!, threat);
      });
      t.previous!.dispose();
      t.previous = t.current!;
      t.current = next;
      t.gradient!.dispose();
      const result = evaluate();
      t.gradient = result.gradient;
      fooled = result.fooled;
      const improved = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (result.loss[i]! > lossPrevious[i]!) increases[i]! += 1;
        lossPrevious[i] = result.loss[i]!;
        if (result.loss[i]! > fMax[i]!) {
          improved[i] = 1;
          fMax[i] = result.loss[i]!;
        }
      }
      t.xMax = replace(improved, t.xMax!, t.current);
      t.gradientAtMax = replace(improved, t.gradientAtMax!, t.gradient);
      if (nextCheck < checkpoints.length && k + 1 === checkpoints[nextCheck]) {
        const height = checkpoints[nextCheck]! - lastCheck;
        const halve = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          const oscillating = increases[i]! <= RHO * height;
          const stalled = !halvedAtCheck[i] && fMaxAtCheck[i]! >= fMax[i]!;
          if (oscillating || stalled) {
            halve[i] = 1;
            eta[i]! /= 2;
          }
          halvedAtCheck[i] = halve[i]!;
          fMaxAtCheck[i] = fMax[i]!;
          increases[i] = 0;
        }
        t.current = replace(halve, t.current, t.xMax!);
        t.previous = replace(halve, t.previous, t.current);
        t.gradient = replace(halve, t.gradient, t.gradientAtMax!);
        lastCheck = checkpoints[nextCheck]!;
        nextCheck++;
      }
    }
  } finally {
    tf.dispose(Object.values(t));
  }
}
