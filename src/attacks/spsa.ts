/**
 * SPSA (Uesato, O'Donoghue, van den Oord & Kohli, "Adversarial risk and the dangers of evaluating against
 * weak attacks", ICML 2018): a gradient-free attack that estimates the gradient of the margin loss by
 * simultaneous perturbation, g ≈ (1/n) Σ_k [L(x + δ v_k) − L(x − δ v_k)] / (2δ) · v_k with Rademacher
 * v_k ∈ {−1, +1}^d, and ascends it with Adam (learning rate 0.01 in the paper, δ = 0.01), projecting onto
 * the threat model after every step. It queries 2n points per step and example and never differentiates
 * the model, so it sees through masked gradients but is noisy; the best iterate is reported.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import { judge, type Attack, type AttackRequest, type AttackResult } from './attack.js';
import { attackLoss } from './losses.js';
import { checkPositiveInteger, startFromClean } from './pgd.js';
import { project } from './threat-model.js';

export interface SpsaOptions {
  readonly iterations?: number;
  /** Perturbation pairs per step and example. */
  readonly samples?: number;
  readonly delta?: number;
  readonly learningRate?: number;
  /**
   * Most points sent to the model in one call (default 512). A step queries 2·samples points per example,
   * 6,400 for a batch of 100 at the default 32 samples: through a recurrent net's cycles that batch can
   * exceed the wasm heap, so the points go through in chunks. The estimate does not depend on the chunking.
   */
  readonly maxPoints?: number;
}

export function spsa(options: SpsaOptions = {}): Attack {
  const iterations = options.iterations ?? 50;
  const samples = options.samples ?? 32;
  const delta = options.delta ?? 0.01;
  const lr = options.learningRate ?? 0.01;
  const maxPoints = options.maxPoints ?? 512;
  checkPositiveInteger(iterations, 'spsa.iterations');
  checkPositiveInteger(samples, 'spsa.samples');
  checkPositiveInteger(maxPoints, 'spsa.maxPoints');
  if (!(delta > 0 && lr > 0)) throw new SpecError('spsa', `delta and learningRate must be positive, got ${delta} and ${lr}`);
  return {
    name: 'spsa',
    access: 'gradient-free',
    run({ model, x, labels, threat, rng }: AttackRequest): AttackResult {
      const best = startFromClean(model, x, labels, 'margin');
      const n = x.shape[0]!;
      const d = x.size / n;
      let current = x.clone();
      let m = tf.zerosLike(x);
      let v = tf.zerosLike(x);
      const b1 = 0.9;
      const b2 = 0.999;
      try {
        for (let t = 1; t <= iterations; t++) {
          if (best.fooled.every((f) => f === 1)) break;
          const signs = new Float32Array(samples * n * d);
          for (let i = 0; i < signs.length; i++) signs[i] = rng.uniform() < 0.5 ? -1 : 1;
          const estimate = tf.tidy(() => {
            // [samples, n, ...] perturbations, evaluated as one batch of 2·samples·n points.
            const vk = tf.tensor(signs, [samples, ...x.shape]);
            const plus = tf.add(tf.expandDims(current, 0), tf.mul(vk, delta));
            const minus = tf.sub(tf.expandDims(current, 0), tf.mul(vk, delta));
            const points = tf.reshape(tf.concat([plus, minus], 0), [2 * samples * n, ...x.shape.slice(1)]);
            const tiledLabels = tf.tile(labels, [2 * samples]) as tf.Tensor1D;
            const total = 2 * samples * n;
            const chunks: tf.Tensor[] = [];
            for (let start = 0; start < total; start += maxPoints) {
              const count = Math.min(maxPoints, total - start);
              const logits = model.logits(tf.slice(points, [start, ...x.shape.slice(1).map(() => 0)], [count, ...x.shape.slice(1)]));
              chunks.push(attackLoss('margin', logits, tf.slice(tiledLabels, [start], [count])));
            }
            const loss = tf.reshape(chunks.length === 1 ? chunks[0]! : tf.concat(chunks, 0), [2, samples, n]);
            const difference = tf.div(tf.sub(tf.gather(loss, 0), tf.gather(loss, 1)), 2 * delta);
            const shaped = tf.reshape(difference, [samples, n, ...x.shape.slice(1).map(() => 1)]);
            return tf.mean(tf.mul(shaped, vk), 0);
          });
          const next = tf.tidy(() => {
            const m1 = tf.add(tf.mul(m, b1), tf.mul(estimate, 1 - b1));
            const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(estimate), 1 - b2));
            const step = tf.div(tf.div(m1, 1 - b1 ** t), tf.add(tf.sqrt(tf.div(v1, 1 - b2 ** t)), 1e-8));
            return { m1, v1, x1: project(tf.add(current, tf.mul(step, lr)), x, threat) };
          });
          tf.dispose([estimate, m, v, current]);
          m = next.m1;
          v = next.v1;
          current = next.x1;
          const logits = model.logits(current);
          const values = attackLoss('margin', logits, labels);
          const verdict = judge(logits, labels, values);
          tf.dispose([logits, values]);
          best.offer(current, verdict.loss, verdict.fooled);
        }
        return { adversarial: best.points(), fooled: Uint8Array.from(best.fooled) };
      } finally {
        tf.dispose([current, m, v]);
        best.dispose();
      }
    },
  };
}
