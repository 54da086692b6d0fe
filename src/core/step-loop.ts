/**
 * The step loop under simulate(): steps the integrator from a start state until a stop condition holds
 * (converged, max steps, diverged), with one read-back per check. Each gradient mode (gradient-modes/)
 * runs this loop with the tape on or paused and decides what to keep for its backward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withTapePaused } from '../tensor/engine.js';
import type { Integrator } from './integrators/integrator.js';
import type { ConvergeCondition, SimulateRequest } from './simulate.js';
import type { StopReason } from './solution.js';
import type { DynamicalSystem } from './system.js';
import { disposeTree, keepTree, leaves, tidyTree, type TensorTree } from './tree.js';

export interface StepLoopResult<S> {
  state: S;
  steps: number;
  stopped: StopReason;
  lastChange: number;
  divergence?: { variable: string; step: number };
}

/**
 * Runs the loop from `state` (owned by the loop from here on) until a stop condition holds.
 * `ring` (if given) receives copies of the last states so a truncated gradient can replay them.
 */
export function runLoop<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  req: SimulateRequest<S, P, U>,
  integrator: Integrator,
  start: S,
  record: (state: S, step: number, final: boolean) => void,
  countStep: ((previous: S, next: S) => void) | undefined,
  ring: S[] | undefined,
  ringSize: number,
): StepLoopResult<S> {
  const { system, params, input, maxSteps } = req;
  const dt = req.dt ?? 1;
  const t0 = req.t0 ?? 0;
  const checkEvery = req.checkEvery ?? 1;
  const converge = req.converge;
  let state = start;
  let lastChange = Number.NaN;
  let previousEnergy: tf.Tensor | undefined =
    converge?.on === 'energy' ? withTapePaused(() => tf.keep(system.energy!(state, input, params))) : undefined;
  record(state, 0, false);
  try {
    for (let k = 0; k < maxSteps; k++) {
      const next = tidyTree(() => integrator.step(system, t0 + k * dt, dt, state, input, params, k));
      keepTree(next);
      countStep?.(state, next);
      if (ring) {
        ring.push(state);
        if (ring.length > ringSize) disposeTree(ring.shift());
      } else disposeTree(state);
      state = next;
      const steps = k + 1;
      req.onStep?.(steps);
      const isCheck = steps % checkEvery === 0 || steps === maxSteps;
      if (isCheck) {
        const ring0 = ring?.[ring.length - 1];
        const check = withTapePaused(() => measureStep(system, state, ring0 ?? undefined, input, params, converge, previousEnergy));
        if (check.energy) {
          tf.dispose(previousEnergy);
          previousEnergy = check.energy;
        }
        if (check.nonFinite !== undefined) {
          record(state, steps, true);
          return { state, steps, stopped: 'diverged', lastChange, divergence: { variable: check.nonFinite, step: steps } };
        }
        if (check.change !== undefined) lastChange = check.change;
        if (converge && steps >= (converge.minSteps ?? 1) && lastChange < converge.tolerance) {
          record(state, steps, true);
          return { state, steps, stopped: 'converged', lastChange };
        }
      }
      record(state, steps, steps === maxSteps);
    }
    return { state, steps: maxSteps, stopped: 'max-steps', lastChange };
  } finally {
    tf.dispose(previousEnergy);
  }
}

interface StepCheck {
  nonFinite?: string;
  change?: number;
  energy?: tf.Tensor;
}

/**
 * One read-back per check: for each state leaf, whether it holds NaN/Inf, and the change used for
 * convergence. Without a ring the previous state is gone, so state change is measured from the energy or
 * from the step map itself (|F(s) - s| would cost a step), which is why the loop passes the previous state
 * when it keeps one and otherwise measures change against a copy made for that purpose.
 */
function measureStep<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  system: DynamicalSystem<S, P, U>,
  state: S,
  previous: S | undefined,
  input: U,
  params: P,
  converge: ConvergeCondition | undefined,
  previousEnergy: tf.Tensor | undefined,
): StepCheck {
  const stateLeaves = leaves(state);
  const out: StepCheck = {};
  const values = tf.tidy(() => {
    const parts: tf.Tensor[] = stateLeaves.map((l) => tf.reshape(tf.sum(tf.cast(tf.logicalNot(tf.isFinite(l.tensor)), 'float32')), [1]));
    if (converge?.on === 'energy') {
      const energy = system.energy!(state, input, params);
      out.energy = tf.keep(energy);
      parts.push(previousEnergy ? tf.reshape(tf.max(tf.abs(tf.sub(energy, previousEnergy))), [1]) : tf.tensor1d([Number.POSITIVE_INFINITY]));
    } else if (converge && previous) {
      const prevLeaves = leaves(previous);
      const diffs = stateLeaves.map((l, i) => tf.reshape(tf.max(tf.abs(tf.sub(l.tensor, prevLeaves[i]!.tensor))), [1]));
      parts.push(tf.reshape(tf.max(tf.concat(diffs)), [1]));
    }
    return tf.concat(parts);
  });
  const data = values.dataSync();
  values.dispose();
  const bad = stateLeaves.findIndex((_, i) => data[i]! > 0);
  if (bad >= 0) out.nonFinite = stateLeaves[bad]!.path || 'state';
  if (data.length > stateLeaves.length) out.change = data[stateLeaves.length]!;
  return out;
}

