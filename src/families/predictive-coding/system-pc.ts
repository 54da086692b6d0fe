/**
 * A discriminative predictive-coding network (PCN): predictive coding as a learning algorithm
 * (Whittington & Bogacz 2017, Neural Computation 29(5); the energy and schedules of PCX, Pinchetti et al.
 * 2024, arXiv 2407.01163, and of Torch2PC, Rosenbaum 2022, PLoS ONE 17(3)). Restated in
 * reference/new-families.md §2b.
 *
 * Layers 0…L with widths sizes[0…L]: the input x = z_0 is clamped, z_1…z_{L−1} are value nodes (the state),
 * and the output is read from the prediction u_L. Row-vector convention, W_l of shape [n_{l−1}, n_l]:
 *
 *   u_1 = x W_1 + b_1,    u_l = φ(z_{l−1}) W_l + b_l  (l ≥ 2),    e_l = z_l − u_l  (l < L)
 *   F   = Σ_{l<L} ½‖e_l‖² + β C(u_L, y)        (per example; β C only when the input carries a target)
 *
 * with C = ½‖u_L − y‖² (`output: 'se'`) or −y·log softmax(u_L) (`output: 'ce'`, PCX's ce_energy). The
 * output node is clamped by the cost rather than kept as a variable: its error is e_L = −β ∂C/∂u_L =
 * β(y − u_L) or β(y − softmax u_L); with β = 1 and SE this is the hard clamp z_L = y. Without a target
 * F = Σ½‖e_l‖², whose minimum 0 is the feedforward pass: the forward initial state is already the
 * prediction without a label (Bogacz-Group/PredictiveCoding #4), so testing needs no inference.
 *
 * Inference is gradient descent on F in the value nodes (`step`, state step γ; `vectorField` for the
 * integrators is the same −∂F/∂z):
 *
 *   ∂F/∂z_l = e_l − φ'(z_l) ⊙ (e_{l+1} W_{l+1}ᵀ),      z_l ← z_l − γ ∂F/∂z_l
 *
 * every layer from the previous state (Jacobi). The local weight gradient at a state is
 *
 *   ∂F/∂W_l = −φ(z_{l−1})ᵀ e_l,   ∂F/∂b_l = −Σ_batch e_l        (φ(z_0) read as x)
 *
 * post-synaptic error times pre-synaptic activity.
 *
 * Fixed-prediction assumption (FPA; Millidge, Tschantz & Buckley 2020; Rosenbaum 2022): when the input
 * carries `frozen` = the feedforward predictions ū_1…ū_L, the predictions and the slopes are held at them:
 * e_l = z_l − ū_l, e_L = β(y − g(ū_L)), ∂F/∂z_l uses φ'(ū_l), and the weight gradient uses φ(ū_{l−1}). With
 * γ = 1 every sweep makes e_l = φ'(ū_l) ⊙ (e_{l+1} W_{l+1}ᵀ), backprop's recursion for −β ∂C/∂u_l; after
 * L − 1 sweeps (the error travels one layer per sweep) every error, hence every weight gradient, is β
 * times backprop's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { uniformArray, type Rng } from '../../base/rng.js';
import type { ContinuousSystem, DiscreteSystem, StepCounts } from '../../core/system.js';
import { countNonzero } from '../../core/count-nonzero.js';
import { pcActivation, type PcActivationName } from './system-activations.js';

export type PcOutput = 'se' | 'ce';
export type PcInit = 'torch-default' | 'glorot-uniform';

export interface PcNetworkOptions {
  /** Widths, input first: [784, 128, 128, 128, 10]. */
  readonly sizes: readonly number[];
  readonly activation?: PcActivationName;
  readonly output?: PcOutput;
  /** γ: the step of the inference dynamics (the discrete map). */
  readonly stateStep?: number;
  /** PyTorch's Linear default U(±1/√fan_in) for weights and biases (PCX), or Glorot-uniform with zero biases. */
  readonly init?: PcInit;
}

