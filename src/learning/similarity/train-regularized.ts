/**
 * Joint training with the similarity regularizer (Li et al. 2019, §3 and Fig. 3): every step takes one task
 * batch for the task loss and, next to it, one block of regularisation stimuli drawn from the target's
 * stimulus set, whose pairs i ≠ j enter the similarity loss; one gradient of the sum moves the network and
 * the layer logits γ together.
 *
 * The loop is train()'s (src/learning/train.ts: seeded shuffles `shuffle-<epoch>`, one tidy scope per batch,
 * the loop owns and returns the parameter and optimizer tensors) plus the regularizer's explicit state
 * (the running channel means of the descendant centring), which a LearningRule cannot carry. With the same
 * Rng, initial parameters and optimizer, arms with different targets (or none) see the same task batches in
 * the same order, and arms with targets of the same stimulus set see the same stimulus blocks.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../base/rng.js';
import { SpecError } from '../../base/errors.js';
import { batches, shuffledOrder, toTensors, type Dataset, type ImageLayout } from '../../data/index.js';
import type { Optimizer, OptimizerState, ParamMap } from '../optimizers.js';
import type { EpochReport } from '../train.js';
import type { LayerFeatures, RegularizerState, SimilarityRegularizer } from './regularizer.js';

/** A target restricted to what training needs: the stimulus images and S^target over them (row-major n × n). */
export interface StimulusTarget {
  readonly stimuli: Dataset;
  readonly matrix: Float32Array;
}

export interface RegularizedTrainRequest {
  readonly params: ParamMap;
  /** Parameters the gradient moves (include GAMMA_PARAM to learn γ). */
  readonly modifies: readonly string[];
  /** Mean task loss of a batch and its accuracy. */
  readonly taskLoss: (params: ParamMap, x: tf.Tensor, y: tf.Tensor1D) => { loss: tf.Scalar; accuracy: tf.Scalar };
  readonly features: LayerFeatures;
  /** Absent (or α = 0): the task loss alone, and no stimuli are drawn. */
  readonly regularizer?: SimilarityRegularizer;
  readonly target?: StimulusTarget;
  /** Stimuli per step; their n(n − 1) ordered pairs enter the loss. */
  readonly stimuliPerStep: number;
  readonly optimizer: Optimizer;
  readonly data: Dataset;
  readonly layout: ImageLayout;
  readonly batchSize: number;
  readonly epochs: number;
  readonly rng: Rng;
  readonly onBatch?: (examples: number) => void;
  readonly onEpoch?: (report: EpochReport, params: ParamMap) => void | Promise<void>;
}

