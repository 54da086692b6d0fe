/**
 * The CNN-F training loss (official train.py `train_adv`) and the adversarial examples it trains on, as a
 * learning rule for the shared trainer. With C cycles, logits z_0 … z_C of every pass (z_0 the first pass),
 * reconstructions r_1 … r_C at `ind`, and h₀ the clean first-pass features at `ind`:
 *
 *   clean only:        L = Σ_{i=0..C} CE(z_i) / (C+1)  +  mseWeight · (1/C) Σ_{i=1..C} MSE(r_i, h₀)
 *   with adversarial:  L = Σ_{i=0..C} [cleanWeight · CE(z_i^clean) + CE(z_i^adv)] / (2(C+1))
 *                          +  mseWeight · (1/C) Σ_{i=1..C} MSE(r_i^adv, h₀^clean)
 *
 * The official Fashion-MNIST code adds the same MSE at two more blocks (mse_p/(3C) each); here only the
 * reconstruction at `ind`, the one the dynamics feeds back, is penalised. Gradients go through the whole
 * unrolled loop (simulate's `unrolled` mode), to every parameter by both its forward and its feedback use.
 * With C = 0 (the CNN baseline) the loss is the plain cross-entropy.
 *
 * Adversarial examples: L∞ PGD (Madry et al. 2018) with a uniform random start, `steps` steps of size
 * `stepSize` on the cross-entropy, in [0, 1]. Surface 'first' attacks the first pass, as the paper trains;
 * 'e2e' attacks the scored output of the whole loop (the option the paper lacks).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../base/rng.js';
import { randomUniform } from '../../base/rng.js';
import type { ParamMap } from '../../learning/optimizers.js';
import type { Batch, LearningRule, RuleOutput } from '../../learning/rule.js';
import type { AttackSurface } from './classifier.js';
import { runCycles } from './run-cycles.js';
import type { CnnfParams, CnnfSystem } from './system.js';

export interface AdversarialTraining {
  readonly surface: AttackSurface;
  readonly epsilon: number;
  readonly steps: number;
  readonly stepSize: number;
}

export interface CnnfLossOptions {
  readonly system: CnnfSystem;
  readonly cycles: number;
  readonly mseWeight: number;
  readonly cleanWeight: number;
  readonly adversarial?: AdversarialTraining;
}

function crossEntropyOfPasses(passes: tf.Tensor3D, labels: tf.Tensor1D): tf.Scalar {
  const [p, b, k] = passes.shape;
  const flat = tf.reshape(passes, [p * b, k]) as tf.Tensor2D;
  const targets = tf.tile(tf.oneHot(tf.cast(labels, 'int32'), k), [p, 1]);
  return tf.losses.softmaxCrossEntropy(targets, flat) as tf.Scalar;
}

/** L∞ PGD on the cross-entropy of the chosen surface; the parameters are constants. */
export function pgdExamples(system: CnnfSystem, params: CnnfParams, x: tf.Tensor, labels: tf.Tensor1D, cycles: number, attack: AdversarialTraining, rng: Rng): tf.Tensor {
  const { epsilon, stepSize } = attack;
  const attackCycles = attack.surface === 'first' ? 0 : cycles;
  const k = system.classes;
  let current = tf.tidy(() => tf.clipByValue(tf.add(x, randomUniform(rng, [...x.shape], -epsilon, epsilon)), 0, 1));
  for (let s = 0; s < attack.steps; s++) {
    const next = tf.tidy(() => {
      const grad = tf.grad((xx: tf.Tensor) => {
        const scores = runCycles(system, params, xx, attackCycles, { gradient: { kind: 'unrolled' } }).scores;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(labels, 'int32'), k), scores) as tf.Scalar;
      })(current);
      const moved = tf.add(current, tf.mul(tf.sign(grad), stepSize));
      return tf.clipByValue(tf.minimum(tf.maximum(moved, tf.sub(x, epsilon)), tf.add(x, epsilon)), 0, 1);
    });
    current.dispose();
    current = next;
  }
  return current;
}

export function cnnfLoss(options: CnnfLossOptions, params: CnnfParams, x: tf.Tensor, labels: tf.Tensor1D, adversarialX?: tf.Tensor): { loss: tf.Scalar; metrics: Record<string, tf.Scalar> } {
  const { system, cycles, mseWeight, cleanWeight } = options;
  const gradient = { kind: 'unrolled' } as const;
  const withMse = mseWeight > 0 && cycles > 0;
  const clean = runCycles(system, params, x, cycles, { gradient, passes: true, recons: withMse && !adversarialX });
  const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(clean.scores, 1), tf.cast(labels, 'int32')), 'float32')) as tf.Scalar;
  const ceClean = crossEntropyOfPasses(clean.passes!, labels);
  let ce: tf.Scalar;
  let recons = clean.recons;
  if (adversarialX) {
    const adv = runCycles(system, params, adversarialX, cycles, { gradient, passes: true, recons: withMse });
    ce = tf.div(tf.add(tf.mul(ceClean, cleanWeight), crossEntropyOfPasses(adv.passes!, labels)), 2) as tf.Scalar;
    recons = adv.recons;
  } else ce = ceClean;
  const mse = recons ? (tf.mean(tf.square(tf.sub(recons, tf.expandDims(clean.h0, 0)))) as tf.Scalar) : tf.scalar(0);
  const loss = tf.add(ce, tf.mul(mse, mseWeight)) as tf.Scalar;
  return { loss, metrics: { cross_entropy: ce, recon_mse: mse, train_accuracy: accuracy } };
}

/** The loss as a learning rule: PGD examples first (parameters held constant), then backprop through the loop. */
export function cnnfRule(options: CnnfLossOptions): LearningRule<ParamMap> {
  const names = options.system.paramNames;
  return Object.freeze({
    name: options.adversarial ? `cnn-f bptt, PGD-${options.adversarial.steps} on the ${options.adversarial.surface === 'first' ? 'first pass' : 'whole loop'}` : 'cnn-f bptt',
    modifies: names,
    phases: [],
    directions(params: ParamMap, batch: Batch, rng: Rng): RuleOutput {
      const labels = batch.y!;
      const adversarialX = options.adversarial ? pgdExamples(options.system, params, batch.x, labels, options.cycles, options.adversarial, rng.split('pgd')) : undefined;
      let metrics: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
        const p = { ...params, ...Object.fromEntries(names.map((n, i) => [n, ts[i]!])) };
        const out = cnnfLoss(options, p, batch.x, labels, adversarialX);
        // tfjs runs this in its own tidy that keeps only the loss: keep the metrics past it.
        metrics = Object.fromEntries(Object.entries(out.metrics).map(([k, v]) => [k, tf.keep(v.clone())]));
        return out.loss;
      })(names.map((n) => params[n]!));
      const copies = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v.clone()]));
      tf.dispose([...Object.values(metrics), ...(adversarialX ? [adversarialX] : [])]);
      return { directions: Object.fromEntries(names.map((n, i) => [n, grads[i]!])), metrics: { loss: value, ...copies } };
    },
  });
}
