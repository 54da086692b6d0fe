/**
 * Layered Hopfield energy networks for equilibrium propagation (EP), fully connected, any widths.
 *
 * Sources: Scellier & Bengio 2017 ("Equilibrium Propagation", Front. Comput. Neurosci. 11:24), Ernoult et
 * al. 2019 ("Updates of equilibrium prop match gradients of backprop through time", NeurIPS), Laborieux et
 * al. 2021 ("Scaling equilibrium propagation to deep ConvNets", Front. Neurosci. 15:633674); the equations
 * below are those of the authors' code as summarised in reference/peers.md §4.
 *
 * Layers s_0 = x (the clamped input, sizes[0] wide), s_1 … s_N (sizes[1..N]); W_n ([sizes[n-1], sizes[n]],
 * params `W<n>`) and b_n (`b<n>`) connect s_{n-1} to s_n. With u_n = ρ̂(s_n) the primitive function is
 *
 *   Φ^β(x, s) = Σ_n u_n · (u_{n-1} W_n + b_n) − β C(s, y)
 *
 * with C = ½‖u_N − y‖² (`output: 'mse'`; Laborieux's convention, Scellier's has no ½), or, with
 * `output: 'softmax-ce'`, the output layer removed from the dynamics: the prediction is
 * softmax(u_{N-1} W_N + b_N), the sum runs to N−1, and C is the cross-entropy of those logits (Laborieux).
 * The energy is E = ½ Σ_n ‖s_n‖² − Φ^β, per example.
 *
 * Two dynamics, both synchronous (Jacobi: every layer is updated from the previous state of its neighbours):
 *
 * - `primitive-map` (Laborieux; Ernoult's prototypical setting): ρ̂ = identity and s_n ← ρ(∂Φ^β/∂s_n),
 *   with ∂Φ^β/∂s_n = s_{n-1} W_n + b_n + s_{n+1} W_{n+1}ᵀ (+ β(y − s_N) on the MSE output,
 *   + β (y − softmax(s_{N-1} W_N + b_N)) W_Nᵀ on the last hidden layer with the softmax readout).
 *   With ρ = hard-sigmoid this is projected gradient descent on E with step 1 (Laborieux, issue #1).
 * - `energy-descent` (Scellier & Bengio; Ernoult's EPcont): ρ̂ = ρ and
 *   s ← clip(s − ε ∂E/∂s, box), ∂E/∂s_n = s_n − ρ'(s_n) ⊙ ∂Φ^β/∂u_n. E then never increases when
 *   ε ≤ 1/L, L the largest curvature of E on the box (for projected gradient descent,
 *   E(s⁺) ≤ E(s) − (1/ε − L/2)‖s⁺ − s‖²); with hard-sigmoid, E is quadratic and L = 1 + ‖A‖₂, A the
 *   symmetric block matrix of the weights between free layers.
 *
 * The input tree is the same in every phase: `x`, and in nudged phases `target` (one-hot) and `beta` (a
 * scalar tensor), so free and nudged phases are one system with different inputs and `step` stays pure.
 * `drive` optionally carries x W_1 + b_1, constant during a relaxation (`withInputDrive`): the step then
 * skips the largest product, which is what makes EP training affordable on a CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { countNonzero } from '../../core/count-nonzero.js';
import { SpecError } from '../../base/errors.js';
import type { Rng } from '../../base/rng.js';
import { uniformArray } from '../../base/rng.js';
import type { DiscreteSystem, StepCounts } from '../../core/system.js';
import type { TensorTree } from '../../core/tree.js';
import { clippedLayer } from '../../tensor/fused-steps.js';
import { activation, type Activation, type ActivationName } from './system-activations.js';
import { straightThrough, type SurrogateGradient } from './system-straight-through.js';

export type EpOutput = 'mse' | 'softmax-ce';
export type EpDynamics = 'primitive-map' | 'energy-descent';
export type EpInit = 'glorot-uniform' | 'torch-default';

export interface EquilibriumPropOptions {
  /** Widths of the layers, input first: [784, 500, 10]. */
  readonly sizes: readonly number[];
  readonly activation?: ActivationName;
  readonly output?: EpOutput;
  readonly dynamics?: EpDynamics;
  /** ε of the energy-descent dynamics. */
  readonly stepSize?: number;
  /** Weight initialisation: Glorot-uniform with zero biases (Scellier & Bengio) or PyTorch's Linear default U(±1/√fan_in) (Laborieux). */
  readonly init?: EpInit;
  /** How gradients pass the clip of ρ: exactly, or straight through (BPDA for attacks; forward unchanged). */
  readonly surrogateGradient?: SurrogateGradient;
}