/** n distinct indices of [0, count), a partial Fisher–Yates shuffle. */
export function drawStimuli(count: number, n: number, rng: Rng): number[] {
  const pool = Array.from({ length: count }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(count - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

/** The target's entries for the stimuli `rows`, as an n × n tensor. */
export function targetBlock(matrix: Float32Array, total: number, rows: readonly number[]): tf.Tensor2D {
  const n = rows.length;
  const block = new Float32Array(n * n);
  rows.forEach((r, i) => rows.forEach((c, j) => (block[i * n + j] = matrix[r * total + c]!)));
  return tf.tensor2d(block, [n, n]);
}

function stateTensors(state: OptimizerState): tf.Tensor[] {
  return Object.values(state.slots).flatMap((slot) => Object.values(slot));
}

export async function trainRegularized(req: RegularizedTrainRequest): Promise<{ params: ParamMap; state: OptimizerState }> {
  const regularized = req.regularizer !== undefined && req.regularizer.options.alpha > 0;
  if (regularized && !req.target) throw new SpecError('target', 'a regularized arm needs a target (stimuli and their similarity matrix)');
  const total = req.target?.stimuli.count ?? 0;
  if (regularized && (req.stimuliPerStep < 2 || req.stimuliPerStep > total)) {
    throw new SpecError('stimuliPerStep', `must lie in [2, ${total}] (the target has ${total} stimuli), got ${req.stimuliPerStep}`);
  }
  let params = req.params;
  let optState = req.optimizer.init(params);
  let regState: RegularizerState = req.regularizer?.initState() ?? { running: [] };
  for (let epoch = 0; epoch < req.epochs; epoch++) {
    const began = performance.now();
    const order = shuffledOrder(req.data.count, req.rng.split(`shuffle-${epoch}`));
    const sums: Record<string, number> = {};
    let seen = 0;
    let b = 0;
    for (const indices of batches(order, req.batchSize)) {
      const { x, y } = toTensors(req.data, { indices: Array.from(indices), layout: req.layout });
      let sx: tf.Tensor | undefined;
      let block: tf.Tensor2D | undefined;
      if (regularized) {
        const rows = drawStimuli(total, req.stimuliPerStep, req.rng.split(`stimuli-${epoch}-${b}`));
        const drawn = toTensors(req.target!.stimuli, { indices: rows, layout: req.layout });
        drawn.y.dispose();
        sx = drawn.x;
        block = targetBlock(req.target!.matrix, total, rows);
      }
      b++;
      const out = tf.tidy(() => {
        let kept: { task: tf.Scalar; accuracy: tf.Scalar; sim: tf.Scalar; running: (tf.Tensor1D | undefined)[] } | undefined;
        const xs = req.modifies.map((n) => {
          const p = params[n];
          if (!p) throw new SpecError('modifies', `no parameter ${JSON.stringify(n)}; the model has ${Object.keys(params).join(', ')}`);
          return p;
        });
        // engine().gradients with allowNoGradients: a parameter the loss does not reach (γ of an arm with
        // α = 0) gets a zero direction instead of an error.
        const { value, grads: raw } = tf.engine().gradients(() => {
          const p: ParamMap = params;
          const task = req.taskLoss(p, x, y as tf.Tensor1D);
          let lossValue = task.loss;
          let sim: tf.Scalar = tf.scalar(0);
          let running: (tf.Tensor1D | undefined)[] = [];
          if (regularized) {
            const r = req.regularizer!.loss(p, req.features, sx!, block!, regState);
            lossValue = tf.add(lossValue, r.loss) as tf.Scalar;
            sim = r.similarityLoss;
            running = [...r.state.running];
          }
          // valueAndGrads runs this in its own tidy that keeps only the loss: keep the extras past it.
          kept = { task: tf.keep(task.loss.clone()), accuracy: tf.keep(task.accuracy.clone()), sim: tf.keep(sim.clone()), running: running.map((t) => (t ? tf.keep(t.clone()) : t)) };
          return lossValue;
        }, xs, undefined, true);
        const grads = raw.map((g, i) => g ?? tf.zerosLike(xs[i]!));
        const moved = req.optimizer.step(params, Object.fromEntries(req.modifies.map((n, i) => [n, grads[i]!])), optState);
        const metrics = tf.stack([value, kept!.task, kept!.accuracy, kept!.sim]);
        return { params: moved.params, slots: moved.state.slots, step: moved.state.step, metrics, running: kept!.running, extras: [kept!.task, kept!.accuracy, kept!.sim] };
      });
      tf.dispose([x, y, ...(sx ? [sx] : []), ...(block ? [block] : []), ...out.extras]);
      const values = out.metrics.dataSync();
      out.metrics.dispose();
      ['loss', 'task_loss', 'train_accuracy', 'similarity_loss'].forEach((name, i) => (sums[name] = (sums[name] ?? 0) + values[i]! * indices.length));
      seen += indices.length;
      const keepParams = new Set(Object.values(out.params));
      tf.dispose(Object.values(params).filter((t) => !keepParams.has(t)));
      const nextState: OptimizerState = { step: out.step, slots: out.slots };
      const keepSlots = new Set(stateTensors(nextState));
      tf.dispose(stateTensors(optState).filter((t) => !keepSlots.has(t)));
      if (regularized && req.regularizer!.options.centring === 'running-channel-mean') {
        tf.dispose(regState.running.filter((t): t is tf.Tensor1D => t !== undefined));
        regState = { running: out.running };
      } else tf.dispose(out.running.filter((t): t is tf.Tensor1D => t !== undefined));
      params = out.params;
      optState = nextState;
      req.onBatch?.(indices.length);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const metrics = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, seen)]));
    await req.onEpoch?.({ epoch, metrics, seconds: (performance.now() - began) / 1000 }, params);
  }
  tf.dispose(regState.running.filter((t): t is tf.Tensor1D => t !== undefined));
  return { params, state: optState };
}
