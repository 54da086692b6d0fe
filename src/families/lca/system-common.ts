/**
 * What the fully connected and the convolutional LCA share: the transfer functions, the per-sample input
 * normalisation, the sparse-coding energy and the options of the dynamics. Definitions follow `lcapt`
 * (lanl/lca-pytorch: activation.py, preproc.py, metric.py), see reference/peers.md §3a:
 *
 * - soft threshold, non-negative:  T(u) = relu(u − λ);  signed: relu(u − λ) − relu(−u − λ)
 * - hard threshold, non-negative:  T(u) = u where u > λ, else 0 (torch's F.threshold);  signed: u where |u| > λ
 * - normalisation (lcapt's input_zero_mean and input_unit_var, both on by default): per sample, subtract the
 *   mean over all non-batch axes, then divide by the unbiased standard deviation plus 1e-12;
 * - energy per example: E = ½‖s − ŝ‖² + λ‖a‖₁, s the (normalised) input, ŝ = Φa its reconstruction.
 */
import * as tf from '@tensorflow/tfjs-core';
import { countNonzero } from '../../core/count-nonzero.js';
import { SpecError } from '../../base/errors.js';
import type { Rng } from '../../base/rng.js';
import { leakyIntegrate, softThreshold } from '../../tensor/fused-steps.js';

export type LcaThreshold = 'soft' | 'hard';

export interface LcaDynamicsOptions {
  /** Threshold λ of the transfer function and weight of the ℓ1 term (lcapt default 0.25). */
  readonly lambda?: number;
  /** Time constant τ: each step moves u by 1/τ of its drive (lcapt default 100). */
  readonly tau?: number;
  /** 'soft' (default; the ℓ1 energy) or 'hard' (an ℓ0-like code; the energy is then not a Lyapunov function). */
  readonly threshold?: LcaThreshold;
  /** Non-negative codes (default true) or signed ones. */
  readonly nonnegative?: boolean;
  /** Zero mean and unit variance per sample before coding (default true, as in lcapt). */
  readonly normalizeInput?: boolean;
}

export const LCA_DYNAMICS_DEFAULTS: Required<LcaDynamicsOptions> = Object.freeze({
  lambda: 0.25,
  tau: 100,
  threshold: 'soft',
  nonnegative: true,
  normalizeInput: true,
});