export type EpState = { readonly layers: readonly tf.Tensor2D[] };
export type EpParams = Readonly<Record<string, tf.Tensor>>;
export type EpInput = {
  readonly x: tf.Tensor2D;
  /** x W_1 + b_1, if precomputed. */
  readonly drive?: tf.Tensor2D;
  /** One-hot targets [batch, classes], with `beta`, in nudged phases. */
  readonly target?: tf.Tensor2D;
  /** Nudging strength β, a scalar tensor. */
  readonly beta?: tf.Scalar;
};

/**
 * What the EP learning rules and the BPTT baseline need of a network (fully connected or convolutional):
 * a discrete relaxation whose input carries x and, in nudged phases, the target and β; its primitive
 * function and output cost per example; and fresh parameters.
 */
export interface EquilibriumNetwork<S extends TensorTree = TensorTree, U extends EpInputBase = EpInputBase> extends DiscreteSystem<S, EpParams, U> {
  /** Names of the parameters, in layer order: W1, b1, W2, b2, … */
  readonly paramNames: readonly string[];
  /** Number of classes the readout reports. */
  readonly classes: number;
  /** Layout of the images the input `x` expects. */
  readonly layout: 'flat' | 'nhwc';
  /** Φ^β per example (see the module comment). */
  primitive(state: S, input: U, params: EpParams): tf.Tensor1D;
  /** The output cost C per example (needs `input.target`). */
  cost(state: S, input: U, params: EpParams): tf.Tensor1D;
  /** The input with what stays constant during a relaxation precomputed (differentiable in the params). */
  prepare(input: U, params: EpParams): U;
  /** Fresh parameters from the seeded stream. */
  initParams(rng: Rng): EpParams;
}

export type EpInputBase = {
  readonly x: tf.Tensor;
  readonly target?: tf.Tensor2D;
  readonly beta?: tf.Scalar;
};

export interface EquilibriumPropSystem extends EquilibriumNetwork<EpState, EpInput> {
  readonly options: Required<EquilibriumPropOptions>;
}

/** Adds the precomputed bottom-up drive x W_1 + b_1 to an input (differentiable in W_1, b_1). */
export function withInputDrive(input: EpInput, params: EpParams): EpInput {
  return { ...input, drive: tf.add(tf.matMul(input.x, params.W1!), params.b1!) as tf.Tensor2D };
}

/**
 * One-hot float targets [batch, classes]. (tf.oneHot's own float32 dtype is broken on the wasm backend of
 * tfjs 4.22: it writes int32 bits into a float32 tensor, so the ones read as 1.4e-45; casting is safe.)
 */
export function oneHotTargets(labels: tf.Tensor1D, classes: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(labels, classes), 'float32') as tf.Tensor2D;
}

/** Adds the target and β of a nudged phase to an input. */
export function nudged<U extends EpInputBase>(input: U, target: tf.Tensor2D, beta: number): U {
  return { ...input, target, beta: tf.scalar(beta) };
}

