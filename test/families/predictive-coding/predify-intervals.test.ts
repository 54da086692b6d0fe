import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../../src/base/rng.js';
import { withGaussianNoise } from '../../../src/data/corruptions.js';
import { loadDataset, subset } from '../../../src/data/index.js';
import { pairedGainInterval } from '../../../src/base/statistics.js';
import { timestepCurves } from '../../../src/families/predictive-coding/job-predify.js';
import { predify, type PredifyParams } from '../../../src/families/predictive-coding/system-predify.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('predify-noise paired intervals', () => {
  it('pairedGainInterval is the mean ± 1.96 standard errors of the per-image differences (+1 gained, −1 lost, 0 otherwise)', () => {
    const gained = 7;
    const lost = 3;
    const count = 40;
    const diffs = [...new Array<number>(gained).fill(1), ...new Array<number>(lost).fill(-1), ...new Array<number>(count - gained - lost).fill(0)];
    const mean = diffs.reduce((a, v) => a + v, 0) / count;
    // the plug-in variance of the mean (divisor n), as the Wald interval uses
    const variance = diffs.reduce((a, v) => a + (v - mean) ** 2, 0) / count / count;
    const [lo, hi] = pairedGainInterval(gained, lost, count);
    expect(lo).toBeCloseTo(mean - 1.959964 * Math.sqrt(variance), 12);
    expect(hi).toBeCloseTo(mean + 1.959964 * Math.sqrt(variance), 12);
    expect(pairedGainInterval(0, 0, count)).toEqual([0, 0]);
  });

  it('the batched curves carry the discordant counts and the distance-change interval that image-by-image runs give', () => {
    const steps = 3;
    const net = predify({ imageSize: 28, channels: [2, 2, 2], kernelSize: 5, hidden: 8, classes: 10, beta: 0.6, lambda: 0.2, alpha: 0.05 });
    const params: PredifyParams = { ...net.initBackbone(makeRng(3)), ...net.initDecoders(makeRng(4)) };
    const live = tf.memory().numTensors;
    const clean = subset(loadDataset('mnist-embedded').test, 0, 12);
    const noisy = withGaussianNoise(clean, 0.6, makeRng(5));
    // batches of 5, 5 and 2: the sums must not depend on the batching
    const batched = timestepCurves(net, params, 'noisy', noisy, clean, steps, 5);
    const single = Array.from({ length: clean.count }, (_, i) => timestepCurves(net, params, 'noisy', subset(noisy, i, 1), subset(clean, i, 1), steps, 1));
    expect(tf.memory().numTensors).toBe(live);
    tf.dispose(Object.values(params));

    expect(batched.count).toBe(12);
    for (let t = 0; t <= steps; t++) {
      const gained = single.filter((s) => s.accuracy[t] === 1 && s.accuracy[0] === 0).length;
      const lost = single.filter((s) => s.accuracy[t] === 0 && s.accuracy[0] === 1).length;
      expect([batched.gained[t], batched.lost[t]]).toEqual([gained, lost]);
      expect(batched.accuracy[t]! - batched.accuracy[0]!).toBeCloseTo((gained - lost) / 12, 5);
    }
    expect(batched.gained[0]).toBe(0);
    // Random weights: the loop moves the representation, so the interval is not trivially 0.
    let nonzero = 0;
    for (let layer = 0; layer < 3; layer++) {
      for (let t = 0; t <= steps; t++) {
        const changes = single.map((s) => s.corr_vs_clean_ff[layer]![t]! - s.corr_vs_clean_ff[layer]![0]!);
        const mean = changes.reduce((a, v) => a + v, 0) / changes.length;
        const sd = Math.sqrt(changes.reduce((a, v) => a + (v - mean) ** 2, 0) / (changes.length - 1));
        const half = (1.959964 * sd) / Math.sqrt(changes.length);
        // the single runs round each image's distance to 5 decimals
        expect(batched.corr_vs_clean_ff_change_ci95[layer]![t]!).toBeCloseTo(half, 4);
        expect(batched.corr_vs_clean_ff[layer]![t]!).toBeCloseTo(single.reduce((a, s) => a + s.corr_vs_clean_ff[layer]![t]!, 0) / 12, 4);
        if (half > 1e-3) nonzero++;
      }
      expect(batched.corr_vs_clean_ff_change_ci95[layer]![0]).toBe(0);
    }
    expect(nonzero).toBeGreaterThan(0);
  }, 60_000);
});
