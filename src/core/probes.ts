/**
 * Probes: what to record during a solve. A probe reads a state variable (by its dotted path), the
 * system's `energy` or its `readout`, or one of its `derived` quantities, after the initial state and after every `every`-th step, and always
 * after the last step taken. Values are read *after* the step's update (Brian2's `when`: here always
 * 'after-step'). Recorded values are stacked into a trace of shape [records, ...value shape], with `steps`
 * giving the step index of each record. They are constants (not differentiable) unless the probe is
 * `differentiable`: then they are read with the tape on, so that a loss on intermediate states
 * (Σ_t w_t · L(readout(s_t)), as in attacks on early states of a relaxation) can be differentiated. Only the
 * `unrolled` gradient mode records the steps themselves, so only there does the gradient reach back through
 * every recorded step; under `truncated` and `implicit` the loop runs with the tape paused and intermediate
 * records are constants (only the final state carries a gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import type { DynamicalSystem } from './system.js';
import { getLeaf, leafPaths, type TensorTree } from './tree.js';

export interface Probe {
  /** Name of the trace; defaults to the variable. */
  readonly name?: string;
  /** A state path, `energy` or `readout`. */
  readonly variable: string;
  /** Record every n steps (default 1). */
  readonly every?: number;
  /** `mean` averages over the batch (first) axis before recording. */
  readonly reduce?: 'none' | 'mean';
  /** Record with the gradient tape on (see above); default false. */
  readonly differentiable?: boolean;
}

export interface Trace {
  readonly values: tf.Tensor;
  readonly steps: readonly number[];
}

export const DERIVED_VARIABLES = ['energy', 'readout'] as const;

/** Checks that every probe names something the system has; throws a SpecError naming what is allowed. */
export function checkProbes<S extends TensorTree>(system: DynamicalSystem<S, any, any>, state: S, probes: readonly Probe[], path = 'probes'): void {
  const known = [...leafPaths(state), ...DERIVED_VARIABLES.filter((v) => system[v] !== undefined), ...Object.keys(system.derived ?? {})];
  probes.forEach((p, i) => {
    if (!known.includes(p.variable)) {
      throw new SpecError(`${path}[${i}].variable`, `${JSON.stringify(p.variable)} is not a variable of ${system.kind}; allowed: ${known.join(', ')}`);
    }
    if (p.every !== undefined && !(Number.isInteger(p.every) && p.every >= 1)) {
      throw new SpecError(`${path}[${i}].every`, `must be a positive integer, got ${p.every}`);
    }
  });
}

export function readProbe<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  probe: Probe,
  system: DynamicalSystem<S, P, U>,
  state: S,
  input: U,
  params: P,
): tf.Tensor {
  let value: tf.Tensor;
  if (probe.variable === 'energy' && system.energy) value = system.energy(state, input, params);
  else if (probe.variable === 'readout' && system.readout) value = system.readout(state, input, params);
  else if (system.derived?.[probe.variable]) value = system.derived[probe.variable]!(state, input, params);
  else {
    const leaf = getLeaf(state, probe.variable);
    if (!leaf) throw new SpecError('probes', `no state variable ${JSON.stringify(probe.variable)}`);
    value = leaf.clone();
  }
  return probe.reduce === 'mean' && value.rank > 0 ? tf.mean(value, 0) : value;
}

export function probeName(p: Probe): string {
  return p.name ?? p.variable;
}
