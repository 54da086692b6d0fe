/**
 * Dictionary learning for the LCA (fully connected or convolutional), two rules on the same energy
 * E(Φ, a) = ½‖s − Φa‖² + λ‖a‖₁, each settling the LCA once per batch (phase 'free') to get the code a:
 *
 * - `lcaHebbianRule`, lcapt's built-in `update_weights` (lca.py; reference/peers.md §3a):
 *
 *     ΔΦ_k = η / (n_k + 1) · Σ_{batch, positions} a_k · (s − ŝ)_patch,   then clip to ±clip
 *
 *   with n_k the number of nonzero coefficients of feature k in the batch. The sum is the Hebbian product
 *   of each coefficient (post-synaptic) with the reconstruction error under its atom (pre-synaptic),
 *   i.e. −∂E/∂Φ_k summed over the batch; the per-feature rate shrinks for features that fire often. The
 *   correlation is computed as the gradient of the bilinear form ⟨e, Φa⟩ in Φ (e and a held constant),
 *   which for a convolution is the filter-gradient kernel; it is still a purely local product.
 *   Direction returned: −ΔΦ, for an `sgd({ lr: 1 })` optimizer (η is the rule's own rate, so the clip
 *   applies to the actual step as in lcapt).
 * - `lcaEnergyGradientRule`, lcapt's `req_grad=True` alternative
 *   (examples/pytorch_optim_dictionary_learning_cifar.ipynb): the code is computed without gradient, then
 *   the batch-mean energy is differentiated in Φ with autodiff, and any optimizer moves Φ (the notebook: SGD
 *   lr 1e-3, momentum 0.1). Holding a fixed is exact at the fixed point of the relaxation (∂E/∂a = 0 on
 *   the active set), by the envelope theorem.
 *
 * Both leave the atoms off the unit sphere; `unitNormAtoms` is the projection to apply after every step
 * (train()'s `project`), as lcapt's normalize_weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../../tensor/gradients.js';
import { SpecError } from '../../base/errors.js';
import { simulate } from '../../core/simulate.js';
import { normalizeAtoms, normalizeSamples, sumPerExample, type DictionaryOperator, type LcaInput, type LcaParams, type LcaState } from './system-common.js';
import type { DiscreteSystem } from '../../core/system.js';
import type { ParamMap } from '../../learning/optimizers.js';
import type { Batch, LearningRule, RuleOutput } from '../../learning/rule.js';

/** What the rules need from an LCA system (both `lca` and `lcaConv` fit). */
export type LcaLikeSystem = DiscreteSystem<LcaState, LcaParams, LcaInput> & {
  readonly options: { readonly lambda: number; readonly normalizeInput: boolean; readonly nonnegative: boolean };
  readonly operator: DictionaryOperator;
  prepare?(input: LcaInput, params: LcaParams): LcaInput;
};

export interface LcaDictionaryRuleOptions {
  readonly system: LcaLikeSystem;
  /** LCA steps per batch (lcapt: lca_iters, default 1000). */
  readonly iterations: number;
  /** Name of the dictionary in the parameter map (default 'dictionary'). */
  readonly parameter?: string;
  /** Batch images → the system's input layout ([B, n] or [B, H, W, C]). */
  readonly toSignal?: (x: tf.Tensor) => tf.Tensor;
}

export interface LcaHebbianOptions extends LcaDictionaryRuleOptions {
  /** η (lcapt default 0.01). */
  readonly eta?: number;
  /** Largest |ΔΦ| per element (lcapt d_update_clip, default ∞). */
  readonly clip?: number;
}

/** The code for a batch, the normalised signal and its reconstruction error (all constants: no tape). */
export function settle(options: LcaDictionaryRuleOptions, dictionary: tf.Tensor, x: tf.Tensor): { code: tf.Tensor; signal: tf.Tensor; error: tf.Tensor } {
  const { system } = options;
  const { operator } = system;
  const signalIn = options.toSignal ? options.toSignal(x) : x;
  const params = { dictionary };
  const input = system.prepare ? system.prepare({ x: signalIn }, params) : { x: signalIn };
  const solution = simulate({ system, params, input, maxSteps: options.iterations });
  const code = solution.state.a.clone();
  solution.dispose();
  const signal = system.options.normalizeInput ? normalizeSamples(signalIn) : signalIn;
  const error = tf.sub(signal, operator.reconstruct(code, dictionary, signal));
  return { code, signal, error };
}

