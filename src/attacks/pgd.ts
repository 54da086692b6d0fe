/**
 * FGSM and PGD.
 *
 * FGSM (Goodfellow et al. 2015): one step of size ε along the steepest-ascent direction of the loss,
 * x' = P_S(x + ε · sign(∇ₓL)) for L∞ (ε · ∇ₓL/‖∇ₓL‖₂ for L2).
 *
 * PGD (Madry et al. 2018): from a random point of S(x) (or x itself), N steps
 * x_{k+1} = P_S(x_k + α · sign(∇ₓL(x_k))), α = 2.5 ε / N by default (the step Carlini et al. 2019
 * recommend, so that N steps can cross the ball and back), with R restarts. The loss is cross-entropy,
 * the CW margin or DLR (`losses.ts`). The point reported per example is the best iterate over all steps and
 * restarts (first misclassified point, else highest loss), never the last.
 *
 * Work is shared: examples that are misclassified drop out of the batch as soon as they are found, and a
 * restart runs only on the examples no earlier restart has broken.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import { BestIterate, gatherRows, judge, scatterRows, unflagged, type Attack, type AttackRequest, type AttackResult } from './attack.js';
import type { AttackModel } from './attack-model.js';
import { attackLoss, type LossKind } from './losses.js';
import { epsilonTensor, project, randomStart, restrictThreat, steepestAscent, type ThreatModel } from './threat-model.js';

/** Evaluates the clean points and opens the per-example best-iterate record with them. */
export function startFromClean(model: AttackModel, x: tf.Tensor, labels: tf.Tensor1D, loss: LossKind): BestIterate {
  const logits = model.logits(x);
  const values = attackLoss(loss, logits, labels);
  const { fooled, loss: l } = judge(logits, labels, values);
  tf.dispose([logits, values]);
  return new BestIterate(x, l, fooled);
}

/** Offers points for the examples `rows` of the full batch to `best`. */
export function offerRows(best: BestIterate, rows: readonly number[], points: tf.Tensor, loss: ArrayLike<number>, fooled: Uint8Array): void {
  const n = best.fooled.length;
  const fullLoss = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
  const fullFooled = new Uint8Array(n);
  rows.forEach((row, k) => {
    fullLoss[row] = loss[k]!;
    fullFooled[row] = fooled[k]!;
  });
  const current = best.points();
  const candidate = scatterRows(current, rows, points);
  current.dispose();
  best.offer(candidate, fullLoss, fullFooled);
  candidate.dispose();
}

export interface FgsmOptions {
  readonly loss?: LossKind;
}

export function fgsm(options: FgsmOptions = {}): Attack {
  const lossKind = options.loss ?? 'ce';
  return {
    name: 'fgsm',
    access: 'white-box',
    run({ model, x, labels, threat }: AttackRequest): AttackResult {
      const best = startFromClean(model, x, labels, lossKind);
      const { gradient, logits } = model.gradient(x, labels, lossKind);
      logits.dispose();
      const candidate = tf.tidy(() => project(tf.add(x, tf.mul(steepestAscent(gradient, threat.norm), epsilonTensor(threat, x.shape))), x, threat));
      gradient.dispose();
      const after = model.logits(candidate);
      const values = attackLoss(lossKind, after, labels);
      const { fooled, loss } = judge(after, labels, values);
      best.offer(candidate, loss, fooled);
      tf.dispose([candidate, after, values]);
      const result = { adversarial: best.points(), fooled: Uint8Array.from(best.fooled) };
      best.dispose();
      return result;
    },
  };
}

export interface PgdOptions {
  readonly steps?: number;
  /** α / ε (default 2.5 / steps). */
  readonly relativeStepSize?: number;
  readonly loss?: LossKind;
  readonly randomStart?: boolean;
  readonly restarts?: number;
  readonly name?: string;
}

export function checkPositiveInteger(value: number, path: string): void {
  if (!(Number.isInteger(value) && value >= 1)) throw new SpecError(path, `must be a positive integer, got ${value}`);
}

export function pgd(options: PgdOptions = {}): Attack {
  const steps = options.steps ?? 40;
  const restarts = options.restarts ?? 1;
  const lossKind = options.loss ?? 'ce';
  checkPositiveInteger(steps, 'pgd.steps');
  checkPositiveInteger(restarts, 'pgd.restarts');
  const relative = options.relativeStepSize ?? 2.5 / steps;
  if (!(relative > 0)) throw new SpecError('pgd.relativeStepSize', `must be positive, got ${relative}`);
  const useRandomStart = options.randomStart ?? true;
  return {
    name: options.name ?? `pgd-${lossKind}-${steps}${restarts > 1 ? `x${restarts}` : ''}`,
    access: 'white-box',
    run({ model, x, labels, threat, rng }: AttackRequest): AttackResult {
      const best = startFromClean(model, x, labels, lossKind);
      try {
        for (let r = 0; r < restarts; r++) {
          const rows = unflagged(best.fooled);
          if (rows.length === 0) break;
          runPgd(model, best, rows, x, labels, threat, {
            steps,
            relative,
            lossKind,
            start: useRandomStart ? 'random' : 'clean',
            rng: rng.split(`restart-${r}`),
          });
        }
        return { adversarial: best.points(), fooled: Uint8Array.from(best.fooled) };
      } finally {
        best.dispose();
      }
    },
  };
}

interface PgdRun {
  readonly steps: number;
  readonly relative: number;
  readonly lossKind: LossKind;
  readonly start: 'random' | 'clean';
  readonly rng: import('../base/rng.js').Rng;
}

/** One PGD run on the examples `rows0` of the batch, offering every iterate to `best`. */
function runPgd(model: AttackModel, best: BestIterate, rows0: readonly number[], xAll: tf.Tensor, labelsAll: tf.Tensor1D, threatAll: ThreatModel, run: PgdRun): void {
  let rows = [...rows0];
  let x = gatherRows(xAll, rows);
  let labels = gatherRows(labelsAll, rows);
  let threat = restrictThreat(threatAll, rows);
  let current = run.start === 'random' ? randomStart(x, threat, run.rng) : x.clone();
  try {
    for (let k = 0; k <= run.steps && rows.length > 0; k++) {
      const last = k === run.steps;
      let gradient: tf.Tensor | undefined;
      let logits: tf.Tensor2D;
      if (last) logits = model.logits(current);
      else ({ gradient, logits } = model.gradient(current, labels, run.lossKind));
      const values = attackLoss(run.lossKind, logits, labels);
      const { fooled, loss } = judge(logits, labels, values);
      tf.dispose([logits, values]);
      offerRows(best, rows, current, loss, fooled);
      if (last) break;
      const next = tf.tidy(() => project(tf.add(current, tf.mul(steepestAscent(gradient!, threat.norm), tf.mul(epsilonTensor(threat, x.shape), run.relative))), x, threat));
      gradient!.dispose();
      current.dispose();
      current = next;
      // Examples already broken leave the batch.
      const keep = unflagged(fooled);
      if (keep.length < rows.length) {
        const shrink = <T extends tf.Tensor>(t: T): T => {
          const out = gatherRows(t, keep);
          t.dispose();
          return out;
        };
        if (keep.length === 0) {
          rows = [];
          break;
        }
        current = shrink(current);
        x = shrink(x);
        labels = shrink(labels);
        threat = restrictThreat(threat, keep);
        rows = keep.map((k2) => rows[k2]!);
      }
    }
  } finally {
    tf.dispose([x, labels, current]);
  }
}
