/**
 * Attractor diagnostics of an energy-based relaxation under attack (issue 18; Dibbo et al., seed 004:
 * "symmetric feedback gives global attractors, so a budget-limited attack may fail to leave the
 * attractor"). For a discrete system with an energy E and a readout, relaxed with simulate() from its own
 * initial state until the largest change per step falls below a tolerance:
 *
 * - `relaxationTrace`: per step t and example, the energy E(s_t), the step's change ‖s_{t+1} − s_t‖₂ (the
 *   residual of the map), the readout's class, and the distance ‖s_t − s_ref‖₂ to a reference state (the
 *   clean input's fixed point s*(x), so an adversarial relaxation shows where it leaves the clean attractor).
 * - `returnsToClean` (basin): relax under the clean input x starting from the adversarial fixed point
 *   s*(x + δ). If x has a single global attractor, every start returns to s*(x); ending elsewhere proves
 *   a second attractor of the clean energy landscape, so the attack moved the state into another basin.
 * - `attractorUniqueness`: relax x from `starts` random states of the box; the fraction of examples whose
 *   relaxations all end within `radius` of the one from rest (the empirical test of "global attractor").
 * - `energyAlongPath`: the energy at the fixed point reached from x + t·δ for t ∈ [0, 1], and the readout's
 *   margin there (true-class score minus the largest other): the landscape the attack walks across.
 *
 * Distances are Euclidean over all state variables together; energies are per example.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../base/rng.js';
import { uniformArray } from '../base/rng.js';
import { throwIfDiverged } from '../core/solution.js';
import { simulate } from '../core/simulate.js';
import type { DiscreteSystem } from '../core/system.js';
import { fromTensors, leafPaths, tensorsOf, type TensorTree } from '../core/tree.js';

export interface EnergyRelaxation<S extends TensorTree, P extends TensorTree, U extends TensorTree> {
  readonly system: DiscreteSystem<S, P, U> & { energy(state: S, input: U, params: P): tf.Tensor1D; readout(state: S, input: U, params: P): tf.Tensor };
  readonly params: P;
  /** The system's input for a batch of images (precomputed drives included). */
  readonly toInput: (x: tf.Tensor) => U;
  /** Class scores [batch, classes] from the readout. */
  readonly logitsOf?: (readout: tf.Tensor) => tf.Tensor2D;
  readonly maxSteps: number;
  readonly tolerance: number;
}

export interface RelaxationTrace {
  readonly examples: number;
  /** Steps the batch took (all examples relax together; the batch stops when the largest change does). */
  readonly steps: number;
  readonly stopped: string;
  /** [step][example], step 0 = the initial state. */
  readonly energy: readonly Float32Array[];
  /** [step][example] ‖s_t − s_{t−1}‖₂ (step 0: 0). */
  readonly change: readonly Float32Array[];
  /** [step][example] the readout's argmax. */
  readonly predicted: readonly Int32Array[];
  /** [step][example] ‖s_t − s_ref‖₂, when a reference was given. */
  readonly distance?: readonly Float32Array[];
  /** The final state (owned by the caller: dispose it). */
  readonly state: tf.Tensor[];
}

function rows(t: tf.Tensor): Float32Array[] {
  const [records, batch] = t.shape as [number, number];
  const data = t.dataSync() as Float32Array;
  return Array.from({ length: records }, (_, r) => Float32Array.from(data.subarray(r * batch, (r + 1) * batch)));
}

/** Per-example Euclidean distance between two lists of [batch, …] tensors (or [records, batch, …]). */
function distance(a: readonly tf.Tensor[], b: readonly tf.Tensor[], leading: number): tf.Tensor {
  return tf.tidy(() => {
    const sq = a.map((t, i) => {
      const d = tf.square(tf.sub(t, b[i]!));
      return tf.sum(tf.reshape(d, [...t.shape.slice(0, leading), -1]), leading);
    });
    return tf.sqrt(sq.length === 1 ? sq[0]! : tf.addN(sq));
  });
}

