/**
 * A learning rule turns one batch into descent directions for the parameters it modifies. It declares,
 * as data, which parameters it modifies and which phases it settles the system in (Nengo's `modifies`, EP's
 * free and nudged phases), so the locality of a rule is visible and testable. How it settles (simulate(),
 * the number of steps, the gradient mode) is configured when the rule is built; the trainer only calls
 * `directions`, inside one tidy scope per batch, and hands the result to an optimizer.
 *
 * Backprop/BPTT is one more rule over the same system, so a comparison uses the same code path for
 * everything but the update.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../base/rng.js';
import type { TensorTree } from '../core/tree.js';

export interface Batch {
  /** Inputs, e.g. images [batch, 784] or [batch, 28, 28, 1]. */
  readonly x: tf.Tensor;
  /** Integer class labels [batch] (int32), where the task has them. */
  readonly y?: tf.Tensor1D;
  /** Positions of these examples in the dataset (for rules that keep per-example state, e.g. EP's persistent particles). */
  readonly indices?: Int32Array;
}

export interface RuleOutput {
  /** One tensor per modified parameter path, shaped like it: the optimizer moves the parameter against it. */
  readonly directions: Readonly<Record<string, tf.Tensor>>;
  /** Scalars to log per batch (loss, energy, fraction active ...). */
  readonly metrics?: Readonly<Record<string, tf.Scalar>>;
}

export interface LearningRule<P extends TensorTree> {
  readonly name: string;
  /** Dotted paths of the parameters it updates. */
  readonly modifies: readonly string[];
  /** Phases it settles per batch, in order (e.g. ['free', 'nudged']); [] for a feed-forward rule. */
  readonly phases: readonly string[];
  directions(params: P, batch: Batch, rng: Rng): RuleOutput;
}
