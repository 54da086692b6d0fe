/**
 * Attractor diagnostics for attacked examples (reference/attacks-and-corruptions.md, protocol §3; Athalye,
 * Carlini & Wagner 2018 on vanishing/exploding gradients through iterated computation; Yang, Pang & Liu
 * 2022 on misaligned forward and backward passes of equilibrium models):
 *
 * - the energy and the readout's accuracy at every relaxation step, on the clean and on the adversarial
 *   input (does the attack move the state into another basin, or stop it converging?);
 * - steps taken and the relative fixed-point residual ‖F(s) − s‖/‖s‖ at the end (the implicit gradient is
 *   only valid where this is small);
 * - the norm of the input gradient ‖∂CE(z_T)/∂x‖ when the attacker unrolls T = 1, 2, 4, … steps (≈ 0 or
 *   NaN: vanishing or exploding gradients, a sign of masking);
 * - the cosine between the BPTT and the implicit gradient on the defender's own relaxation (≈ 1 only at a
 *   true fixed point whose location depends on x).
 */
import * as tf from '@tensorflow/tfjs-core';
import { attackModel } from './attack-model.js';
import type { DynamicsClassifier } from './classifier.js';
import { misclassified } from './losses.js';
import { perExampleNorm } from './threat-model.js';

export interface TrajectorySummary {
  readonly steps: readonly number[];
  /** Mean energy over the examples at each recorded step (absent without an energy). */
  readonly energy?: readonly number[];
  /** Fraction of examples the readout classifies correctly at each recorded step. */
  readonly accuracy: readonly number[];
  readonly stepsTaken: number;
  readonly stopped: string;
  /** Median and largest relative fixed-point residual over the examples. */
  readonly residualMedian: number;
  readonly residualMax: number;
}

function medianOf(values: ArrayLike<number>): number {
  const s = Array.from(values).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Energy, per-step accuracy, steps and residual of the defender's relaxation on a batch. */
export function trajectory(classifier: DynamicsClassifier, x: tf.Tensor, labels: tf.Tensor1D): TrajectorySummary {
  const run = classifier.run(x, { stepLogits: true, energy: classifier.hasEnergy, residual: true });
  try {
    const records = run.stepLogits!.steps.length;
    const accuracy = Array.from({ length: records }, (_, i) => {
      const logits = tf.tidy(() => tf.gather(run.stepLogits!.values, i) as tf.Tensor as tf.Tensor2D);
      const wrong = misclassified(logits, labels);
      logits.dispose();
      return 1 - wrong.reduce((s, v) => s + v, 0) / wrong.length;
    });
    let energy: number[] | undefined;
    if (run.energy) {
      const mean = tf.mean(run.energy.values, 1);
      energy = Array.from(mean.dataSync());
      mean.dispose();
    }
    const residual = run.residual ?? new Float32Array(0);
    return {
      steps: run.stepLogits!.steps,
      ...(energy ? { energy } : {}),
      accuracy,
      stepsTaken: run.steps,
      stopped: run.stopped,
      residualMedian: medianOf(residual),
      residualMax: residual.length ? Math.max(...residual) : Number.NaN,
    };
  } finally {
    run.dispose();
  }
}

export interface GradientNormAtHorizon {
  readonly steps: number;
  readonly median: number;
  /** Fraction of examples whose gradient is exactly 0, and that are NaN/Inf. */
  readonly zero: number;
  readonly nonFinite: number;
}

/** ‖∂CE(z_T)/∂x‖₂ per example when the attacker unrolls T steps, for each T in `horizons`. */
export function gradientNormByHorizon(classifier: DynamicsClassifier, x: tf.Tensor, labels: tf.Tensor1D, horizons: readonly number[]): GradientNormAtHorizon[] {
  return horizons.map((steps) => {
    const model = attackModel(classifier, { gradient: { kind: 'unrolled' }, relaxation: { maxSteps: steps } });
    const { gradient, logits } = model.gradient(x, labels, 'ce');
    const norms = perExampleNorm(gradient, 'l2');
    const values = Array.from(norms.dataSync());
    tf.dispose([gradient, logits, norms]);
    const finite = values.filter(Number.isFinite);
    return { steps, median: medianOf(finite), zero: values.filter((v) => v === 0).length / values.length, nonFinite: (values.length - finite.length) / values.length };
  });
}

/** Per-example cosine between the unrolled (BPTT) and implicit input gradients of the CE loss. */
export function bpttImplicitCosine(classifier: DynamicsClassifier, x: tf.Tensor, labels: tf.Tensor1D): Float32Array {
  const grad = (kind: 'unrolled' | 'implicit') => {
    const { gradient, logits } = attackModel(classifier, { gradient: { kind } }).gradient(x, labels, 'ce');
    logits.dispose();
    return gradient;
  };
  const a = grad('unrolled');
  const b = grad('implicit');
  const cosine = tf.tidy(() => {
    const fa = tf.reshape(a, [a.shape[0]!, -1]);
    const fb = tf.reshape(b, [b.shape[0]!, -1]);
    const dot = tf.sum(tf.mul(fa, fb), 1);
    return tf.div(dot, tf.maximum(tf.mul(perExampleNorm(fa, 'l2'), perExampleNorm(fb, 'l2')), 1e-30));
  });
  const out = cosine.dataSync() as Float32Array;
  tf.dispose([a, b, cosine]);
  return out;
}

export { medianOf };
