/**
 * simulate(): the one loop. Everything that relaxes, settles or runs a network in time goes through here,
 * so stop conditions, divergence detection, probes, event counting, memory and gradient modes behave the
 * same for every family.
 *
 * Memory: each step runs in its own synchronous `tf.tidy`; the previous state is disposed as soon as the
 * next exists. Inside an enclosing `tf.grad`, what the tape keeps depends on the gradient mode.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../tensor/gradients.js';
import { withIsolatedTape, withTapePaused } from '../tensor/engine.js';
import { SpecError } from '../base/errors.js';
import { formatGradientMode, type GradientMode } from './gradient-mode.js';
import type { Integrator } from './integrators/integrator.js';
import { euler } from './integrators/euler.js';
import { map } from './integrators/map.js';
import { checkProbes, probeName, readProbe, type Probe, type Trace } from './probes.js';
import { makeSolution, type EventRecord, type Solution, type StopReason } from './solution.js';
import type { DynamicalSystem } from './system.js';
import { disposeTree, fromTensors, keepTree, leaves, mapTree, tensorsOf, type TensorTree } from './tree.js';

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

interface StepLoopResult<S> {
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
function runLoop<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
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
      const next = tf.tidy(() => integrator.step(system, t0 + k * dt, dt, state, input, params, k) as tf.TensorContainer) as unknown as S;
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
      tf.tidy(() => (req.state0 ? mapTree(req.state0, (t) => t.clone()) : req.system.initState(req.input, req.params)) as tf.TensorContainer) as unknown as S,
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

/** Dispatches on the gradient mode. Outside an enclosing gradient every mode runs with the tape paused. */
function solve<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  req: SimulateRequest<S, P, U>,
  integrator: Integrator,
  mode: GradientMode,
  taping: boolean,
  start: S,
  record: (state: S, step: number, final: boolean) => void,
  countStep: ((previous: S, next: S) => void) | undefined,
): StepLoopResult<S> {
  // The convergence check compares consecutive states, so the loop keeps one previous state whenever a
  // state-change criterion is in force.
  const needsPrevious = req.converge !== undefined && (req.converge.on ?? 'state') === 'state';
  const plain = (tapeOn: boolean) => {
    const ring: S[] | undefined = needsPrevious ? [] : undefined;
    const run = () => runLoop(req, integrator, start, record, countStep, ring, 1);
    try {
      return tapeOn ? run() : withTapePaused(run);
    } finally {
      for (const s of ring ?? []) disposeTree(s);
    }
  };
  if (!taping || mode.kind === 'none') return plain(false);
  if (mode.kind === 'unrolled') return plain(true);
  if (mode.kind === 'truncated') return solveTruncated(req, integrator, mode.steps, start, record, countStep);
  return solveImplicit(req, integrator, mode, start, record, countStep);
}

/**
 * Truncated backpropagation: the whole solve runs with the tape paused, keeping the last K states; the
 * last K steps are then replayed from the state K steps before the end with the tape on. The replay is
 * deterministic, so the returned state is the same as without a gradient.
 */
function solveTruncated<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
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
      state = keepTree(tf.tidy(() => integrator.step(req.system, t0 + k * dt, dt, current, req.input, req.params, k) as tf.TensorContainer) as unknown as S);
      if (k > first) disposeTree(current);
    }
    disposeTree(result.state);
    return { ...result, state };
  } finally {
    for (const s of ring) disposeTree(s);
  }
}

/**
 * Implicit differentiation at the fixed point. The forward solve runs with the tape paused; the fixed
 * point is then passed through a `customGrad` whose backward pass solves the adjoint equation
 * w = v + (∂F/∂s)ᵀ w by fixed-point iteration and returns (∂F/∂θ)ᵀ w for every input and parameter leaf.
 */
