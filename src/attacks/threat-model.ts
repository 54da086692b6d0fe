/**
 * Threat models: the set S(x) = { x' : ‖x' − x‖_p ≤ ε, lo ≤ x' ≤ hi } of inputs an attacker may present
 * for a clean input x, with p = ∞ or 2 and [lo, hi] the valid input range (pixels in [0, 1]).
 *
 * Projection onto S(x): for L∞ the box constraints intersect coordinate-wise, so clipping δ to [−ε, ε]
 * and then x + δ to [lo, hi] is the exact Euclidean projection. For L2 the projection onto the ball is
 * δ · min(1, ε/‖δ‖₂); clipping the result to [lo, hi] afterwards only shrinks every |δ_i| (x itself lies in
 * the box), so the point stays in the ball, though it is not the exact projection onto the intersection
 * (Madry et al. 2018 and AutoAttack do the same).
 *
 * ε may differ per example (the minimal-perturbation search bisects it per example): `epsilon` is then an
 * array with one value per example of the batch.
 *
 * Every function here works on a batch [batch, ...example shape] and reduces over all but the first axis.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import { normalArray, uniformArray, type Rng } from '../base/rng.js';

export type Norm = 'linf' | 'l2';
export const NORMS: readonly Norm[] = ['linf', 'l2'];

export interface ThreatModel {
  readonly norm: Norm;
  /** Radius: one number for the whole batch, or one per example. */
  readonly epsilon: number | readonly number[];
  /** Valid input range. */
  readonly bounds: readonly [number, number];
}

export function parseNorm(text: string, path = '--threat'): Norm {
  if (text === 'linf' || text === 'l2') return text;
  throw new SpecError(path, `${JSON.stringify(text)} is not a threat model; allowed: linf, l2`);
}

export function checkThreat(threat: ThreatModel, path = 'threat'): void {
  const eps = typeof threat.epsilon === 'number' ? [threat.epsilon] : threat.epsilon;
  for (const e of eps) if (!(Number.isFinite(e) && e >= 0)) throw new SpecError(`${path}.epsilon`, `must be a non-negative number, got ${e}`);
  const [lo, hi] = threat.bounds;
  if (!(hi > lo)) throw new SpecError(`${path}.bounds`, `must be [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
}

/**
 * The radii a command may ask for: 0 < ε < the diameter of the input box in the norm, (hi − lo) under L∞
 * and (hi − lo)·√d under L2 for d input values. ε = 0 is the clean accuracy (reported anyway); an ε that
 * reaches the diameter lets the attacker replace any input by any other, so "robust accuracy" there says
 * nothing about the model.
 */
export function checkEpsilonRange(epsilons: readonly number[], norm: Norm, bounds: readonly [number, number], inputSize: number, option = '--eps'): void {
  const [lo, hi] = bounds;
  const diameter = norm === 'linf' ? hi - lo : (hi - lo) * Math.sqrt(inputSize);
  const allowed =
    norm === 'linf'
      ? `allowed under linf: 0 < ε < ${diameter} (the width of the input range [${lo}, ${hi}])`
      : `allowed under l2: 0 < ε < ${+diameter.toPrecision(6)} (the input range's width ${hi - lo} × √${inputSize} input values, the diameter of the input box)`;
  for (const e of epsilons) if (!(Number.isFinite(e) && e > 0 && e < diameter)) throw new SpecError(option, `ε = ${e} is outside the input range; ${allowed}`);
}

/** The same threat for the examples at `indices` of the batch (per-example radii are gathered). */
export function restrictThreat(threat: ThreatModel, indices: ArrayLike<number>): ThreatModel {
  if (typeof threat.epsilon === 'number') return threat;
  const eps = threat.epsilon;
  return { ...threat, epsilon: Array.from(indices, (i) => eps[i]!) };
}

/** ε as a tensor broadcastable against a batch of shape `shape` ([batch, 1, ..., 1] or a scalar). */
export function epsilonTensor(threat: ThreatModel, shape: readonly number[]): tf.Tensor {
  if (typeof threat.epsilon === 'number') return tf.scalar(threat.epsilon);
  if (threat.epsilon.length !== shape[0]) throw new Error(`threat model has ${threat.epsilon.length} radii for a batch of ${shape[0]}`);
  return tf.tensor(Float32Array.from(threat.epsilon), [shape[0]!, ...shape.slice(1).map(() => 1)]);
}

function perExampleShape(x: tf.Tensor): number[] {
  return [x.shape[0]!, ...x.shape.slice(1).map(() => 1)];
}

/** Per-example norm ‖t_i‖ over all but the first axis, shape [batch]. */
export function perExampleNorm(t: tf.Tensor, norm: Norm): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(t, [t.shape[0]!, -1]);
    return (norm === 'linf' ? tf.max(tf.abs(flat), 1) : tf.sqrt(tf.sum(tf.square(flat), 1))) as tf.Tensor1D;
  });
}