function checkOptions(o: Required<EquilibriumPropOptions>): void {
  if (!(Array.isArray(o.sizes) && o.sizes.length >= 3 && o.sizes.every((n) => Number.isInteger(n) && n > 0))) {
    throw new SpecError('sizes', `must list at least 3 positive integer widths (input, hidden…, output), got ${JSON.stringify(o.sizes)}`);
  }
  if (!(o.stepSize > 0)) throw new SpecError('stepSize', `must be positive, got ${o.stepSize}`);
  if (o.surrogateGradient === 'straight-through-output' && (o.output !== 'mse' || o.dynamics !== 'primitive-map')) {
    throw new SpecError('surrogateGradient', "'straight-through-output' is for an MSE output state under the primitive-map dynamics; use 'exact' or 'straight-through'");
  }
}

export function equilibriumProp(options: EquilibriumPropOptions): EquilibriumPropSystem {
  const o: Required<EquilibriumPropOptions> = Object.freeze({
    activation: 'hard-sigmoid' as ActivationName,
    output: 'mse' as EpOutput,
    dynamics: 'primitive-map' as EpDynamics,
    stepSize: 0.5,
    init: 'glorot-uniform' as EpInit,
    surrogateGradient: 'exact' as SurrogateGradient,
    ...options,
    sizes: Object.freeze([...options.sizes]),
  });
  checkOptions(o);
  const rho: Activation = o.surrogateGradient === 'straight-through' ? straightThrough(activation(o.activation)) : activation(o.activation);
  const N = o.sizes.length - 1;
  // ρ of the output state where only its clip passes gradient straight through (the hidden layers keep ρ).
  const rhoOutput: Activation = o.surrogateGradient === 'straight-through-output' ? straightThrough(activation(o.activation)) : rho;
  // Layers that relax: all but the input, and the output too unless the softmax readout replaces it.
  const free = o.output === 'mse' ? N : N - 1;
  const descent = o.dynamics === 'energy-descent';
  const paramNames = Object.freeze(Array.from({ length: N }, (_, i) => [`W${i + 1}`, `b${i + 1}`]).flat());
  const W = (params: EpParams, n: number) => params[`W${n}`] as tf.Tensor2D;
  const b = (params: EpParams, n: number) => params[`b${n}`] as tf.Tensor1D;
  const rates = (state: EpState) => (descent ? state.layers.map((s) => rho.apply(s)) : state.layers);
  const nudging = (input: EpInput) => input.beta !== undefined && input.target !== undefined;

  // Every activation but the centred one maps into [0, 1]: its rates are counted without an abs.
  const nonnegativeRates = o.activation !== 'centered-hard-sigmoid';
  // Nonzero entries of each clamped input seen by `counts` (a Variable can change in place: never cached).
  const inputEventCache = new WeakMap<tf.Tensor, number>();
  const inputEvents = (x: tf.Tensor): number => {
    const cached = x instanceof tf.Variable ? undefined : inputEventCache.get(x);
    if (cached !== undefined) return cached;
    const count = countNonzero(x);
    const n = count.dataSync()[0]!;
    count.dispose();
    if (!(x instanceof tf.Variable)) inputEventCache.set(x, n);
    return n;
  };

  const logitsOf = (u: readonly tf.Tensor[], params: EpParams) => tf.add(tf.matMul(u[free - 1]!, W(params, N)), b(params, N));

  /** ∂Φ^β/∂u_i for every free layer i (0-based: layers[i] = s_{i+1}). */
  function forces(u: readonly tf.Tensor[], input: EpInput, params: EpParams): tf.Tensor[] {
    return u.map((_, i) => {
      const n = i + 1;
      let f: tf.Tensor = n === 1 ? (input.drive ?? tf.add(tf.matMul(input.x, W(params, 1)), b(params, 1))) : tf.add(tf.matMul(u[i - 1]!, W(params, n)), b(params, n));
      if (i + 1 < free) f = tf.add(f, tf.matMul(u[i + 1]!, W(params, n + 1), false, true));
      if (i === free - 1 && nudging(input)) {
        const y = input.target!;
        const error = o.output === 'mse' ? tf.sub(y, u[i]!) : tf.matMul(tf.sub(y, tf.softmax(logitsOf(u, params))), W(params, N), false, true);
        f = tf.add(f, tf.mul(error, input.beta!));
      }
      return f;
    });
  }

  /**
   * The primitive-map step with a clipping ρ as one fused layer call each (tensor/fused-steps.ts): the same
   * forces as `forces`, handed over as their terms (bias or drive, the products with the layers below and
   * above, the nudge last) so that the layer can run as one native kernel.
   */
  const clip = o.surrogateGradient === 'exact' ? rho.clip : undefined;
  function clippedStep(u: readonly tf.Tensor[], input: EpInput, params: EpParams): tf.Tensor2D[] {
    return u.map((_, i) => {
      const n = i + 1;
      const fromDrive = n === 1 && input.drive !== undefined;
      const below = fromDrive ? undefined : ([n === 1 ? input.x : u[i - 1]!, W(params, n)] as const);
      const above = i + 1 < free ? ([u[i + 1]!, W(params, n + 1)] as const) : undefined;
      let extra: tf.Tensor | undefined;
      if (i === free - 1 && nudging(input)) {
        const y = input.target!;
        const error = o.output === 'mse' ? tf.sub(y, u[i]!) : tf.matMul(tf.sub(y, tf.softmax(logitsOf(u, params))), W(params, N), false, true);
        extra = tf.mul(error, input.beta!);
      }
      if (!below && !above) return rho.apply(extra ? tf.add(input.drive!, extra) : input.drive!) as tf.Tensor2D;
      return clippedLayer({ addend: fromDrive ? input.drive! : b(params, n), ...(below ? { below } : {}), ...(above ? { above } : {}), ...(extra ? { extra } : {}) },
        clip![0], clip![1]) as tf.Tensor2D;
    });
  }

  function cost(state: EpState, input: EpInput, params: EpParams): tf.Tensor1D {
    if (!input.target) throw new SpecError('input.target', 'the output cost needs one-hot targets in the input');
    const u = rates(state);
    if (o.output === 'mse') return tf.mul(tf.sum(tf.square(tf.sub(u[free - 1]!, input.target)), 1), 0.5) as tf.Tensor1D;
    return tf.neg(tf.sum(tf.mul(input.target, tf.logSoftmax(logitsOf(u, params))), 1)) as tf.Tensor1D;
  }

  function primitive(state: EpState, input: EpInput, params: EpParams): tf.Tensor1D {
    const u = rates(state);
    const terms = u.map((s, i) => {
      const n = i + 1;
      const below = n === 1 ? (input.drive ?? tf.add(tf.matMul(input.x, W(params, 1)), b(params, 1))) : tf.add(tf.matMul(u[i - 1]!, W(params, n)), b(params, n));
      return tf.sum(tf.mul(s, below), 1);
    });
    const phi = terms.length === 1 ? terms[0]! : tf.addN(terms);
    return (nudging(input) ? tf.sub(phi, tf.mul(cost(state, input, params), input.beta!)) : phi) as tf.Tensor1D;
  }

  return Object.freeze({
    kind: 'equilibrium-prop',
    time: 'discrete',
    options: o,
    paramNames,
    classes: o.sizes[N]!,
    layout: 'flat',
    prepare: withInputDrive,
    initState(input: EpInput): EpState {
      const batch = input.x.shape[0];
      return { layers: o.sizes.slice(1, free + 1).map((n) => tf.zeros([batch, n]) as tf.Tensor2D) };
    },
    step(state: EpState, input: EpInput, params: EpParams): EpState {
      const u = rates(state);
      if (!descent && clip) return { layers: clippedStep(u, input, params) };
      const f = forces(u, input, params);
      if (!descent) return { layers: f.map((fi, i) => (i === free - 1 && o.output === 'mse' ? rhoOutput : rho).apply(fi) as tf.Tensor2D) };
      const [low, high] = rho.box;
      return {
        layers: state.layers.map((s, i) => {
          const gradient = tf.sub(s, tf.mul(rho.derivative(s), f[i]!));
          return tf.clipByValue(tf.sub(s, tf.mul(gradient, o.stepSize)), low, high) as tf.Tensor2D;
        }),
      };
    },
    energy(state: EpState, input: EpInput, params: EpParams): tf.Tensor1D {
      const squares = state.layers.map((s) => tf.sum(tf.square(s), 1));
      const half = tf.mul(squares.length === 1 ? squares[0]! : tf.addN(squares), 0.5);
      return tf.sub(half, primitive(state, input, params)) as tf.Tensor1D;
    },
    readout(state: EpState, _input: EpInput, params: EpParams): tf.Tensor {
      const u = rates(state);
      return o.output === 'mse' ? u[free - 1]! : logitsOf(u, params);
    },
    primitive,
    cost,
    counts(previous: EpState, next: EpState, input: EpInput): StepCounts {
      const batch = input.x.shape[0];
      const pre = [input.x as tf.Tensor, ...rates(previous)];
      const post = rates(next);
      // Each tensor counted once per step (the last free layer is both the layer's events and the readout's
      // input), and the clamped input once per relaxation: x does not change between steps, and recounting
      // it cost as much as the whole step of a one-hidden-layer net whose drive xW₁ + b₁ is precomputed.
      const counted = new Map<tf.Tensor, tf.Scalar>();
      const active = (t: tf.Tensor) => counted.get(t) ?? counted.set(t, t === input.x ? tf.scalar(inputEvents(input.x)) : countNonzero(t, { nonnegative: nonnegativeRates })).get(t)!;
      const out: Record<string, Record<string, tf.Scalar>> = {};
      for (let i = 0; i < free; i++) {
        const n = i + 1;
        const width = o.sizes[n]!;
        const hasAbove = i + 1 < free;
        // Synapses into layer n: from below (fan-in sizes[n-1]) and, through the symmetric weights, from above.
        const dense = batch * width * (o.sizes[n - 1]! + (hasAbove ? o.sizes[n + 1]! : 0));
        const effective = tf.mul(hasAbove ? tf.add(active(pre[i]!), active(pre[i + 2]!)) : active(pre[i]!), width) as tf.Scalar;
        out[`layer${n}`] = { macs: tf.scalar(dense), effective_macs: effective, events: active(post[i]!), neuron_updates: tf.scalar(batch * width) };
      }
      if (o.output === 'softmax-ce') out[`readout${N}`] = { macs: tf.scalar(batch * o.sizes[N - 1]! * o.sizes[N]!), effective_macs: tf.mul(active(post[free - 1]!), o.sizes[N]!) as tf.Scalar, events: tf.scalar(0), neuron_updates: tf.scalar(batch * o.sizes[N]!) };
      return out;
    },
    initParams(rng: Rng): EpParams {
      const params: Record<string, tf.Tensor> = {};
      for (let n = 1; n <= N; n++) {
        const fanIn = o.sizes[n - 1]!;
        const fanOut = o.sizes[n]!;
        const wBound = o.init === 'glorot-uniform' ? Math.sqrt(6 / (fanIn + fanOut)) : 1 / Math.sqrt(fanIn);
        const stream = rng.split(`layer-${n}`);
        params[`W${n}`] = tf.tensor2d(uniformArray(stream, fanIn * fanOut, -wBound, wBound), [fanIn, fanOut]);
        params[`b${n}`] = o.init === 'glorot-uniform' ? tf.zeros([fanOut]) : tf.tensor1d(uniformArray(stream, fanOut, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
      }
      return params;
    },
  } satisfies EquilibriumPropSystem);
}
