/**
 * Example orders and minibatches. An epoch is an order (a permutation of example indices) cut into
 * consecutive batches; the order is a plain array so a run can record it, and shuffling takes the caller's
 * seeded generator so the same seed gives the same batches on every backend.
 */
import { SpecError } from '../base/errors.js';

/** The part of a seeded generator that shuffling needs (the `Rng` of `base/rng` satisfies it). */
export interface IntegerSource {
  /** A uniform integer in [0, n). */
  int(n: number): number;
}

/** `0, 1, ..., count-1`. */
export function sequentialOrder(count: number): Uint32Array {
  checkCount(count);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

/** A uniformly random permutation of `0..count-1` (Fisher-Yates, drawing from `rng`). */
export function shuffledOrder(count: number, rng: IntegerSource): Uint32Array {
  const order = sequentialOrder(count);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export interface BatchOptions {
  /** Skip a last batch smaller than `batchSize` (keeps every step's shape the same). Default false. */
  readonly dropRemainder?: boolean;
}

/**
 * Consecutive slices of `order`, `batchSize` indices each (the last may be shorter unless
 * `dropRemainder`). Each yielded array is a view on `order`; pass it to `toTensors(dataset, { indices })`.
 */
export function* batches(order: Uint32Array, batchSize: number, options: BatchOptions = {}): Generator<Uint32Array, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new SpecError('batchSize', `must be a positive integer, got ${batchSize}`);
  const end = options.dropRemainder ? order.length - (order.length % batchSize) : order.length;
  for (let start = 0; start < end; start += batchSize) yield order.subarray(start, Math.min(start + batchSize, end));
}

/** Number of batches `batches(order, batchSize, options)` yields for `count` examples. */
export function batchCount(count: number, batchSize: number, options: BatchOptions = {}): number {
  return options.dropRemainder ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0) throw new SpecError('count', `must be a non-negative integer, got ${count}`);
}
