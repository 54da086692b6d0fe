/**
 * What a solve returns. The Solution owns every tensor in it (final state, traces); `dispose()` frees them
 * all, and nothing else keeps a reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DivergenceError } from '../base/errors.js';
import type { Trace } from './probes.js';
import { disposeTree, type TensorTree } from './tree.js';

export type StopReason = 'converged' | 'max-steps' | 'diverged';

/** Event totals per layer and counter, plus the per-step values, for the hardware meter. */
export interface EventRecord {
  readonly perStep: ReadonlyArray<Readonly<Record<string, Readonly<Record<string, number>>>>>;
  readonly total: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface Solution<S extends TensorTree> {
  readonly state: S;
  /** Steps taken. */
  readonly steps: number;
  /** Time at the end (t0 + steps·dt). */
  readonly t: number;
  readonly stopped: StopReason;
  /** What happened and, where something went wrong, what to change. */
  readonly message: string;
  /** Largest absolute change of the converge criterion at the last check (NaN if never checked). */
  readonly lastChange: number;
  /** Where the solve diverged: the variable and the step. */
  readonly divergence?: { readonly variable: string; readonly step: number };
  readonly traces: Readonly<Record<string, Trace>>;
  readonly events?: EventRecord;
  dispose(): void;
}

export function makeSolution<S extends TensorTree>(fields: Omit<Solution<S>, 'dispose'>): Solution<S> {
  let disposed = false;
  return Object.freeze({
    ...fields,
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeTree(fields.state);
      for (const trace of Object.values(fields.traces)) tf.dispose(trace.values);
    },
  });
}

/** Turns a diverged solve into a DivergenceError (disposing the solution); returns it unchanged otherwise. */
export function throwIfDiverged<S extends TensorTree>(solution: Solution<S>): Solution<S> {
  if (solution.stopped === 'diverged' && solution.divergence) {
    solution.dispose();
    throw new DivergenceError(solution.divergence.variable, solution.divergence.step, solution.message);
  }
  return solution;
}