function solveImplicit<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  req: SimulateRequest<S, P, U>,
  integrator: Integrator,
  mode: Extract<GradientMode, { kind: 'implicit' }>,
  start: S,
  record: (state: S, step: number, final: boolean) => void,
  countStep: ((previous: S, next: S) => void) | undefined,
): StepLoopResult<S> {
  const needsPrevious = req.converge !== undefined && (req.converge.on ?? 'state') === 'state';
  const ring: S[] | undefined = needsPrevious ? [] : undefined;
  let result: StepLoopResult<S>;
  try {
    result = withTapePaused(() => runLoop(req, integrator, start, record, countStep, ring, 1));
  } finally {
    for (const s of ring ?? []) disposeTree(s);
  }
  if (result.stopped === 'diverged') return result;

  const fixedPoint = result.state;
  const stateLeaves = leaves(fixedPoint);
  const inputLeaves = tensorsOf(req.input);
  const paramLeaves = tensorsOf(req.params);
  const thetas = [...inputLeaves, ...paramLeaves];
  const dt = req.dt ?? 1;
  const t = (req.t0 ?? 0) + result.steps * dt;
  const k = result.steps;
  const tolerance = mode.tolerance ?? req.converge?.tolerance ?? 1e-6;
  const maxIterations = mode.maxIterations ?? req.maxSteps;
  const F = (s: S, theta: readonly tf.Tensor[]): S =>
    integrator.step(
      req.system,
      t,
      dt,
      s,
      fromTensors(req.input, theta.slice(0, inputLeaves.length)),
      fromTensors(req.params, theta.slice(inputLeaves.length)),
      k,
    );
  const dot = (a: S, w: readonly tf.Tensor[]) => tf.addN(leaves(a).map((l, i) => tf.sum(tf.mul(l.tensor, w[i]!))));
  const gradientsOf = (f: () => tf.Scalar, xs: tf.Tensor[]) =>
    (tf.engine().gradients(f, xs, undefined, true).grads as (tf.Tensor | undefined)[]).map((g, i) => g ?? tf.zerosLike(xs[i]!));

  const stateCount = stateLeaves.length;
  const flat = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // The backward pass runs after the enclosing forward scope has ended, so everything it reads (the fixed
    // point and the input and parameter values) is saved through tfjs, which keeps copies until it is done.
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([...stateLeaves.map((l) => l.tensor), ...thetas]);
    const value = tf.concat(stateLeaves.map((l) => tf.reshape(l.tensor, [-1])));
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      withIsolatedTape(() => {
        const sStar = fromTensors(fixedPoint, saved.slice(0, stateCount));
        const thetaStar = saved.slice(stateCount);
        const v = unflatten(dy, stateLeaves);
        let w = v.map((x) => tf.keep(x.clone()));
        for (let it = 0; it < maxIterations; it++) {
          const wPrev = w;
          const next = tf.tidy(() => {
            const sVars = tensorsOf(sStar).map((x) => x.clone());
            const jtw = gradientsOf(() => dot(F(fromTensors(fixedPoint, sVars), thetaStar), wPrev) as tf.Scalar, sVars);
            return v.map((vi, i) => tf.add(vi, jtw[i]!));
          });
          const stats = tf.tidy(() => {
            const c = tf.max(tf.stack(next.map((n, i) => tf.max(tf.abs(tf.sub(n, wPrev[i]!))))));
            const m = tf.max(tf.stack(next.map((n) => tf.max(tf.abs(n)))));
            return tf.stack([c, m]);
          });
          const [change, scale] = stats.dataSync();
          stats.dispose();
          w = next.map((x) => tf.keep(x));
          tf.dispose(wPrev);
          if (change! <= tolerance * Math.max(1, scale!)) break;
        }
        const grads = tf.tidy(() => {
          const thetaVars = thetaStar.map((x) => x.clone());
          return gradientsOf(() => dot(F(sStar, thetaVars), w) as tf.Scalar, thetaVars);
        });
        tf.dispose(w);
        tf.dispose(v);
        return grads;
      });
    return { value, gradFunc };
  });
  const attached = tf.tidy(() => {
    return fromTensors(fixedPoint, unflatten(flat(...thetas), stateLeaves)) as tf.TensorContainer;
  }) as unknown as S;
  keepTree(attached);
  disposeTree(fixedPoint);
  return { ...result, state: attached };
}

/** Cuts a flat vector into tensors shaped like `like` (slices rather than split: tfjs's SplitV gradient fails for one part). */
function unflatten(flat: tf.Tensor, like: readonly { tensor: tf.Tensor }[]): tf.Tensor[] {
  let offset = 0;
  return like.map(({ tensor }) => {
    const part = tf.reshape(tf.slice(flat, [offset], [tensor.size]), tensor.shape);
    offset += tensor.size;
    return part;
  });
}
