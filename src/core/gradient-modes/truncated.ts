/**
 * Truncated backpropagation: the whole solve runs with the tape paused, keeping the last K states; the
 * last K steps are then replayed from the state K steps before the end with the tape on. The replay is
 * deterministic, so the returned state is the same as without a gradient.
 */
import { withTapePaused } from '../../tensor/engine.js';
import type { Integrator } from '../integrators/integrator.js';
import type { SimulateRequest } from '../simulate.js';
import { runLoop, type StepLoopResult } from '../step-loop.js';
import { disposeTree, keepTree, tidyTree, type TensorTree } from '../tree.js';

export function solveTruncated<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  req: SimulateRequest<S, P, U>,
  integrator: Integrator,
  truncation: number,
  start: S,
  record: (state: S, step: number, final: boolean) => void,
  countStep: ((previous: S, next: S) => void) | undefined,
): StepLoopResult<S> {
  const ring: S[] = [];
  const result = withTapePaused(() => runLoop(req, integrator, start, record, countStep, ring, truncation));
  const replay = Math.min(truncation, result.steps);
  try {
    if (result.stopped === 'diverged' || replay === 0) return result;
    // ring holds the states before the last ring.length steps; the replay starts `replay` steps back.
    let state = ring[ring.length - replay]!;
    const dt = req.dt ?? 1;
    const t0 = req.t0 ?? 0;
    const first = result.steps - replay;
    // The replayed start must be a leaf the tape can see as a constant; it is, having been made paused.
    for (let k = first; k < result.steps; k++) {
      const current = state;
      state = keepTree(tidyTree(() => integrator.step(req.system, t0 + k * dt, dt, current, req.input, req.params, k)));
      if (k > first) disposeTree(current);
    }
    disposeTree(result.state);
    return { ...result, state };
  } finally {
    for (const s of ring) disposeTree(s);
  }
}