/**
 * Relaxes the batch from `state0` (default the system's initial state) under input x and records the
 * per-step energy, change, class and distance to `reference` (a list of tensors in leaf order).
 */
export function relaxationTrace<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  net: EnergyRelaxation<S, P, U>,
  x: tf.Tensor,
  options: { readonly reference?: readonly tf.Tensor[]; readonly state0?: S; readonly maxSteps?: number } = {},
): RelaxationTrace {
  const input = tf.tidy(() => net.toInput(x) as unknown as tf.TensorContainer) as unknown as U;
  const template = options.state0 ?? tf.tidy(() => net.system.initState(input, net.params) as unknown as tf.TensorContainer) as unknown as S;
  const paths = leafPaths(template);
  const solution = throwIfDiverged(
    simulate({
      system: net.system,
      params: net.params,
      input,
      maxSteps: options.maxSteps ?? net.maxSteps,
      converge: { tolerance: net.tolerance },
      state0: template,
      probes: [{ variable: 'energy' }, { variable: 'readout' }, ...paths.map((p) => ({ variable: p }))],
    }),
  );
  try {
    const traces = solution.traces;
    const stateTraces = paths.map((p) => traces[p]!.values);
    const energy = rows(traces.energy!.values);
    const predicted = tf.tidy(() => {
      const r = traces.readout!.values;
      const flat = tf.reshape(r, [r.shape[0]! * r.shape[1]!, ...r.shape.slice(2)]);
      const scores = net.logitsOf ? net.logitsOf(flat) : flat;
      return tf.reshape(tf.argMax(scores, 1), [r.shape[0]!, r.shape[1]!]);
    });
    const classData = predicted.dataSync() as Int32Array;
    const batch = x.shape[0]!;
    const records = energy.length;
    const predictedRows = Array.from({ length: records }, (_, r) => Int32Array.from(classData.subarray(r * batch, (r + 1) * batch)));
    predicted.dispose();
    const changeTensor = tf.tidy(() => {
      const previous = stateTraces.map((t) => tf.concat([tf.slice(t, [0], [1]), tf.slice(t, [0], [t.shape[0]! - 1])]));
      return distance(stateTraces, previous, 2);
    });
    const change = rows(changeTensor);
    changeTensor.dispose();
    let distanceRows: Float32Array[] | undefined;
    if (options.reference) {
      const d = tf.tidy(() => distance(stateTraces, options.reference!.map((r) => tf.expandDims(r, 0)), 2));
      distanceRows = rows(d);
      d.dispose();
    }
    const state = tensorsOf(solution.state).map((t) => t.clone());
    return { examples: batch, steps: solution.steps, stopped: solution.stopped, energy, change, predicted: predictedRows, ...(distanceRows ? { distance: distanceRows } : {}), state };
  } finally {
    solution.dispose();
    if (!options.state0) tf.dispose(tensorsOf(template));
    tf.dispose(tensorsOf(input).filter((t) => t !== x));
  }
}

/** The state tree of the system from a list of tensors in leaf order (for `state0`). */
export function stateFrom<S extends TensorTree, P extends TensorTree, U extends TensorTree>(net: EnergyRelaxation<S, P, U>, x: tf.Tensor, tensors: readonly tf.Tensor[]): S {
  const template = tf.tidy(() => {
    const input = net.toInput(x);
    return net.system.initState(input, net.params) as unknown as tf.TensorContainer;
  }) as unknown as S;
  const out = fromTensors(template, tensors);
  tf.dispose(tensorsOf(template));
  return out;
}

export interface BasinReport {
  /** Per example: ‖s_end − s*(x)‖₂ after relaxing under x from the adversarial fixed point. */
  readonly distance: Float32Array;
  /** Per example: whether it came back within `radius`. */
  readonly returned: Uint8Array;
  /** Per example: the class the clean input's relaxation ends in from there. */
  readonly predicted: Int32Array;
}

