/**
 * When a relaxation stops changing: the hardware meter prices a fixed number of steps T, and a
 * relaxation that settled long before T (or after its first step, which makes the net a feed-forward
 * pass) is priced for work it did not need. The summary says so instead of leaving the reader to guess.
 *
 * The settling step is measured by the solver's own convergence check: a second relaxation of the same
 * inputs with `converge: { tolerance, on: 'state' }` stops at the first step s whose largest change of any
 * state variable (over the batch) is below the tolerance, so the state after s − 1 steps was already the
 * fixed point to that tolerance: the relaxation settled after max(s − 1, 1) steps (a state that starts at
 * its fixed point still takes one step to be read). Not converged within T steps: it never settled.
 */
import { simulate } from './simulate.js';
import type { DynamicalSystem } from './system.js';
import type { Integrator } from './integrators/integrator.js';
import type { TensorTree } from './tree.js';
import type { RelaxationSettings } from './run-settings.js';

/** Largest per-step change of any state variable below which a relaxation counts as settled. */
export const SETTLING_TOLERANCE = 1e-6;

export interface Settling {
  /** Steps after which no state variable changed by more than `tolerance`; null if still changing at `pricedSteps`. */
  readonly settledAfterSteps: number | null;
  /** The steps the float relaxation was run (and priced) for. */
  readonly pricedSteps: number;
  readonly tolerance: number;
  /** Settled after one step: the relaxation is a feed-forward pass. */
  readonly settledInOneStep: boolean;
}

export function measureSettling<S extends TensorTree, P extends TensorTree, U extends TensorTree>(request: {
  readonly system: DynamicalSystem<S, P, U>;
  readonly params: P;
  readonly input: U;
  readonly maxSteps: number;
  readonly integrator?: Integrator;
  readonly dt?: number;
  readonly tolerance?: number;
}): Settling {
  const tolerance = request.tolerance ?? SETTLING_TOLERANCE;
  const { maxSteps, tolerance: _written, ...rest } = request;
  const solution = simulate({ ...rest, maxSteps, converge: { tolerance, on: 'state' } });
  const settledAfterSteps = solution.stopped === 'converged' ? Math.max(solution.steps - 1, 1) : null;
  solution.dispose();
  return { settledAfterSteps, pricedSteps: maxSteps, tolerance, settledInOneStep: settledAfterSteps === 1 };
}

/**
 * The settling of a relaxation that a run section describes (its integrator, dt and step limit), next to
 * the steps that relaxation actually ran and is priced for (fewer than the limit where it stopped on a
 * convergence condition of its own).
 */
export function settlingOfRelaxation<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  system: DynamicalSystem<S, P, U>,
  params: P,
  input: U,
  relaxation: RelaxationSettings,
  pricedSteps: number,
): Settling {
  const settling = measureSettling({ system, params, input, maxSteps: relaxation.maxSteps, dt: relaxation.dt, ...(relaxation.integrator ? { integrator: relaxation.integrator } : {}) });
  return { ...settling, pricedSteps };
}

/** One line for the printed summary, or undefined when the relaxation needed every step it was priced for. */
export function settlingNote(s: Settling, emulatedSteps?: number): string | undefined {
  const priced = emulatedSteps ?? s.pricedSteps;
  if (s.settledInOneStep) return `the float relaxation settles in one step (no state variable changes by more than ${s.tolerance} after step 1): the net behaves as a feed-forward network, and ${priced} priced steps repeat one pass`;
  if (s.settledAfterSteps !== null && s.settledAfterSteps < priced) return `the float relaxation settled after ${s.settledAfterSteps} steps (changes below ${s.tolerance}); ${priced} steps are priced`;
  return undefined;
}

/** The fields the summary JSON records. */
export function settlingRecord(s: Settling, emulatedSteps?: number) {
  const note = settlingNote(s, emulatedSteps);
  return { settled_after_steps: s.settledAfterSteps, priced_steps: emulatedSteps ?? s.pricedSteps, settled_in_one_step: s.settledInOneStep, settling_tolerance: s.tolerance, ...(note ? { note } : {}) };
}
