/**
 * Backprop as a learning rule: the directions are the gradients of a scalar loss of (params, batch). When
 * the loss relaxes a system with simulate() in the `unrolled` gradient mode, this is BPTT through the
 * dynamics; with `truncated(k)` or `implicit`, the matching approximation. Everything else (data, batches,
 * optimizer, evaluation) is shared with the local rules it is compared with.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../tensor/gradients.js';
import type { Batch, LearningRule, RuleOutput } from './rule.js';
import type { ParamMap } from './optimizers.js';
import type { Rng } from '../base/rng.js';

export interface BackpropOptions {
  readonly name?: string;
  /** Parameters to differentiate with respect to (default: all). */
  readonly modifies: readonly string[];
  /** Mean loss over the batch, plus optional extra scalars to log. */
  readonly loss: (params: ParamMap, batch: Batch, rng: Rng) => { loss: tf.Scalar; metrics?: Record<string, tf.Scalar> };
}

export function backprop(options: BackpropOptions): LearningRule<ParamMap> {
  return Object.freeze({
    name: options.name ?? 'backprop',
    modifies: options.modifies,
    phases: [],
    directions(params: ParamMap, batch: Batch, rng: Rng): RuleOutput {
      const names = options.modifies;
      let extra: Record<string, tf.Scalar> = {};
      const { value, grads } = valueAndGradsOf(params, names, (p) => {
        const out = options.loss(p, batch, rng);
        // tfjs runs f in its own tidy that keeps only the loss: keep the extra metrics past it, then hand
        // copies to the caller's scope (a kept tensor would escape every enclosing tidy).
        extra = Object.fromEntries(Object.entries(out.metrics ?? {}).map(([k, v]) => [k, tf.keep(v === out.loss ? v.clone() : v)]));
        return out.loss;
      });
      const metrics = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v.clone()]));
      tf.dispose(Object.values(extra));
      return { directions: Object.fromEntries(names.map((n, i) => [n, grads[i]!])), metrics: { loss: value, ...metrics } };
    },
  });
}

/** Value and gradients of f with respect to the named parameters (the others are held constant). */
function valueAndGradsOf(params: ParamMap, names: readonly string[], f: (p: ParamMap) => tf.Scalar): { value: tf.Scalar; grads: tf.Tensor[] } {
  const xs = names.map((n) => params[n]!);
  return tf.valueAndGrads((...args: tf.Tensor[]) => f({ ...params, ...Object.fromEntries(names.map((n, i) => [n, args[i]!])) }))(xs) as {
    value: tf.Scalar;
    grads: tf.Tensor[];
  };
}
