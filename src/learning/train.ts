/**
 * The training loop shared by every rule: shuffle (seeded, per epoch), cut batches, ask the rule for
 * directions, let the optimizer move the parameters, average the rule's metrics, and call back after each
 * epoch (evaluation, metrics.jsonl, checkpoints). One tidy scope per batch; the loop owns the parameter and
 * optimizer-state tensors it is given and returns the final ones (the caller disposes them).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../base/rng.js';
import { batches, shuffledOrder, toTensors, type Dataset, type ImageLayout } from '../data/index.js';
import type { Optimizer, OptimizerState, ParamMap } from './optimizers.js';
import type { LearningRule } from './rule.js';

export interface EpochReport {
  readonly epoch: number;
  /** Mean of each rule metric over the epoch's batches. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly seconds: number;
}

export interface TrainRequest {
  readonly params: ParamMap;
  readonly rule: LearningRule<ParamMap>;
  readonly optimizer: Optimizer;
  /** Resume from this state (default: optimizer.init). */
  readonly optimizerState?: OptimizerState;
  readonly data: Dataset;
  readonly layout: ImageLayout;
  readonly batchSize: number;
  readonly epochs: number;
  /** First epoch to run (0-based), for resuming; earlier epochs' shuffles are skipped, not replayed. */
  readonly startEpoch?: number;
  /** Use only the first n examples of `data` (default all). */
  readonly limit?: number;
  readonly rng: Rng;
  /**
   * A constraint applied after every optimizer step (projected gradient descent), e.g. renormalising
   * dictionary atoms to unit norm; runs inside the batch's tidy scope and returns the constrained parameters.
   */
  readonly project?: (params: ParamMap) => ParamMap;
  /** After each batch, with the number of examples in it and the number seen so far in this epoch. */
  readonly onBatch?: (examples: number, seenInEpoch: number) => void;
  /** After each epoch, with the current parameters and optimizer state (still owned by the loop). */
  readonly onEpoch?: (report: EpochReport, params: ParamMap, state: OptimizerState) => void | Promise<void>;
}

function disposeReplaced(old: ParamMap, next: ParamMap): void {
  const keep = new Set(Object.values(next));
  tf.dispose(Object.values(old).filter((t) => !keep.has(t)));
}

function stateTensors(state: OptimizerState): tf.Tensor[] {
  return Object.values(state.slots).flatMap((slot) => Object.values(slot));
}

export async function train(req: TrainRequest): Promise<{ params: ParamMap; state: OptimizerState }> {
  let params = req.params;
  let state = req.optimizerState ?? req.optimizer.init(params);
  const count = Math.min(req.limit ?? req.data.count, req.data.count);
  for (let epoch = req.startEpoch ?? 0; epoch < req.epochs; epoch++) {
    const start = performance.now();
    const order = shuffledOrder(count, req.rng.split(`shuffle-${epoch}`));
    const sums: Record<string, number> = {};
    let seen = 0;
    let batchIndex = 0;
    for (const indices of batches(order, req.batchSize)) {
      const batchRng = req.rng.split(`batch-${epoch}-${batchIndex++}`);
      const { x, y } = toTensors(req.data, { indices: Array.from(indices), layout: req.layout });
      const result = tf.tidy(() => {
        const out = req.rule.directions(params, { x, y: y as tf.Tensor1D, indices: Int32Array.from(indices) }, batchRng);
        const moved = req.optimizer.step(params, out.directions, state);
        const metrics = Object.entries(out.metrics ?? {});
        return { params: req.project ? req.project(moved.params) : moved.params, slots: moved.state.slots, names: metrics.map(([k]) => k), values: metrics.length ? tf.stack(metrics.map(([, v]) => v)) : tf.zeros([0]), step: moved.state.step };
      });
      tf.dispose([x, y]);
      const values = result.values.dataSync();
      result.values.dispose();
      result.names.forEach((name, i) => (sums[name] = (sums[name] ?? 0) + values[i]! * indices.length));
      seen += indices.length;
      const nextState: OptimizerState = { step: result.step, slots: result.slots };
      disposeReplaced(params, result.params);
      const keepState = new Set(stateTensors(nextState));
      tf.dispose(stateTensors(state).filter((t) => !keepState.has(t)));
      params = result.params;
      state = nextState;
      req.onBatch?.(indices.length, seen);
      // Let the event loop run between batches: timers, I/O and any signal handler a caller installs are
      // otherwise held back until the whole training returns.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const metrics = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, seen)]));
    await req.onEpoch?.({ epoch, metrics, seconds: (performance.now() - start) / 1000 }, params, state);
  }
  return { params, state };
}
