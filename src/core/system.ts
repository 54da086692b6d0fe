/**
 * What a dynamical system is. A system is a frozen object built by a factory (`hopfield(options)`) that
 * holds only static configuration (sizes, activation, constants); everything that changes or can be
 * learned lives in explicit trees passed to it:
 *
 * - `params`  learnable tensors (weights, biases): a TensorTree, so gradients can be taken with respect to it;
 * - `input`   what drives the system (an image, a cue, a target): a TensorTree;
 * - `state`   what evolves: a TensorTree whose leaves are named variables (`u`, `layers.0`).
 *
 * A discrete system gives `step`, the map s_{k+1} = F(s_k, input, params). A continuous system gives
 * `vectorField`, ds/dt = f(t, s, input, params), and is integrated by an integrator. Neither keeps any state
 * between calls. All methods are pure tensor functions: they never keep or dispose tensors (the loop owns
 * memory).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { TensorTree } from './tree.js';

/** Events of one step for the hardware meter: per layer, per counter (e.g. `macs`, `events`), a scalar tensor. */
export type StepCounts = Readonly<Record<string, Readonly<Record<string, tf.Scalar>>>>;

/** A function of (state, input, params); declared as a method so that a system over narrower trees still fits. */
export type DerivedQuantity<S, P, U> = { quantity(state: S, input: U, params: P): tf.Tensor }['quantity'];

interface SystemBase<S extends TensorTree, P extends TensorTree, U extends TensorTree> {
  /** Registry key used in specs. */
  readonly kind: string;
  /**
   * Work that depends only on the input and the parameters and stays fixed during a relaxation (EP's
   * bottom-up drive x·W₁, LCA's Gram form b = Φᵀs and G): the caller runs it once per relaxation and passes
   * the result as the input of every step. Systems without such a term leave it out.
   */
  prepare?(input: U, params: P): U;
  /** Initial state for this input (deterministic; randomness, if any, comes in through `input` or `params`). */
  initState(input: U, params: P): S;
  /** Per-example energy, shape [batch]; a Lyapunov function where the system has one. */
  energy?(state: S, input: U, params: P): tf.Tensor1D;
  /** What the network reports (a prediction, a recalled pattern, class scores), shape [batch, ...]. */
  readout?(state: S, input: U, params: P): tf.Tensor;
  /**
   * Quantities computed from the state that a probe may record like a state variable (LCA's fraction of
   * active coefficients, a reconstruction error): name → function of (state, input, params).
   */
  readonly derived?: Readonly<Record<string, DerivedQuantity<S, P, U>>>;
  /** Events produced by the step from `previous` to `next`, for the hardware meter. */
  counts?(previous: S, next: S, input: U, params: P): StepCounts;
}

export interface DiscreteSystem<S extends TensorTree, P extends TensorTree, U extends TensorTree> extends SystemBase<S, P, U> {
  readonly time: 'discrete';
  /** s_{k+1} = F(s_k); `k` is the index of the step being taken (0 for the first). */
  step(state: S, input: U, params: P, k: number): S;
}

export interface ContinuousSystem<S extends TensorTree, P extends TensorTree, U extends TensorTree> extends SystemBase<S, P, U> {
  readonly time: 'continuous';
  /** ds/dt at time t. */
  vectorField(t: number, state: S, input: U, params: P): S;
  /**
   * For the exponential Euler integrator: a per-leaf decay rate λ > 0 (a number or a tensor broadcastable to
   * the leaf) such that ds/dt = -λ s + N(s) with N the rest of the vector field.
   */
  decay?(params: P): Readonly<Record<string, number>>;
}

export type DynamicalSystem<S extends TensorTree = TensorTree, P extends TensorTree = TensorTree, U extends TensorTree = TensorTree> =
  | DiscreteSystem<S, P, U>
  | ContinuousSystem<S, P, U>;