/** Projection of `candidate` onto S(x) (see the module comment). */
export function project(candidate: tf.Tensor, x: tf.Tensor, threat: ThreatModel): tf.Tensor {
  return tf.tidy(() => {
    const eps = epsilonTensor(threat, x.shape);
    let delta = tf.sub(candidate, x);
    if (threat.norm === 'linf') {
      delta = tf.minimum(tf.maximum(delta, tf.neg(eps)), eps);
    } else {
      const length = tf.reshape(perExampleNorm(delta, 'l2'), perExampleShape(x));
      delta = tf.mul(delta, tf.minimum(1, tf.div(eps, tf.maximum(length, 1e-12))));
    }
    return tf.clipByValue(tf.add(x, delta), threat.bounds[0], threat.bounds[1]);
  });
}

/**
 * The steepest-ascent direction of a linear function with gradient g under the norm: sign(g) for L∞,
 * g / ‖g‖₂ for L2 (a unit step in the norm).
 */
export function steepestAscent(gradient: tf.Tensor, norm: Norm): tf.Tensor {
  return tf.tidy(() => {
    if (norm === 'linf') return tf.sign(gradient);
    const length = tf.reshape(perExampleNorm(gradient, 'l2'), perExampleShape(gradient));
    return tf.div(gradient, tf.maximum(length, 1e-12));
  });
}

/**
 * A random point of S(x): uniform in the L∞ box; for L2 a uniform direction with radius ε·u^{1/d}, which is
 * uniform in the ball. Drawn from `rng` in JavaScript, so it is the same on every backend.
 */
export function randomStart(x: tf.Tensor, threat: ThreatModel, rng: Rng): tf.Tensor {
  const n = x.size;
  const batch = x.shape[0]!;
  const d = n / Math.max(1, batch);
  return tf.tidy(() => {
    const eps = epsilonTensor(threat, x.shape);
    let delta: tf.Tensor;
    if (threat.norm === 'linf') {
      delta = tf.mul(tf.tensor(uniformArray(rng, n, -1, 1), x.shape), eps);
    } else {
      const direction = steepestAscent(tf.tensor(normalArray(rng, n), x.shape), 'l2');
      const radius = Float32Array.from({ length: batch }, () => rng.uniform() ** (1 / d));
      delta = tf.mul(tf.mul(direction, tf.tensor(radius, perExampleShape(x))), eps);
    }
    return tf.clipByValue(tf.add(x, delta), threat.bounds[0], threat.bounds[1]);
  });
}

/**
 * For each example, whether `adversarial` lies in S(x) up to a float tolerance (relative 1e-5 of ε plus
 * 1e-6): the check every attack's output must pass.
 */
export function insideThreat(adversarial: tf.Tensor, x: tf.Tensor, threat: ThreatModel, tolerance = 1e-6): boolean[] {
  const [norms, low, high] = tf.tidy(() => {
    const delta = tf.sub(adversarial, x);
    const flat = tf.reshape(adversarial, [x.shape[0]!, -1]);
    return [perExampleNorm(delta, threat.norm).dataSync(), tf.min(flat, 1).dataSync(), tf.max(flat, 1).dataSync()];
  });
  const [lo, hi] = threat.bounds;
  return Array.from(norms, (norm, i) => {
    const eps = typeof threat.epsilon === 'number' ? threat.epsilon : threat.epsilon[i]!;
    return norm <= eps * (1 + 1e-5) + tolerance && low[i]! >= lo - tolerance && high[i]! <= hi + tolerance;
  });
}
