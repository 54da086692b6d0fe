import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../../src/base/rng.js';
import { corruptDataset, getCorruption } from '../../../src/data/corruptions.js';
import { loadDataset, subset } from '../../../src/data/index.js';
import { imageRepair } from '../../../src/families/cnn-f/evaluation.js';
import { runCycles } from '../../../src/families/cnn-f/run-cycles.js';
import { cnnf } from '../../../src/families/cnn-f/system.js';
import { liveTensorCount, useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('cnn-f image repair (ind = 0)', () => {
  it('per-cycle MSE/PSNR of the reconstructions against the clean image, computed independently; the strip holds clean, corrupted, r_1 … r_T', () => {
    const system = cnnf({
      layers: [{ type: 'conv', channels: 3 }, { type: 'norm' }, { type: 'adarelu' }, { type: 'adapool' }, { type: 'flatten' }, { type: 'linear', units: 10 }],
      ind: 0,
      eta: 0.2,
      inputShape: [28, 28, 1],
    });
    const params = system.initParams(makeRng(1));
    const data = subset(loadDataset('mnist-embedded').test, 0, 3);
    const before = liveTensorCount();
    const { row, strip } = imageRepair(system, params, 2, data, 'mnist-c/dotted_line', 1, makeRng(2));
    expect(liveTensorCount()).toBe(before);
    const corrupted = corruptDataset(data, getCorruption('mnist-c/dotted_line'), 1, makeRng(2));
    let mse = 0;
    corrupted.images.forEach((v, i) => (mse += (v - data.images[i]!) ** 2));
    expect(row.corruptedMse).toBeCloseTo(mse / data.images.length, 6);
    expect(row.corruptedPsnr).toBeCloseTo(10 * Math.log10(data.images.length / mse), 4);
    tf.tidy(() => {
      const x = tf.tensor4d(corrupted.images, [3, 28, 28, 1]);
      const clean = tf.tensor4d(data.images, [3, 28, 28, 1]);
      const recons = runCycles(system, params, x, 2, { recons: true }).recons!;
      for (let t = 0; t < 2; t++) {
        const r = tf.clipByValue(tf.div(tf.add(tf.squeeze(tf.slice(recons, [t], [1]), [0]), 1), 2), 0, 1);
        expect(row.reconMse[t]!).toBeCloseTo(tf.mean(tf.square(tf.sub(r, clean))).dataSync()[0]!, 6);
        expect(Array.from(strip.subarray((2 + t) * 784, (3 + t) * 784))).toEqual(Array.from(r.dataSync().subarray(0, 784)));
      }
    });
    expect(Array.from(strip.subarray(0, 784))).toEqual(Array.from(data.images.subarray(0, 784)));
    expect(Array.from(strip.subarray(784, 1568))).toEqual(Array.from(corrupted.images.subarray(0, 784)));
    expect(strip.length).toBe(3 * 4 * 784);
    tf.dispose(Object.values(params));
  }, 60_000);
});
