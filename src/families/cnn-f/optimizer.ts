/**
 * The official CNN-F optimiser (train.py): SGD with momentum and weight decay, its learning rate on the
 * poly schedule lr_t = lr₀ (1 − t/T)^power stepped per batch (power 0.9, T = epochs × batches per epoch),
 * and the gradients clipped to a total norm before the step (PyTorch's clip_grad_norm_, which acts on the
 * gradients before the optimiser adds weight decay). The step counter is the optimiser state's, so a resumed
 * run continues the schedule where it stopped.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sgd, type Optimizer, type OptimizerState, type ParamMap } from '../../learning/optimizers.js';

export interface ScheduledSgdOptions {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly schedule: 'poly' | 'constant';
  readonly power: number;
  /** Total optimiser steps T of the poly schedule. */
  readonly totalSteps: number;
  /** Clip the gradients to this total ℓ2 norm (0: no clipping). */
  readonly clipNorm: number;
}

export function polyRate(lr: number, step: number, totalSteps: number, power: number): number {
  return lr * Math.max(0, 1 - step / totalSteps) ** power;
}

/** g · min(1, c / ‖g‖) over all directions together. */
export function clipByGlobalNorm(directions: ParamMap, clipNorm: number): ParamMap {
  if (!(clipNorm > 0)) return directions;
  const norm = tf.sqrt(tf.addN(Object.values(directions).map((g) => tf.sum(tf.square(g)))));
  const scale = tf.minimum(1, tf.div(clipNorm, tf.maximum(norm, 1e-12)));
  return Object.fromEntries(Object.entries(directions).map(([k, g]) => [k, tf.mul(g, scale)]));
}

export function scheduledSgd(options: ScheduledSgdOptions): Optimizer {
  const rateAt = (step: number) => (options.schedule === 'poly' ? polyRate(options.lr, step, options.totalSteps, options.power) : options.lr);
  return Object.freeze({
    name: `sgd-momentum (${options.schedule} lr${options.clipNorm > 0 ? `, clip ${options.clipNorm}` : ''})`,
    init: (params: ParamMap): OptimizerState => sgd({ lr: options.lr, momentum: options.momentum }).init(params),
    step(params: ParamMap, directions: ParamMap, state: OptimizerState) {
      const inner = sgd({ lr: rateAt(state.step), momentum: options.momentum, weightDecay: options.weightDecay });
      return inner.step(params, clipByGlobalNorm(directions, options.clipNorm), state);
    },
  });
}
