/**
 * Expectation over transformation (Athalye, Engstrom, Ilyas & Kwok, ICML 2018; Athalye, Carlini & Wagner
 * 2018 against stochastic defenses): when the forward pass is random (noise in the dynamics), attack the
 * expected loss, whose gradient is estimated by averaging the gradients of `samples` independent forward
 * passes, ∇ E_r[L(f(x; r))] ≈ (1/K) Σ_k ∇L(f(x; r_k)). The defender's logits are averaged the same way.
 * AutoAttack's `rand` version uses K = 20. Each draw gets its own Rng stream, so a run is reproducible.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import type { Rng } from '../base/rng.js';
import type { AttackModel } from './attack-model.js';

export function expectationOverTransformation(model: AttackModel, samples: number, rng: Rng): AttackModel {
  if (!(Number.isInteger(samples) && samples >= 1)) throw new SpecError('--eot', `must be a positive integer, got ${samples}`);
  let calls = 0;
  const streams = () => {
    const call = calls++;
    return Array.from({ length: samples }, (_, k) => rng.split(`eot-${call}-${k}`));
  };
  return {
    ...model,
    description: `${model.description}, EOT over ${samples} draws`,
    logits(x) {
      const draws = streams().map((r) => model.logits(x, r));
      const mean = tf.tidy(() => tf.div(tf.addN(draws), samples)) as tf.Tensor2D;
      tf.dispose(draws);
      return mean;
    },
    gradient(x, labels, loss) {
      const draws = streams().map((r: Rng) => model.gradient(x, labels, loss, r));
      const out = tf.tidy(() => ({
        gradient: tf.div(tf.addN(draws.map((g) => g.gradient)), samples),
        logits: tf.div(tf.addN(draws.map((g) => g.logits)), samples) as tf.Tensor2D,
      }));
      tf.dispose(draws.flatMap((g) => [g.gradient, g.logits]));
      return out;
    },
  };
}