export type PcState = { readonly layers: readonly tf.Tensor2D[] };
export type PcParams = Readonly<Record<string, tf.Tensor>>;
export type PcInput = {
  readonly x: tf.Tensor2D;
  /** One-hot targets [batch, classes]; with `beta`, the output is clamped by β C. */
  readonly target?: tf.Tensor2D;
  readonly beta?: tf.Scalar;
  /** The feedforward predictions ū_1…ū_L: present, the fixed-prediction assumption holds. */
  readonly frozen?: readonly tf.Tensor2D[];
};

interface PcCore {
  readonly options: Required<PcNetworkOptions>;
  readonly paramNames: readonly string[];
  readonly classes: number;
  readonly layout: 'flat';
  /** L, the number of weight layers. */
  readonly depth: number;
  /** ū_1…ū_L of the feedforward pass. */
  forward(x: tf.Tensor2D, params: PcParams): tf.Tensor2D[];
  /** u_1…u_L at this state (ū under the FPA). */
  predictions(state: PcState, input: PcInput, params: PcParams): tf.Tensor2D[];
  /** e_1…e_L (e_L only with a target). */
  errors(state: PcState, input: PcInput, params: PcParams): tf.Tensor2D[];
  /** φ(z) of the value nodes (what a layer sends to the one above). */
  activity(z: tf.Tensor): tf.Tensor;
  /** ∂F/∂z_l for every value node. */
  stateGradient(state: PcState, input: PcInput, params: PcParams): tf.Tensor2D[];
  /** ∂F/∂θ summed over the batch, by parameter name (W<l>, b<l>). */
  weightGradients(state: PcState, input: PcInput, params: PcParams): Record<string, tf.Tensor>;
  /** The output cost C per example (needs the target). */
  cost(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D;
  initParams(rng: Rng): PcParams;
}

interface PcParts {
  energy(state: PcState, input: PcInput, params: PcParams): tf.Tensor1D;
  readout(state: PcState, input: PcInput, params: PcParams): tf.Tensor;
}

export type PcNetwork = DiscreteSystem<PcState, PcParams, PcInput> & PcCore & PcParts;
export type PcFlow = ContinuousSystem<PcState, PcParams, PcInput> & PcCore & PcParts;

function checkOptions(o: Required<PcNetworkOptions>): void {
  if (!(Array.isArray(o.sizes) && o.sizes.length >= 3 && o.sizes.every((n) => Number.isInteger(n) && n > 0))) {
    throw new SpecError('system.sizes', `must list at least 3 positive integer widths (input, hidden…, classes), got ${JSON.stringify(o.sizes)}`);
  }
  if (!(Number.isFinite(o.stateStep) && o.stateStep > 0)) throw new SpecError('system.stateStep', `must be a positive number, got ${o.stateStep}`);
}

/** One-hot float targets (cast: tf.oneHot's float32 is broken on the wasm backend of tfjs 4.22). */
export function oneHot(labels: tf.Tensor1D, classes: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(labels, classes), 'float32') as tf.Tensor2D;
}

/** The input of a clamped (training) relaxation. */
export function clamped(x: tf.Tensor2D, target: tf.Tensor2D, beta: number, frozen?: readonly tf.Tensor2D[]): PcInput {
  return { x, target, beta: tf.scalar(beta), ...(frozen ? { frozen } : {}) };
}

