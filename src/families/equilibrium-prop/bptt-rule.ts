/**
 * The BPTT baseline of equilibrium propagation (Ernoult et al. 2019, `--benchmark`): the same network, the
 * same free phase (T1 steps of the same `step` from zeros, β = 0), and the loss C(s_T1, y) (the system's
 * own output cost, averaged over the batch) differentiated through every step with simulate()'s
 * `unrolled` gradient mode. With `backprop()` this is a LearningRule sharing everything with EP but the
 * update.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchAccuracy } from '../../data/index.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { oneHotTargets, type EpParams, type EquilibriumNetwork } from './system.js';
import { backprop } from '../../learning/backprop.js';
import type { ParamMap } from '../../learning/optimizers.js';
import type { Batch, LearningRule } from '../../learning/rule.js';

export interface BpttOptions {
  readonly system: EquilibriumNetwork<any, any>;
  readonly freeSteps: number;
  readonly modifies?: readonly string[];
  /** Called after every relaxation step (e.g. to sample memory while the tape is longest). */
  readonly onStep?: () => void;
}

/** Batch-mean output cost after T1 unrolled free steps, with the free phase's accuracy. */
export function unrolledFreePhaseLoss(options: BpttOptions, params: EpParams, batch: Batch): { loss: tf.Scalar; metrics: Record<string, tf.Scalar> } {
  const { system } = options;
  const target = oneHotTargets(batch.y!, system.classes);
  const input = system.prepare({ x: batch.x }, params);
  const solution = throwIfDiverged(
    simulate({
      system,
      params,
      input,
      maxSteps: options.freeSteps,
      checkEvery: options.freeSteps,
      gradient: { kind: 'unrolled' },
      ...(options.onStep ? { onStep: () => options.onStep!() } : {}),
    }),
  );
  const loss = tf.mean(system.cost(solution.state, { ...input, target }, params)) as tf.Scalar;
  const accuracy = batchAccuracy(system.readout!(solution.state, input, params), batch.y!);
  solution.dispose();
  return { loss, metrics: { accuracy } };
}

export function bpttThroughFreePhase(options: BpttOptions): LearningRule<ParamMap> {
  return backprop({
    name: 'bptt',
    modifies: options.modifies ?? options.system.paramNames,
    loss: (params, batch) => {
      const { loss, metrics } = unrolledFreePhaseLoss(options, params, batch);
      return { loss, metrics: { cost: loss, ...metrics } };
    },
  });
}
