/**
 * Persistent particles (Scellier & Bengio 2017, train_model.py): every training example keeps the free
 * state it last relaxed to, and its next free phase starts there instead of from zeros, so that a short
 * free phase continues an earlier relaxation. The store is explicit data owned by whoever trains (it is
 * part of a checkpoint), one Float32Array per state leaf, all zeros at first (Scellier's initial state).
 */
import * as tf from '@tensorflow/tfjs-core';
import { fromTensors, leaves, type TensorTree } from '../../core/tree.js';

export interface ParticleStore {
  /** The stored states of these examples (new tensors, owned by the caller). */
  read(indices: Int32Array): TensorTree;
  /** Stores the states of these examples (copied; `state` stays the caller's). */
  write(indices: Int32Array, state: TensorTree): void;
  /** The whole store, leaf by leaf ([count, ...leaf shape]), for checkpoints. */
  readonly data: readonly Float32Array[];
}

/**
 * A store for `count` examples whose state is shaped like `template` (a state of batch size 1 or more:
 * only the per-example shape is used).
 */
export function createParticleStore(count: number, template: TensorTree, initial?: readonly Float32Array[]): ParticleStore {
  const shapes = leaves(template).map((l) => l.tensor.shape.slice(1));
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const data = initial ? initial.map((d) => Float32Array.from(d)) : sizes.map((n) => new Float32Array(count * n));
  data.forEach((d, i) => {
    if (d.length !== count * sizes[i]!) throw new Error(`particle store: leaf ${i} holds ${d.length} values, expected ${count * sizes[i]!}`);
  });
  return Object.freeze({
    data,
    read(indices: Int32Array): TensorTree {
      const tensors = sizes.map((n, leaf) => {
        const out = new Float32Array(indices.length * n);
        indices.forEach((example, row) => out.set(data[leaf]!.subarray(example * n, (example + 1) * n), row * n));
        return tf.tensor(out, [indices.length, ...shapes[leaf]!], 'float32');
      });
      return fromTensors(template, tensors);
    },
    write(indices: Int32Array, state: TensorTree): void {
      leaves(state).forEach((l, leaf) => {
        const n = sizes[leaf]!;
        const values = l.tensor.dataSync() as Float32Array;
        indices.forEach((example, row) => data[leaf]!.set(values.subarray(row * n, (row + 1) * n), example * n));
      });
    },
  });
}
