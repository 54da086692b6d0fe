import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError, SpecError } from '../../src/base/errors.js';
import {
  batchCount,
  batches,
  classHistogram,
  DIGIT_CLASS_NAMES,
  makeDataset,
  select,
  sequentialOrder,
  shuffledOrder,
  subset,
  takePerClass,
  toTensors,
  type Dataset,
} from '../../src/data/index.js';

/** n 2x3 images; image i is filled with i/100; label i % 3 (classes named a, b, c). */
function tinyDataset(n: number): Dataset {
  const images = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) images.fill(i / 100, i * 6, (i + 1) * 6);
  return makeDataset({
    name: 'tiny',
    source: 'test',
    images,
    labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
    count: n,
    height: 2,
    width: 3,
    classes: 3,
    classNames: ['a', 'b', 'c'],
  });
}

beforeAll(async () => {
  tf.env().set('IS_TEST', true); // silences the cpu backend's "install tfjs-node" banner
  await tf.setBackend('cpu');
});

describe('makeDataset', () => {
  it('rejects inconsistent sizes and out-of-range labels', () => {
    const ok = tinyDataset(4);
    expect(() => makeDataset({ ...ok, count: 5 })).toThrow(DataError);
    expect(() => makeDataset({ ...ok, labels: new Uint8Array(3) })).toThrow(/3 labels for 4 images/);
    expect(() => makeDataset({ ...ok, labels: Uint8Array.from([0, 1, 2, 3]) })).toThrow(/label 3 of example 3/);
    expect(() => makeDataset({ ...ok, classNames: DIGIT_CLASS_NAMES })).toThrow(/10 class names for 3 classes/);
    expect(Object.isFrozen(ok)).toBe(true);
  });
});

describe('subset, select, takePerClass, classHistogram', () => {
  const data = tinyDataset(10);

  it('subset is a view on the parent range', () => {
    const part = subset(data, 4, 3);
    expect(part.count).toBe(3);
    expect(Array.from(part.labels)).toEqual([1, 2, 0]);
    expect(part.images[0]).toBe(Math.fround(0.04));
    expect(part.images.buffer).toBe(data.images.buffer);
    expect(() => subset(data, 8, 3)).toThrow(SpecError);
    expect(() => subset(data, -1, 1)).toThrow(SpecError);
    expect(subset(data, 10, 0).count).toBe(0);
  });

  it('select copies the given examples in order', () => {
    const part = select(data, [9, 0, 5]);
    expect(Array.from(part.labels)).toEqual([0, 0, 2]);
    expect(part.images[6]).toBe(0);
    expect(part.images[0]).toBe(Math.fround(0.09));
    expect(() => select(data, [10])).toThrow(/index 10 at position 0/);
  });

  it('takePerClass keeps the first examples of each class, in order', () => {
    const part = takePerClass(data, 2);
    expect(Array.from(part.labels)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(classHistogram(part)).toEqual([2, 2, 2]);
    expect(() => takePerClass(data, 4)).toThrow(/only 3 examples of class b/);
  });
});

describe('toTensors', () => {
  const data = tinyDataset(10);

  it('flat layout: float32 [n, h*w] and int32 labels, for a range', () => {
    const before = tf.memory().numTensors;
    const { x, y } = toTensors(data, { start: 2, count: 4 });
    expect(tf.memory().numTensors - before).toBe(2);
    expect(x.shape).toEqual([4, 6]);
    expect(x.dtype).toBe('float32');
    expect(y.shape).toEqual([4]);
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([2, 0, 1, 2]);
    expect(x.dataSync()[6]).toBeCloseTo(0.03, 6);
    x.dispose();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('nhwc layout: [n, h, w, 1]; defaults to the whole dataset', () => {
    const before = tf.memory().numTensors;
    const { x, y } = toTensors(data, { layout: 'nhwc' });
    expect(x.shape).toEqual([10, 2, 3, 1]);
    expect(y.shape).toEqual([10]);
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes an index list (a batch) in its order', () => {
    const { x, y } = toTensors(data, { indices: [7, 1] });
    expect(Array.from(y.dataSync())).toEqual([1, 1]);
    expect(x.dataSync()[0]).toBeCloseTo(0.07, 6);
    tf.dispose([x, y]);
  });

  it('does not alias the dataset: changing the dataset later leaves the tensor as it was', () => {
    const copy = tinyDataset(10);
    const { x, y } = toTensors(copy, { start: 0, count: 2 });
    copy.images[0] = 0.5;
    expect(x.dataSync()[0]).toBe(0);
    tf.dispose([x, y]);
  });

  it('bad options are SpecErrors', () => {
    expect(() => toTensors(data, { start: 5, count: 6 })).toThrow(SpecError);
    expect(() => toTensors(data, { layout: 'nchw' as 'flat' })).toThrow(/layout/);
  });
});

describe('orders and batches', () => {
  it('sequential and shuffled orders are permutations; the shuffle follows the generator', () => {
    expect(Array.from(sequentialOrder(4))).toEqual([0, 1, 2, 3]);
    let state = 12345;
    const lcg = { int: (n: number) => Math.floor(((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * n) };
    const order = shuffledOrder(100, lcg);
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from(sequentialOrder(100)));
    expect(Array.from(order)).not.toEqual(Array.from(sequentialOrder(100)));
    state = 12345;
    expect(Array.from(shuffledOrder(100, lcg))).toEqual(Array.from(order));
  });

  it('batches cut the order into consecutive slices', () => {
    const order = Uint32Array.from([5, 3, 1, 0, 2, 4, 6]);
    expect([...batches(order, 3)].map((b) => Array.from(b))).toEqual([[5, 3, 1], [0, 2, 4], [6]]);
    expect([...batches(order, 3, { dropRemainder: true })].map((b) => Array.from(b))).toEqual([[5, 3, 1], [0, 2, 4]]);
    expect(batchCount(7, 3)).toBe(3);
    expect(batchCount(7, 3, { dropRemainder: true })).toBe(2);
    expect(() => [...batches(order, 0)]).toThrow(SpecError);
  });
});
