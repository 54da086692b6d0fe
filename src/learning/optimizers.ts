/**
 * Optimizers as explicit state and pure steps: `init(params)` gives the state, `step` returns the new
 * parameters and state without mutating anything, so a checkpoint is just (params, state). Learning rates
 * can differ per parameter (EP uses one per layer).
 *
 * - SGD with momentum μ (PyTorch's convention, which the EP papers use): v ← μ v + g (+ λ θ for weight decay);
 *   θ ← θ - lr · v.
 * - Adam (Kingma & Ba 2015): m ← β₁ m + (1-β₁) g; v ← β₂ v + (1-β₂) g²; θ ← θ - lr · m̂ / (√v̂ + ε), with
 *   the bias corrections m̂ = m / (1-β₁ᵗ), v̂ = v / (1-β₂ᵗ).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import { sgdMomentumStep } from '../tensor/fused-steps.js';

export type ParamMap = Readonly<Record<string, tf.Tensor>>;

export interface OptimizerState {
  readonly step: number;
  readonly slots: Readonly<Record<string, ParamMap>>;
}

export interface Optimizer {
  readonly name: string;
  init(params: ParamMap): OptimizerState;
  /** New parameters and state for the given directions (only the parameters named in `directions` move). */
  step(params: ParamMap, directions: ParamMap, state: OptimizerState): { params: ParamMap; state: OptimizerState };
}

export interface SgdOptions {
  readonly lr: number | Readonly<Record<string, number>>;
  readonly momentum?: number;
  readonly weightDecay?: number;
}

export interface AdamOptions {
  readonly lr: number | Readonly<Record<string, number>>;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

function rateFor(lr: SgdOptions['lr'], name: string): number {
  if (typeof lr === 'number') return lr;
  const r = lr[name];
  if (r === undefined) throw new SpecError('optimizer.lr', `no learning rate for parameter ${JSON.stringify(name)}; given for: ${Object.keys(lr).join(', ')}`);
  return r;
}

function zerosOf(params: ParamMap): ParamMap {
  return Object.fromEntries(Object.entries(params).map(([k, t]) => [k, tf.zerosLike(t)]));
}

export function sgd(options: SgdOptions): Optimizer {
  const momentum = options.momentum ?? 0;
  const decay = options.weightDecay ?? 0;
  return Object.freeze({
    name: momentum > 0 ? 'sgd-momentum' : 'sgd',
    init: (params: ParamMap): OptimizerState => ({ step: 0, slots: momentum > 0 ? { velocity: zerosOf(params) } : {} }),
    step(params: ParamMap, directions: ParamMap, state: OptimizerState): { params: ParamMap; state: OptimizerState } {
      const next: Record<string, tf.Tensor> = { ...params };
      const velocity: Record<string, tf.Tensor> = { ...(state.slots.velocity ?? {}) };
      for (const [name, g0] of Object.entries(directions)) {
        const theta = params[name]!;
        const lr = rateFor(options.lr, name);
        if (momentum > 0) {
          // One fused pass where the native kernels are active; the same ops, in the same order, elsewhere.
          [next[name], velocity[name]] = sgdMomentumStep(theta, velocity[name]!, g0, { lr, momentum, decay: decay > 0 ? decay : 0 });
          continue;
        }
        const g = decay > 0 ? tf.add(g0, tf.mul(theta, decay)) : g0;
        next[name] = tf.sub(theta, tf.mul(g, lr));
      }
      const slots: Record<string, ParamMap> = momentum > 0 ? { velocity } : {};
      return { params: next, state: { step: state.step + 1, slots } };
    },
  });
}

export function adam(options: AdamOptions): Optimizer {
  const b1 = options.beta1 ?? 0.9;
  const b2 = options.beta2 ?? 0.999;
  const eps = options.epsilon ?? 1e-8;
  return Object.freeze({
    name: 'adam',
    init: (params: ParamMap): OptimizerState => ({ step: 0, slots: { m: zerosOf(params), v: zerosOf(params) } }),
    step(params: ParamMap, directions: ParamMap, state: OptimizerState): { params: ParamMap; state: OptimizerState } {
      const t = state.step + 1;
      const next: Record<string, tf.Tensor> = { ...params };
      const m: Record<string, tf.Tensor> = { ...state.slots.m };
      const v: Record<string, tf.Tensor> = { ...state.slots.v };
      for (const [name, g] of Object.entries(directions)) {
        m[name] = tf.add(tf.mul(m[name]!, b1), tf.mul(g, 1 - b1));
        v[name] = tf.add(tf.mul(v[name]!, b2), tf.mul(tf.square(g), 1 - b2));
        const mHat = tf.div(m[name]!, 1 - b1 ** t);
        const vHat = tf.div(v[name]!, 1 - b2 ** t);
        next[name] = tf.sub(params[name]!, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), eps)), rateFor(options.lr, name)));
      }
      return { params: next, state: { step: t, slots: { m, v } } };
    },
  });
}

/** An optimizer's slots as flat named tensors (`slot/parameter`), for a checkpoint. */
export function optimizerStateTensors(state: OptimizerState): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(state.slots).flatMap(([slot, ps]) => Object.entries(ps).map(([name, t]) => [`${slot}/${name}`, t])));
}

/** The inverse of optimizerStateTensors: the state a checkpoint restores. */
export function optimizerStateFrom(step: number, tensors: Record<string, tf.Tensor>): OptimizerState {
  const slots: Record<string, Record<string, tf.Tensor>> = {};
  for (const [key, t] of Object.entries(tensors)) {
    const [slot, name] = key.split('/') as [string, string];
    (slots[slot] ??= {})[name] = t;
  }
  return { step, slots };
}

/** What a training checkpoint holds: the parameters as `param/<name>` beside the optimizer's slots. */
export function checkpointTensors(params: ParamMap, state: OptimizerState): Record<string, tf.Tensor> {
  return { ...Object.fromEntries(Object.entries(params).map(([k, t]) => [`param/${k}`, t])), ...optimizerStateTensors(state) };
}

/** The inverse of checkpointTensors, for the parameters `names` and the optimizer at `step`. */
export function fromCheckpointTensors(tensors: Record<string, tf.Tensor>, names: readonly string[], step: number): { params: ParamMap; state: OptimizerState } {
  const params = Object.fromEntries(names.map((n) => [n, tensors[`param/${n}`]!]));
  const state = optimizerStateFrom(step, Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('param/'))));
  return { params, state };
}
