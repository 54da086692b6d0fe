/**
 * simulate(): the one loop. Everything that relaxes, settles or runs a network in time goes through here,
 * so stop conditions, divergence detection, probes, event counting, memory and gradient modes behave the
 * same for every family.
 *
 * Memory: each step runs in its own synchronous `tf.tidy`; the previous state is disposed as soon as the
 * next exists. Inside an enclosing `tf.grad`, what the tape keeps depends on the gradient mode; each mode
 * lives in its own file under gradient-modes/ (as diffrax keeps its adjoints apart), over the step loop
 * of step-loop.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../tensor/gradients.js';
import { withTapePaused } from '../tensor/engine.js';
import { SpecError } from '../base/errors.js';
import { formatGradientMode, type GradientMode } from './gradient-mode.js';
import type { Integrator } from './integrators/integrator.js';
import { euler } from './integrators/euler.js';
import { map } from './integrators/map.js';
import { checkProbes, probeName, readProbe, type Probe, type Trace } from './probes.js';
import { makeSolution, type EventRecord, type Solution } from './solution.js';
import type { DynamicalSystem } from './system.js';
import { solveImplicit } from './gradient-modes/implicit.js';
import { solveTruncated } from './gradient-modes/truncated.js';
import { solveThroughLoop } from './gradient-modes/unrolled.js';
import type { StepLoopResult } from './step-loop.js';
import { disposeTree, keepTree, mapTree, tidyTree, type TensorTree } from './tree.js';

export interface ConvergeCondition {
  /** Stop when the largest absolute change per step falls below this. */
  readonly tolerance: number;
  /** What must stop changing: every state variable (default) or the per-example energy. */
  readonly on?: 'state' | 'energy';
  /** Do not stop before this many steps (default 1). */
  readonly minSteps?: number;
}

export interface SimulateRequest<S extends TensorTree, P extends TensorTree, U extends TensorTree> {
  readonly system: DynamicalSystem<S, P, U>;
  readonly params: P;
  readonly input: U;
  /** Default: `map` for discrete systems, `euler` for continuous ones. */
  readonly integrator?: Integrator;
  /** Step size (ignored by the discrete map; default 1). */
  readonly dt?: number;
  readonly t0?: number;
  readonly maxSteps: number;
  /** Initial state; default `system.initState(input, params)`. Not consumed: the caller still owns it. */
  readonly state0?: S;
  readonly probes?: readonly Probe[];
  readonly converge?: ConvergeCondition;
  /** Check for NaN/Inf (and convergence) every n steps (default 1); each check reads a few numbers back. */
  readonly checkEvery?: number;
  readonly gradient?: GradientMode;
  /** Record the system's `counts` at every step (for the hardware meter). */
  readonly countEvents?: boolean;
  /** Called after each step with the number of steps taken so far. */
  readonly onStep?: (steps: number) => void;
}

