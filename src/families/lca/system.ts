/**
 * Fully connected LCA, the Locally Competitive Algorithm for sparse coding (Rozell, Johnson, Baraniuk &
 * Olshausen 2008, "Sparse coding via thresholding and local competition in neural circuits", Neural Comput.
 * 20:2526), in the discrete form of `lcapt` (lanl/lca-pytorch, lca.py `encode`; LCAConv1D with kernel 1 is
 * this system), see reference/peers.md §3a.
 *
 * Signal s ∈ ℝⁿ (the input x, normalised per sample unless `normalizeInput` is false), dictionary Φ ∈ ℝ^{n×k}
 * with unit-norm columns (atoms), potentials u ∈ ℝᵏ, code a = T(u) (soft or hard threshold λ, non-negative or
 * signed; see lca-common.ts). One step, Euler with dt/τ = 1/τ:
 *
 *   u ← u + (1/τ)(b − u − aG),   b = sΦ,  G = ΦᵀΦ − I
 *
 * computed in one of two equal forms:
 * - `error` (default): ŝ = aΦᵀ, e = s − ŝ, u ← u + (1/τ)(eΦ + a − u): 4nk MACs per example and step;
 * - `gram`: b and G computed once per relaxation (`prepare`), then u ← u + (1/τ)(b − u − aG): k² MACs per
 *   example and step, cheaper when k < 2n (lcapt's own form, and the `lca_fc` benchmark's definition).
 *
 * State {u, a}: `a` is the code the step used, T(u) before the update, so after K steps it is the code lcapt
 * returns after K iterations (which lags u by one step). Energy (per example) E = ½‖s − aΦᵀ‖² + λ‖a‖₁; with
 * the soft threshold it never increases along the continuous flow, and along the Euler steps for τ large
 * enough (τ > ‖Φ‖²/2). Derived variables: `fraction_active`, `recon_error_rel` (‖s − ŝ‖/‖s‖).
 *
 * Counts per step: `events` = nonzero coefficients of a (graded events), `macs` = dense MACs of the form
 * computed, `effective_macs` = MACs an event-driven implementation of that form needs (error form: each event
 * adds its atom into ŝ, n MACs, plus the dense eΦ; gram form: each event inhibits k coefficients),
 * `synaptic_ops` = events × k (the lateral form on neuromorphic hardware), `neuron_updates` = B·k.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import type { DiscreteSystem } from '../../core/system.js';
import { leakyIntegrate } from '../../tensor/fused-steps.js';
import {
  lcaCounts,
  lcaSystemParts,
  resolveDynamics,
  transfer,
  type DictionaryOperator,
  type LcaDynamicsOptions,
  type LcaInput,
  type LcaParams,
  type LcaState,
} from './system-common.js';

export type LcaForm = 'error' | 'gram';

export interface LcaOptions extends LcaDynamicsOptions {
  /** n, the signal size (784 for MNIST). */
  readonly inputSize: number;
  /** k, the number of atoms (lcapt's MNIST example: 1568, twice overcomplete). */
  readonly features: number;
  /** How the step is computed (default 'error'); 'gram' needs the input made by `prepare`. */
  readonly form?: LcaForm;
}

/** The input of the gram form: the signal plus the drive b = sΦ [B, k] and lateral weights G = ΦᵀΦ − I [k, k]. */
export type LcaGramInput = LcaInput & { readonly drive: tf.Tensor; readonly lateral: tf.Tensor };

export type LcaSystem = DiscreteSystem<LcaState, LcaParams, LcaInput> & {
  readonly options: Required<LcaOptions>;
  /** Φa and Φᵀe for this dictionary layout. */
  readonly operator: DictionaryOperator;
  /**
   * The input a relaxation needs: for the error form the input itself; for the gram form also b and G,
   * computed once here (differentiable, so a gradient through the relaxation reaches s and Φ).
   */
  prepare(input: LcaInput, params: LcaParams): LcaInput;
};

