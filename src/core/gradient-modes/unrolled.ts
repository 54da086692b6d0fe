/**
 * The modes without a backward pass of their own: `none` runs the loop with the tape paused (no gradient
 * reaches anything), `unrolled` runs it with the tape on, so an enclosing tf.grad backpropagates through
 * every step (BPTT: exact for the computation that was run, memory linear in the steps).
 */
import { withTapePaused } from '../../tensor/engine.js';
import type { Integrator } from '../integrators/integrator.js';
import type { SimulateRequest } from '../simulate.js';
import { runLoop, type StepLoopResult } from '../step-loop.js';
import { disposeTree, type TensorTree } from '../tree.js';

export function solveThroughLoop<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  req: SimulateRequest<S, P, U>,
  integrator: Integrator,
  tapeOn: boolean,
  start: S,
  record: (state: S, step: number, final: boolean) => void,
  countStep: ((previous: S, next: S) => void) | undefined,
): StepLoopResult<S> {
  // The convergence check compares consecutive states, so the loop keeps one previous state whenever a
  // state-change criterion is in force.
  const needsPrevious = req.converge !== undefined && (req.converge.on ?? 'state') === 'state';
  const ring: S[] | undefined = needsPrevious ? [] : undefined;
  const run = () => runLoop(req, integrator, start, record, countStep, ring, 1);
  try {
    return tapeOn ? run() : withTapePaused(run);
  } finally {
    for (const s of ring ?? []) disposeTree(s);
  }
}