/** True inside an enclosing `tf.grad`/`tf.grads` (the tape is recording). */
export function isTapeRecording(): boolean {
  const state = tf.engine().state as unknown as { gradientDepth: number; kernelDepth: number };
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

function checkRequest(req: SimulateRequest<any, any, any>, integrator: Integrator): void {
  if (!(Number.isInteger(req.maxSteps) && req.maxSteps >= 1)) throw new SpecError('maxSteps', `must be a positive integer, got ${req.maxSteps}`);
  const dt = req.dt ?? 1;
  if (!(Number.isFinite(dt) && dt > 0)) throw new SpecError('dt', `must be a positive number, got ${dt}`);
  if (req.checkEvery !== undefined && !(Number.isInteger(req.checkEvery) && req.checkEvery >= 1)) {
    throw new SpecError('checkEvery', `must be a positive integer, got ${req.checkEvery}`);
  }
  if (req.converge && !(req.converge.tolerance > 0)) throw new SpecError('converge.tolerance', `must be positive, got ${req.converge.tolerance}`);
  if (req.converge?.on === 'energy' && !req.system.energy) throw new SpecError('converge.on', `${req.system.kind} has no energy; use 'state'`);
  if (integrator.accepts !== req.system.time) {
    throw new SpecError('integrator', `'${integrator.name}' integrates ${integrator.accepts} systems but ${req.system.kind} is ${req.system.time}`);
  }
  const mode = req.gradient;
  if (mode?.kind === 'truncated' && !(Number.isInteger(mode.steps) && mode.steps >= 1)) {
    throw new SpecError('gradient', `truncated(K) needs a positive integer K, got ${mode.steps}`);
  }
  if (req.countEvents && !req.system.counts) throw new SpecError('countEvents', `${req.system.kind} does not report event counts`);
}

function stopMessage(req: SimulateRequest<any, any, any>, result: StepLoopResult<any>, mode: GradientMode): string {
  const dt = req.dt ?? 1;
  switch (result.stopped) {
    case 'diverged': {
      const d = result.divergence!;
      const dtHint = req.system.time === 'continuous' ? `reduce dt (now ${dt}) or use a more stable integrator` : 'reduce the step size or gain of the update';
      return `${req.system.kind}: state variable '${d.variable}' became NaN or Inf at step ${d.step}; ${dtHint}, or check the parameters and input for NaN`;
    }
    case 'converged':
      return `converged after ${result.steps} steps (largest change ${result.lastChange.toExponential(2)} < tolerance ${req.converge!.tolerance})`;
    case 'max-steps': {
      if (!req.converge) return `ran ${result.steps} steps`;
      const implicit = mode.kind === 'implicit' ? '; the implicit gradient assumes a fixed point and will be inaccurate' : '';
      return `did not converge in ${result.steps} steps (largest change ${result.lastChange.toExponential(2)} ≥ tolerance ${req.converge.tolerance}); raise maxSteps or loosen the tolerance${implicit}`;
    }
  }
}

export function simulate<S extends TensorTree, P extends TensorTree, U extends TensorTree>(req: SimulateRequest<S, P, U>): Solution<S> {
  const integrator = req.integrator ?? (req.system.time === 'discrete' ? map : euler);
  checkRequest(req, integrator);
  const mode: GradientMode = req.gradient ?? { kind: 'none' };
  const taping = isTapeRecording();
  const probes = req.probes ?? [];
  const recorded = new Map<string, { values: tf.Tensor[]; steps: number[] }>();
  const perStep: Record<string, Record<string, number>>[] = [];
  let start: S | undefined;
  try {
    start = keepTree(
      tidyTree(() => (req.state0 ? mapTree(req.state0, (t) => t.clone()) : req.system.initState(req.input, req.params))),
    );
    checkProbes(req.system, start, probes);
  } catch (e) {
    disposeTree(start);
    throw e;
  }
  for (const p of probes) recorded.set(probeName(p), { values: [], steps: [] });
  const record = (state: S, step: number, final: boolean) => {
    for (const p of probes) {
      const r = recorded.get(probeName(p))!;
      if (r.steps[r.steps.length - 1] === step) continue;
      if (step % (p.every ?? 1) !== 0 && !final) continue;
      // A copy: a readout may return a state variable itself, which the loop frees after the next step.
      const read = () => tf.keep(tf.tidy(() => tf.clone(readProbe(p, req.system, state, req.input, req.params))));
      r.values.push(p.differentiable ? read() : withTapePaused(read));
      r.steps.push(step);
    }
  };
  // All counters of a step come back in one read (one device sync per step, not one per counter).
  const countStep = req.countEvents
    ? (previous: S, next: S) => {
        const names: [string, string][] = [];
        const packed = withTapePaused(() =>
          tf.tidy(() => {
            const counts = req.system.counts!(previous, next, req.input, req.params);
            const scalars: tf.Tensor[] = [];
            for (const [layer, counters] of Object.entries(counts)) {
              for (const [name, scalar] of Object.entries(counters)) {
                names.push([layer, name]);
                scalars.push(scalar.dtype === 'float32' ? scalar : tf.cast(scalar, 'float32'));
              }
            }
            // One stack, no per-counter cast/reshape kernels: on wasm each kernel call has a fixed cost.
            return scalars.length > 0 ? tf.stack(scalars) : tf.zeros([0]);
          }),
        );
        const values = packed.dataSync();
        packed.dispose();
        const row: Record<string, Record<string, number>> = {};
        names.forEach(([layer, name], i) => ((row[layer] ??= {})[name] = values[i]!));
        perStep.push(row);
      }
    : undefined;

  let result: StepLoopResult<S>;
  try {
    result = solve(req, integrator, mode, taping, start, record, countStep);
  } catch (e) {
    for (const r of recorded.values()) tf.dispose(r.values);
    throw e;
  }
  const traces: Record<string, Trace> = {};
  for (const [name, r] of recorded) {
    traces[name] = { values: tf.stack(r.values), steps: r.steps };
    tf.dispose(r.values);
  }
  const dt = req.dt ?? 1;
  const events: EventRecord | undefined = req.countEvents ? { perStep, total: sumCounts(perStep) } : undefined;
  return makeSolution({
    state: result.state,
    steps: result.steps,
    t: (req.t0 ?? 0) + result.steps * dt,
    stopped: result.stopped,
    message: stopMessage(req, result, mode) + (taping ? ` [gradient: ${formatGradientMode(mode)}]` : ''),
    lastChange: result.lastChange,
    ...(result.divergence ? { divergence: result.divergence } : {}),
    traces,
    ...(events ? { events } : {}),
  });
}

function sumCounts(perStep: readonly Record<string, Record<string, number>>[]): Record<string, Record<string, number>> {
  const total: Record<string, Record<string, number>> = {};
  for (const row of perStep) {
    for (const [layer, counters] of Object.entries(row)) {
      const t = (total[layer] ??= {});
      for (const [name, v] of Object.entries(counters)) t[name] = (t[name] ?? 0) + v;
    }
  }
  return total;
}

/** Dispatches on the gradient mode (one file each in gradient-modes/). Outside an enclosing gradient every mode runs with the tape paused. */
function solve<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  req: SimulateRequest<S, P, U>,
  integrator: Integrator,
  mode: GradientMode,
  taping: boolean,
  start: S,
  record: (state: S, step: number, final: boolean) => void,
  countStep: ((previous: S, next: S) => void) | undefined,
): StepLoopResult<S> {
  if (!taping || mode.kind === 'none') return solveThroughLoop(req, integrator, false, start, record, countStep);
  if (mode.kind === 'unrolled') return solveThroughLoop(req, integrator, true, start, record, countStep);
  if (mode.kind === 'truncated') return solveTruncated(req, integrator, mode.steps, start, record, countStep);
  return solveImplicit(req, integrator, mode, start, record, countStep);
}
