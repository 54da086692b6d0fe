import { describe, expect, it } from 'vitest';
import {
  classHistogram,
  EMBEDDED_MNIST_PER_CLASS,
  EMBEDDED_MNIST_TEST_COUNT,
  EMBEDDED_MNIST_TEST_PER_CLASS,
  EMBEDDED_MNIST_TRAIN_COUNT,
  loadDataset,
  loadEmbeddedMnist,
  subset,
} from '../../src/data/index.js';

describe('embedded MNIST', () => {
  const split = loadEmbeddedMnist();

  it('has the documented fixed split counts and shapes', () => {
    expect(split.train.count).toBe(EMBEDDED_MNIST_TRAIN_COUNT);
    expect(split.test.count).toBe(EMBEDDED_MNIST_TEST_COUNT);
    expect(EMBEDDED_MNIST_TRAIN_COUNT + EMBEDDED_MNIST_TEST_COUNT).toBe(10_000);
    for (const part of [split.train, split.test]) {
      expect(part.height).toBe(28);
      expect(part.width).toBe(28);
      expect(part.classes).toBe(10);
      expect(part.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(part.images.length).toBe(part.count * 784);
      expect(part.labels.length).toBe(part.count);
    }
    expect(split.train.name).toBe('mnist-embedded/train');
    expect(split.test.name).toBe('mnist-embedded/test');
  });

  it('has all ten classes in both parts: test balanced, train the rest', () => {
    expect(classHistogram(split.test)).toEqual(new Array(10).fill(EMBEDDED_MNIST_TEST_PER_CLASS));
    expect(classHistogram(split.train)).toEqual(EMBEDDED_MNIST_PER_CLASS.map((n) => n - EMBEDDED_MNIST_TEST_PER_CLASS));
    expect(classHistogram(split.train)).toEqual([801, 927, 791, 832, 780, 663, 814, 870, 744, 778]);
  });

  it('holds intensities byte/255 in [0, 1], with real ink in every image', () => {
    for (const part of [split.train, split.test]) {
      let min = Infinity;
      let max = -Infinity;
      let offGrid = 0;
      for (const v of part.images) {
        if (v < min) min = v;
        if (v > max) max = v;
        if (Math.fround(Math.round(v * 255) / 255) !== v) offGrid++;
      }
      expect(min).toBe(0);
      expect(max).toBe(1);
      expect(offGrid).toBe(0);
      for (let i = 0; i < part.count; i += 97) {
        const image = part.images.subarray(i * 784, (i + 1) * 784);
        expect(image.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
      }
    }
  });

  it('interleaves classes so that prefixes are balanced', () => {
    expect(Array.from(split.test.labels.subarray(0, 20))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(classHistogram(subset(split.train, 0, 6630))).toEqual(new Array(10).fill(663));
    expect(classHistogram(subset(split.test, 0, 500))).toEqual(new Array(10).fill(50));
  });

  it('is deterministic and train and test share no image', () => {
    const again = loadDataset('mnist-embedded');
    // Byte comparison: vitest's deep equality is far too slow for millions of elements.
    const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bytes(again.train.images).equals(bytes(split.train.images))).toBe(true);
    expect(bytes(again.test.images).equals(bytes(split.test.images))).toBe(true);
    expect(bytes(again.train.labels).equals(bytes(split.train.labels))).toBe(true);
    expect(bytes(again.test.labels).equals(bytes(split.test.labels))).toBe(true);
    const key = (images: Float32Array, i: number) => Buffer.from(images.buffer, images.byteOffset + i * 784 * 4, 784 * 4).toString('base64');
    const trainKeys = new Set(Array.from({ length: split.train.count }, (_, i) => key(split.train.images, i)));
    let shared = 0;
    for (let i = 0; i < split.test.count; i++) if (trainKeys.has(key(split.test.images, i))) shared++;
    expect(shared).toBe(0);
  });
});