function core(options: PcNetworkOptions): PcCore {
  const o: Required<PcNetworkOptions> = Object.freeze({
    activation: 'tanh' as PcActivationName,
    output: 'se' as PcOutput,
    stateStep: 0.1,
    init: 'torch-default' as PcInit,
    ...options,
    sizes: Object.freeze([...options.sizes]),
  });
  checkOptions(o);
  const phi = pcActivation(o.activation);
  const L = o.sizes.length - 1;
  const W = (p: PcParams, l: number) => p[`W${l}`] as tf.Tensor2D;
  const b = (p: PcParams, l: number) => p[`b${l}`] as tf.Tensor1D;
  const affine = (pre: tf.Tensor, p: PcParams, l: number) => tf.add(tf.matMul(l === 1 ? pre : phi.apply(pre), W(p, l)), b(p, l)) as tf.Tensor2D;
  const clampedBy = (input: PcInput) => input.target !== undefined && input.beta !== undefined;

  function forward(x: tf.Tensor2D, params: PcParams): tf.Tensor2D[] {
    const out: tf.Tensor2D[] = [];
    for (let l = 1; l <= L; l++) out.push(affine(l === 1 ? x : out[l - 2]!, params, l));
    return out;
  }

  /** The node feeding layer l (1-based): x for l = 1, else z_{l−1} (ū_{l−1} under the FPA). */
  const presynaptic = (state: PcState, input: PcInput, l: number) => (l === 1 ? input.x : (input.frozen?.[l - 2] ?? state.layers[l - 2]!));

  function predictions(state: PcState, input: PcInput, params: PcParams): tf.Tensor2D[] {
    if (input.frozen) return [...input.frozen];
    return Array.from({ length: L }, (_, i) => affine(presynaptic(state, input, i + 1), params, i + 1));
  }

  function outputError(logits: tf.Tensor2D, input: PcInput): tf.Tensor2D {
    const g = o.output === 'se' ? logits : tf.softmax(logits);
    return tf.mul(tf.sub(input.target!, g), input.beta!) as tf.Tensor2D;
  }

  function errors(state: PcState, input: PcInput, params: PcParams): tf.Tensor2D[] {
    const u = predictions(state, input, params);
    const hidden = state.layers.map((z, i) => tf.sub(z, u[i]!) as tf.Tensor2D);
    return clampedBy(input) ? [...hidden, outputError(u[L - 1]!, input)] : hidden;
  }

  function stateGradient(state: PcState, input: PcInput, params: PcParams): tf.Tensor2D[] {
    const e = errors(state, input, params);
    return state.layers.map((z, i) => {
      const above = e[i + 1];
      if (!above) return e[i]!;
      const slope = phi.derivative(input.frozen ? input.frozen[i]! : z);
      return tf.sub(e[i]!, tf.mul(slope, tf.matMul(above, W(params, i + 2), false, true))) as tf.Tensor2D;
    });
  }

  function weightGradients(state: PcState, input: PcInput, params: PcParams): Record<string, tf.Tensor> {
    const e = errors(state, input, params);
    const out: Record<string, tf.Tensor> = {};
    for (let l = 1; l <= L; l++) {
      const el = e[l - 1];
      if (!el) {
        out[`W${l}`] = tf.zerosLike(W(params, l));
        out[`b${l}`] = tf.zerosLike(b(params, l));
        continue;
      }
      const pre = presynaptic(state, input, l);
      out[`W${l}`] = tf.neg(tf.matMul(l === 1 ? pre : phi.apply(pre), el, true, false));
      out[`b${l}`] = tf.neg(tf.sum(el, 0));
    }
    return out;
  }

  function cost(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
    if (o.output === 'se') return tf.mul(tf.sum(tf.square(tf.sub(logits, target)), 1), 0.5) as tf.Tensor1D;
    return tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
  }

  function initParams(rng: Rng): PcParams {
    const params: Record<string, tf.Tensor> = {};
    for (let l = 1; l <= L; l++) {
      const fanIn = o.sizes[l - 1]!;
      const fanOut = o.sizes[l]!;
      const bound = o.init === 'glorot-uniform' ? Math.sqrt(6 / (fanIn + fanOut)) : 1 / Math.sqrt(fanIn);
      const stream = rng.split(`layer-${l}`);
      params[`W${l}`] = tf.tensor2d(uniformArray(stream, fanIn * fanOut, -bound, bound), [fanIn, fanOut]);
      params[`b${l}`] = o.init === 'glorot-uniform' ? tf.zeros([fanOut]) : tf.tensor1d(uniformArray(stream, fanOut, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
    }
    return params;
  }

  return {
    options: o,
    paramNames: Object.freeze(Array.from({ length: L }, (_, i) => [`W${i + 1}`, `b${i + 1}`]).flat()),
    classes: o.sizes[L]!,
    layout: 'flat',
    depth: L,
    forward,
    predictions,
    errors,
    activity: (z: tf.Tensor) => phi.apply(z),
    stateGradient,
    weightGradients,
    cost,
    initParams,
  };
}

/** The parts both time forms share: forward initial state, energy, readout, counts. */
function shared(c: PcCore) {
  const L = c.depth;
  const sizes = c.options.sizes;
  return {
    initState(input: PcInput, params: PcParams): PcState {
      // Forward initialisation: every hidden error starts at 0 (PCX's STATUS.INIT pass).
      const u = input.frozen ?? c.forward(input.x, params);
      return { layers: u.slice(0, L - 1).map((t) => t.clone()) };
    },
    energy(state: PcState, input: PcInput, params: PcParams): tf.Tensor1D {
      const u = c.predictions(state, input, params);
      const terms = state.layers.map((z, i) => tf.mul(tf.sum(tf.square(tf.sub(z, u[i]!)), 1), 0.5));
      if (input.target && input.beta) terms.push(tf.mul(c.cost(u[L - 1]!, input.target), input.beta));
      return (terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Tensor1D;
    },
    readout(state: PcState, input: PcInput, params: PcParams): tf.Tensor {
      return c.predictions(state, { x: input.x, ...(input.frozen ? { frozen: input.frozen } : {}) }, params)[L - 1]!;
    },
    counts(previous: PcState, _next: PcState, input: PcInput, params: PcParams): StepCounts {
      // One inference step: each hidden layer l forms its prediction (fan-in n_{l−1}) and receives the error
      // of the layer above through W_{l+1}ᵀ (fan-in n_{l+1}); the output prediction is formed once more.
      // Event-driven (effective) MACs: the nonzero presynaptic activities φ(z_{l−1}) (x for l = 1) times n_l,
      // plus the nonzero errors e_{l+1} times n_l; without a label the errors stay 0 and cost nothing.
      const batch = input.x.shape[0];
      const e = c.errors(previous, input, params);
      const sending = (l: number) => (l === 1 ? countNonzero(input.x) : countNonzero(c.activity(previous.layers[l - 2]!)));
      const out: Record<string, Record<string, tf.Scalar>> = {};
      for (let l = 1; l < L; l++) {
        const width = sizes[l]!;
        const above = e[l];
        const fromBelow = tf.mul(sending(l), width) as tf.Scalar;
        out[`layer${l}`] = {
          macs: tf.scalar(batch * width * (sizes[l - 1]! + sizes[l + 1]!)),
          effective_macs: above ? (tf.add(fromBelow, tf.mul(countNonzero(above), width)) as tf.Scalar) : fromBelow,
          events: countNonzero(previous.layers[l - 1]!),
          neuron_updates: tf.scalar(2 * batch * width),
        };
      }
      out[`output${L}`] = { macs: tf.scalar(batch * sizes[L - 1]! * sizes[L]!), effective_macs: tf.mul(sending(L), sizes[L]!) as tf.Scalar, events: tf.scalar(0), neuron_updates: tf.scalar(batch * sizes[L]!) };
      return out;
    },
  };
}

/** The PCN with the discrete inference map z ← z − γ ∂F/∂z. */
export function predictiveCodingNetwork(options: PcNetworkOptions): PcNetwork {
  const c = core(options);
  const gamma = c.options.stateStep;
  return Object.freeze({
    ...c,
    ...shared(c),
    kind: 'pc-network',
    time: 'discrete' as const,
    step(state: PcState, input: PcInput, params: PcParams): PcState {
      const g = c.stateGradient(state, input, params);
      return { layers: state.layers.map((z, i) => tf.sub(z, tf.mul(g[i]!, gamma)) as tf.Tensor2D) };
    },
  });
}

/** The PCN as the flow dz/dt = −∂F/∂z, for the core's integrators (JPC's form; dt plays γ). */
export function predictiveCodingFlow(options: PcNetworkOptions): PcFlow {
  const c = core(options);
  return Object.freeze({
    ...c,
    ...shared(c),
    kind: 'pc-network-flow',
    time: 'continuous' as const,
    vectorField(_t: number, state: PcState, input: PcInput, params: PcParams): PcState {
      return { layers: c.stateGradient(state, input, params).map((g) => tf.neg(g) as tf.Tensor2D) };
    },
  });
}
