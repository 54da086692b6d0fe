/**
 * The attack interface, and the best-iterate bookkeeping shared by the iterative attacks.
 *
 * An attack gets an AttackModel (the defender's logits, and the gradient as the attacker computes it), a
 * batch of clean inputs with their labels, a threat model and a seeded Rng, and returns for every example
 * the best point it found inside the threat model and whether the defender misclassifies it there. "Best"
 * is the first misclassified point found, or else the point of highest loss; the last iterate is never
 * reported in its place (Carlini et al. 2019: report the best iterate).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../base/rng.js';
import type { AttackModel } from './attack-model.js';
import { misclassified } from './losses.js';
import type { ThreatModel } from './threat-model.js';

export interface AttackRequest {
  readonly model: AttackModel;
  /** Clean inputs [batch, ...]. */
  readonly x: tf.Tensor;
  /** int32 labels [batch]. */
  readonly labels: tf.Tensor1D;
  readonly threat: ThreatModel;
  readonly rng: Rng;
}

export interface AttackResult {
  /** The best point per example, inside the threat model; owned by the caller. */
  readonly adversarial: tf.Tensor;
  /** 1 where the defender misclassifies `adversarial`. */
  readonly fooled: Uint8Array;
}

export interface Attack {
  readonly name: string;
  /** white-box: uses gradients; gradient-free: only the defender's outputs; transfer: gradients of another model. */
  readonly access: 'white-box' | 'gradient-free' | 'transfer';
  run(request: AttackRequest): AttackResult;
}

/**
 * Per-example best point so far. Owns its tensors; `offer` takes candidates with their loss and fooled flags
 * and keeps, per example, a fooled point over an unfooled one, and among unfooled points the one of highest
 * loss.
 */
export class BestIterate {
  private point: tf.Tensor;
  private loss: Float32Array;
  readonly fooled: Uint8Array;

  constructor(start: tf.Tensor, loss: ArrayLike<number>, fooled: Uint8Array) {
    this.point = tf.keep(start.clone());
    this.loss = Float32Array.from(loss);
    this.fooled = Uint8Array.from(fooled);
  }

  /** Considers `candidate`; returns the per-example mask of examples whose best point changed. */
  offer(candidate: tf.Tensor, loss: ArrayLike<number>, fooled: Uint8Array): Uint8Array {
    const take = new Uint8Array(fooled.length);
    let any = false;
    for (let i = 0; i < fooled.length; i++) {
      const better = this.fooled[i] ? false : fooled[i] ? true : loss[i]! > this.loss[i]!;
      if (better) {
        take[i] = 1;
        any = true;
        this.loss[i] = loss[i]!;
        if (fooled[i]) this.fooled[i] = 1;
      }
    }
    if (any) {
      const next = tf.tidy(() => {
        const mask = tf.reshape(tf.tensor1d(take, 'bool'), [fooled.length, ...candidate.shape.slice(1).map(() => 1)]);
        return tf.where(tf.broadcastTo(mask, candidate.shape), candidate, this.point);
      });
      this.point.dispose();
      this.point = tf.keep(next);
    }
    return take;
  }

  get bestLoss(): Float32Array {
    return this.loss;
  }

  /** The best points (a new tensor owned by the caller). */
  points(): tf.Tensor {
    return this.point.clone();
  }

  dispose(): void {
    this.point.dispose();
  }
}

/** Fooled flags and per-example loss values of logits, read back in one go. */
export function judge(logits: tf.Tensor2D, labels: tf.Tensor1D, loss: tf.Tensor1D): { fooled: Uint8Array; loss: Float32Array } {
  return { fooled: misclassified(logits, labels), loss: loss.dataSync() as Float32Array };
}

/** Indices where `flags` is 0. */
export function unflagged(flags: Uint8Array): number[] {
  const out: number[] = [];
  flags.forEach((f, i) => {
    if (!f) out.push(i);
  });
  return out;
}

/** Writes rows `indices` of `part` into `whole` (new tensor; the arguments are not consumed). */
export function scatterRows(whole: tf.Tensor, indices: readonly number[], part: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = whole.shape[0]!;
    const position = new Int32Array(n).fill(-1);
    indices.forEach((row, k) => (position[row] = k));
    const mask = new Uint8Array(n);
    const source = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      mask[i] = position[i]! >= 0 ? 1 : 0;
      source[i] = Math.max(0, position[i]!);
    }
    const gathered = tf.gather(part, tf.tensor1d(source, 'int32'));
    const m = tf.broadcastTo(tf.reshape(tf.tensor1d(mask, 'bool'), [n, ...whole.shape.slice(1).map(() => 1)]), whole.shape);
    return tf.where(m, gathered, whole);
  });
}

export function gatherRows<T extends tf.Tensor>(t: T, indices: readonly number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(Int32Array.from(indices), 'int32'))) as T;
}