/** Batch means of ½‖e‖², λ‖a‖₁, their sum, the fraction of active coefficients and ‖e‖/‖s‖. */
function codeMetrics(code: tf.Tensor, signal: tf.Tensor, error: tf.Tensor, lambda: number): Record<string, tf.Scalar> {
  const l2 = tf.mul(sumPerExample(tf.square(error)), 0.5);
  const l1 = tf.mul(sumPerExample(tf.abs(code)), lambda);
  const rel = tf.div(tf.sqrt(sumPerExample(tf.square(error))), tf.add(tf.sqrt(sumPerExample(tf.square(signal))), 1e-12));
  return {
    l2_error: tf.mean(l2) as tf.Scalar,
    l1_sparsity: tf.mean(l1) as tf.Scalar,
    energy: tf.mean(tf.add(l2, l1)) as tf.Scalar,
    fraction_active: tf.mean(tf.cast(tf.notEqual(code, 0), 'float32')) as tf.Scalar,
    recon_error_rel: tf.mean(rel) as tf.Scalar,
  };
}

/** Σ_{batch, positions} a_k (s − ŝ)_patch for every atom k: the gradient in Φ of ⟨e, Φa⟩. */
export function hebbianCorrelation(options: LcaDictionaryRuleOptions, dictionary: tf.Tensor, code: tf.Tensor, error: tf.Tensor): tf.Tensor {
  return tf.grad((phi: tf.Tensor) => tf.sum(tf.mul(options.system.operator.project(error, phi), code)))(dictionary);
}

function checkIterations(iterations: number): void {
  if (!(Number.isInteger(iterations) && iterations >= 1)) throw new SpecError('iterations', `must be a positive integer, got ${iterations}`);
}

function dictionaryParameter(params: ParamMap, name: string): tf.Tensor {
  const dictionary = params[name];
  if (!dictionary) throw new SpecError('params', `no parameter ${JSON.stringify(name)}; have: ${Object.keys(params).join(', ')}`);
  return dictionary;
}

export function lcaHebbianRule(options: LcaHebbianOptions): LearningRule<ParamMap> {
  const name = options.parameter ?? 'dictionary';
  const eta = options.eta ?? 0.01;
  const clip = options.clip ?? Number.POSITIVE_INFINITY;
  if (!(eta > 0)) throw new SpecError('eta', `must be positive, got ${eta}`);
  if (!(clip > 0)) throw new SpecError('clip', `must be positive, got ${clip}`);
  checkIterations(options.iterations);
  return Object.freeze({
    name: 'lca-hebbian',
    modifies: [name],
    phases: ['free'],
    directions(params: ParamMap, batch: Batch): RuleOutput {
      const dictionary = dictionaryParameter(params, name);
      const { code, signal, error } = settle(options, dictionary, batch.x);
      // Nonzero coefficients of each feature (the last axis) over the batch and all positions.
      const timesActive = tf.sum(tf.reshape(tf.cast(tf.notEqual(code, 0), 'float32'), [-1, code.shape[code.rank - 1]!]), 0);
      let update = tf.mul(hebbianCorrelation(options, dictionary, code, error), tf.div(eta, tf.add(timesActive, 1)));
      if (Number.isFinite(clip)) update = tf.clipByValue(update, -clip, clip);
      return { directions: { [name]: tf.neg(update) }, metrics: codeMetrics(code, signal, error, options.system.options.lambda) };
    },
  });
}

export function lcaEnergyGradientRule(options: LcaDictionaryRuleOptions): LearningRule<ParamMap> {
  const name = options.parameter ?? 'dictionary';
  checkIterations(options.iterations);
  const lambda = options.system.options.lambda;
  return Object.freeze({
    name: 'lca-energy-gradient',
    modifies: [name],
    phases: ['free'],
    directions(params: ParamMap, batch: Batch): RuleOutput {
      const dictionary = dictionaryParameter(params, name);
      const { code, signal, error } = settle(options, dictionary, batch.x);
      const energyOf = (phi: tf.Tensor) => {
        const residual = tf.sub(signal, options.system.operator.reconstruct(code, phi, signal));
        return tf.mean(tf.add(tf.mul(sumPerExample(tf.square(residual)), 0.5), tf.mul(sumPerExample(tf.abs(code)), lambda))) as tf.Scalar;
      };
      const gradient = tf.grad(energyOf)(dictionary);
      return { directions: { [name]: gradient }, metrics: codeMetrics(code, signal, error, lambda) };
    },
  });
}

/** train()'s `project`: every atom of the named dictionary back to unit norm. */
export function unitNormAtoms(parameter = 'dictionary'): (params: ParamMap) => ParamMap {
  return (params) => ({ ...params, [parameter]: normalizeAtoms(params[parameter]!) });
}