export function matrixDictionary(inputSize: number, features: number): DictionaryOperator {
  return Object.freeze({
    reconstruct: (code: tf.Tensor, dictionary: tf.Tensor) => tf.matMul(code as tf.Tensor2D, dictionary as tf.Tensor2D, false, true),
    project: (error: tf.Tensor, dictionary: tf.Tensor) => tf.matMul(error as tf.Tensor2D, dictionary as tf.Tensor2D),
    codeShape: (signalShape: readonly number[]) => [signalShape[0]!, features],
    atomSize: inputSize,
    lateralFanOut: features,
  });
}

export function lca(options: LcaOptions): LcaSystem {
  const dynamics = resolveDynamics(options);
  const o: Required<LcaOptions> = Object.freeze({ ...dynamics, form: options.form ?? 'error', inputSize: options.inputSize, features: options.features });
  if (!(Number.isInteger(o.inputSize) && o.inputSize > 0)) throw new SpecError('inputSize', `must be a positive integer, got ${o.inputSize}`);
  if (!(Number.isInteger(o.features) && o.features > 0)) throw new SpecError('features', `must be a positive integer, got ${o.features}`);
  if (o.form !== 'error' && o.form !== 'gram') throw new SpecError('form', `must be 'error' or 'gram', got ${JSON.stringify(o.form)}`);
  const operator = matrixDictionary(o.inputSize, o.features);
  const parts = lcaSystemParts(dynamics, operator);
  const checkShapes = (input: LcaInput, params: LcaParams) => {
    if (input.x.rank !== 2 || input.x.shape[1] !== o.inputSize) {
      throw new SpecError('input.x', `fully connected LCA with inputSize ${o.inputSize} needs x of shape [batch, ${o.inputSize}], got [${input.x.shape.join(', ')}]`);
    }
    const [n, k] = params.dictionary.shape;
    if (params.dictionary.rank !== 2 || n !== o.inputSize || k !== o.features) {
      throw new SpecError('params.dictionary', `must have shape [${o.inputSize}, ${o.features}] (inputSize, features), got [${params.dictionary.shape.join(', ')}]`);
    }
  };
  const gramStep = (state: LcaState, input: LcaInput): LcaState => {
    const { drive, lateral } = input as Partial<LcaGramInput>;
    if (!drive || !lateral) throw new SpecError('form', "the 'gram' form steps on the input made by system.prepare(input, params) (it holds the drive b and G)");
    const a = transfer(state.u, dynamics);
    return { u: leakyIntegrate(state.u, drive, tf.matMul(a as tf.Tensor2D, lateral as tf.Tensor2D), o.tau, -1), a };
  };
  return Object.freeze({
    kind: 'lca',
    time: 'discrete',
    options: o,
    operator,
    prepare(input: LcaInput, params: LcaParams): LcaInput {
      checkShapes(input, params);
      if (o.form === 'error') return input;
      const phi = params.dictionary as tf.Tensor2D;
      const drive = tf.matMul(parts.signalOf(input) as tf.Tensor2D, phi);
      const lateral = tf.sub(tf.matMul(phi, phi, true, false), tf.eye(o.features));
      const prepared: LcaGramInput = { ...input, drive, lateral };
      return prepared;
    },
    initState: (input: LcaInput) => parts.initState(input),
    step: (state: LcaState, input: LcaInput, params: LcaParams) => (o.form === 'gram' ? gramStep(state, input) : parts.step(state, input, params)),
    energy: parts.energy,
    readout: parts.readout,
    derived: parts.derived,
    counts(_previous: LcaState, next: LcaState) {
      const batch = next.u.shape[0]!;
      const { inputSize: n, features: k } = o;
      if (o.form === 'gram') return lcaCounts(next, operator, batch * k * k, (events) => tf.mul(events, k) as tf.Scalar);
      return lcaCounts(next, operator, batch * 2 * n * k, (events) => tf.add(tf.mul(events, n), batch * n * k) as tf.Scalar);
    },
  } satisfies LcaSystem);
}