/** Fills in the defaults and checks the values, naming the spec path of a bad one. */
export function resolveDynamics(options: LcaDynamicsOptions): Required<LcaDynamicsOptions> {
  const given = { lambda: options.lambda, tau: options.tau, threshold: options.threshold, nonnegative: options.nonnegative, normalizeInput: options.normalizeInput };
  const o = { ...LCA_DYNAMICS_DEFAULTS, ...stripUndefined(given) };
  if (!(Number.isFinite(o.lambda) && o.lambda >= 0)) throw new SpecError('lambda', `must be a number ≥ 0, got ${o.lambda}`);
  // τ < 1 would overshoot the fixed point of every coefficient in one step.
  if (!(Number.isFinite(o.tau) && o.tau >= 1)) throw new SpecError('tau', `must be a number ≥ 1 (each step moves u by 1/τ of its drive), got ${o.tau}`);
  if (o.threshold !== 'soft' && o.threshold !== 'hard') throw new SpecError('threshold', `must be 'soft' or 'hard', got ${JSON.stringify(o.threshold)}`);
  return Object.freeze(o);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The code a = T(u). */
export function transfer(u: tf.Tensor, o: Required<LcaDynamicsOptions>): tf.Tensor {
  const { lambda, threshold, nonnegative } = o;
  if (threshold === 'soft') {
    const positive = softThreshold(u, lambda);
    return nonnegative ? positive : tf.sub(positive, tf.relu(tf.sub(tf.neg(u), lambda)));
  }
  const keep = nonnegative ? tf.greater(u, lambda) : tf.greater(tf.abs(u), lambda);
  return tf.where(keep, u, tf.zerosLike(u));
}

/** Per sample: zero mean, then unit (unbiased) standard deviation over all non-batch axes. */
export function normalizeSamples(x: tf.Tensor): tf.Tensor {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
  const count = x.size / x.shape[0]!;
  const centred = tf.sub(x, tf.mean(x, axes, true));
  const variance = tf.div(tf.sum(tf.square(centred), axes, true), Math.max(1, count - 1));
  return tf.div(centred, tf.add(tf.sqrt(variance), 1e-12));
}

/** Sum over every axis but the first: [batch, ...] → [batch]. */
export function sumPerExample(t: tf.Tensor): tf.Tensor1D {
  return tf.sum(t, Array.from({ length: t.rank - 1 }, (_, i) => i + 1)) as tf.Tensor1D;
}

/** E = ½‖s − ŝ‖² + λ‖a‖₁ per example. */
export function sparseCodingEnergy(signal: tf.Tensor, reconstruction: tf.Tensor, code: tf.Tensor, lambda: number): tf.Tensor1D {
  const error = tf.mul(sumPerExample(tf.square(tf.sub(signal, reconstruction))), 0.5);
  return tf.add(error, tf.mul(sumPerExample(tf.abs(code)), lambda)) as tf.Tensor1D;
}

/** Fraction of nonzero coefficients per example. */
export function fractionActive(code: tf.Tensor): tf.Tensor1D {
  return tf.div(sumPerExample(tf.cast(tf.notEqual(code, 0), 'float32')), code.size / code.shape[0]!) as tf.Tensor1D;
}

/** Number of nonzero coefficients in the batch. */
export function activeCount(code: tf.Tensor): tf.Scalar {
  return countNonzero(code);
}

export type LcaState = { readonly u: tf.Tensor; readonly a: tf.Tensor };
export type LcaParams = { readonly dictionary: tf.Tensor };
export type LcaInput = { readonly x: tf.Tensor };

/** How a dictionary maps codes to signals: a matrix (fully connected) or a strided convolution. */
export interface DictionaryOperator {
  /** ŝ = Φa, shaped like the signal `like`. */
  reconstruct(code: tf.Tensor, dictionary: tf.Tensor, like: tf.Tensor): tf.Tensor;
  /** Φᵀe, shaped like the code. */
  project(error: tf.Tensor, dictionary: tf.Tensor): tf.Tensor;
  /** Code shape for a signal of this shape. */
  codeShape(signalShape: readonly number[]): number[];
  /** Signal elements one coefficient's atom covers (the fan-out of one graded event into the reconstruction). */
  readonly atomSize: number;
  /** Coefficients one coefficient inhibits through G = ΦᵀΦ − I (its fan-out on a chip that runs the lateral form). */
  readonly lateralFanOut: number;
}

/** The parts of an LCA system the two families share; `step` is the error form (see `errorFormStep`). */
export function lcaSystemParts(o: Required<LcaDynamicsOptions>, operator: DictionaryOperator) {
  const signalOf = (input: LcaInput) => (o.normalizeInput ? normalizeSamples(input.x) : input.x);
  return {
    signalOf,
    initState(input: LcaInput): LcaState {
      const shape = operator.codeShape(input.x.shape);
      return { u: tf.zeros(shape), a: tf.zeros(shape) };
    },
    step(state: LcaState, input: LcaInput, params: LcaParams): LcaState {
      return errorFormStep(state, signalOf(input), params.dictionary, o, operator);
    },
    energy(state: LcaState, input: LcaInput, params: LcaParams): tf.Tensor1D {
      const signal = signalOf(input);
      return sparseCodingEnergy(signal, operator.reconstruct(state.a, params.dictionary, signal), state.a, o.lambda);
    },
    readout: (state: LcaState) => state.a,
    derived: Object.freeze({
      fraction_active: (state: LcaState) => fractionActive(state.a),
      /** ‖s − ŝ‖ / ‖s‖ per example. */
      recon_error_rel: (state: LcaState, input: LcaInput, params: LcaParams) => {
        const signal = signalOf(input);
        const error = tf.sub(signal, operator.reconstruct(state.a, params.dictionary, signal));
        return tf.div(tf.sqrt(sumPerExample(tf.square(error))), tf.add(tf.sqrt(sumPerExample(tf.square(signal))), 1e-12)) as tf.Tensor1D;
      },
    }),
  };
}

/**
 * One Euler step of the LCA in its error form (code → reconstruction → error → drive):
 *
 *   a = T(u);  ŝ = Φa;  e = s − ŝ;  u ← u + (1/τ)(Φᵀe + a − u)
 *
 * which is lcapt's u ← u + (1/τ)(b − u − aG) with b = Φᵀs and G = ΦᵀΦ − I, without ever forming G. The new
 * state keeps the code a it used, so after k steps `a` = T(u_{k−1}): the code lags the potential by one
 * step, exactly as the code lcapt returns.
 */
export function errorFormStep(state: LcaState, signal: tf.Tensor, dictionary: tf.Tensor, o: Required<LcaDynamicsOptions>, operator: DictionaryOperator): LcaState {
  const a = transfer(state.u, o);
  const error = tf.sub(signal, operator.reconstruct(a, dictionary, signal));
  const drive = operator.project(error, dictionary);
  return { u: leakyIntegrate(state.u, drive, a, o.tau), a };
}

/** Events of one step (counted on the code the step used, `next.a`): see each system's doc comment. */
export function lcaCounts(next: LcaState, operator: DictionaryOperator, denseMacs: number, effectiveMacsOf: (events: tf.Scalar) => tf.Scalar) {
  const events = activeCount(next.a);
  return {
    lca: {
      events,
      macs: tf.scalar(denseMacs),
      effective_macs: effectiveMacsOf(events),
      synaptic_ops: tf.mul(events, operator.lateralFanOut) as tf.Scalar,
      neuron_updates: tf.scalar(next.u.size),
    },
  };
}

/** Each atom (the last axis indexes atoms, in both [n, k] and [kh, kw, C, K]) divided by its ℓ2 norm plus 1e-12, as lcapt's normalize_weights. */
export function normalizeAtoms(dictionary: tf.Tensor): tf.Tensor {
  const axes = Array.from({ length: dictionary.rank - 1 }, (_, i) => i);
  return tf.div(dictionary, tf.add(tf.sqrt(tf.sum(tf.square(dictionary), axes, true)), 1e-12));
}

/** lcapt's initial dictionary: standard normal truncated to [−2, 2] (drawn from the seeded `rng`), then unit-norm atoms. */
export function randomDictionary(shape: readonly number[], rng: Rng): tf.Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let v = rng.normal();
    while (v < -2 || v > 2) v = rng.normal();
    values[i] = v;
  }
  return tf.tidy(() => normalizeAtoms(tf.tensor(values, [...shape])));
}