/** Relaxes under the clean x from `start` (e.g. the adversarial fixed point) and compares with s*(x). */
export function returnsToClean<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  net: EnergyRelaxation<S, P, U>,
  x: tf.Tensor,
  cleanFixedPoint: readonly tf.Tensor[],
  start: readonly tf.Tensor[],
  radius: number,
): BasinReport {
  const state0 = stateFrom(net, x, start);
  const trace = relaxationTrace(net, x, { reference: cleanFixedPoint, state0 });
  const last = trace.distance![trace.distance!.length - 1]!;
  tf.dispose(trace.state);
  return { distance: last, returned: Uint8Array.from(last, (d) => (d <= radius ? 1 : 0)), predicted: trace.predicted[trace.predicted.length - 1]! };
}

export interface UniquenessReport {
  readonly starts: number;
  /** Fraction of examples whose every random start ends within `radius` of the fixed point from rest. */
  readonly unique: number;
  /** Largest distance from the fixed point from rest over starts, per example. */
  readonly maxDistance: Float32Array;
  /** Fraction of examples where some start ends in a different class. */
  readonly classChanges: number;
}

/** Relaxes x from `starts` random states uniform in [low, high] and compares with the fixed point from rest. */
export function attractorUniqueness<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  net: EnergyRelaxation<S, P, U>,
  x: tf.Tensor,
  box: readonly [number, number],
  starts: number,
  radius: number,
  rng: Rng,
): UniquenessReport {
  const rest = relaxationTrace(net, x);
  const restClass = rest.predicted[rest.predicted.length - 1]!;
  const batch = x.shape[0]!;
  const maxDistance = new Float32Array(batch);
  const changed = new Uint8Array(batch);
  for (let k = 0; k < starts; k++) {
    const random = rest.state.map((t, leaf) => tf.tensor(uniformArray(rng.split(`start-${k}-leaf-${leaf}`), t.size, box[0], box[1]), t.shape));
    const report = returnsToClean(net, x, rest.state, random, radius);
    tf.dispose(random);
    report.distance.forEach((d, i) => (maxDistance[i] = Math.max(maxDistance[i]!, d)));
    report.predicted.forEach((c, i) => (changed[i] = changed[i]! | (c !== restClass[i] ? 1 : 0)));
  }
  tf.dispose(rest.state);
  const unique = maxDistance.reduce((s, d) => s + (d <= radius ? 1 : 0), 0) / batch;
  return { starts, unique, maxDistance, classChanges: changed.reduce((s, c) => s + c, 0) / batch };
}

export interface PathPoint {
  readonly t: number;
  /** Per example. */
  readonly energy: Float32Array;
  readonly margin: Float32Array;
  readonly steps: number;
}

/** Energy and readout margin at the fixed point reached from x + t·δ (t in `ts`), relaxed from rest. */
export function energyAlongPath<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  net: EnergyRelaxation<S, P, U>,
  x: tf.Tensor,
  adversarial: tf.Tensor,
  labels: Int32Array,
  ts: readonly number[],
): PathPoint[] {
  return ts.map((t) => {
    const point = tf.tidy(() => tf.add(x, tf.mul(tf.sub(adversarial, x), t)));
    const trace = relaxationTrace(net, point);
    const energy = trace.energy[trace.energy.length - 1]!;
    const margin = tf.tidy(() => {
      const input = net.toInput(point);
      const state = fromTensors(net.system.initState(input, net.params), trace.state);
      const readout = net.system.readout(state, input, net.params);
      const scores = net.logitsOf ? net.logitsOf(readout) : readout;
      const classes = scores.shape[1]!;
      const own = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32');
      const trueScore = tf.sum(tf.mul(scores, own), 1);
      const other = tf.max(tf.sub(scores, tf.mul(own, 1e9)), 1);
      return tf.sub(trueScore, other);
    });
    const m = Float32Array.from(margin.dataSync());
    tf.dispose([point, margin, ...trace.state]);
    return { t, energy, margin: m, steps: trace.steps };
  });
}
