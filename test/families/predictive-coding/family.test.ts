import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng, normalArray } from '../../../src/base/rng.js';
import { familyProblems } from '../../../src/families/registry.js';
import { predictiveCodingFamily } from '../../../src/families/predictive-coding/index.js';
import { predictiveCodingNetwork } from '../../../src/families/predictive-coding/system-pc.js';
import { predify } from '../../../src/families/predictive-coding/system-predify.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('predictive-coding family', () => {
  it('declares every capability of every system consistently with its parts', () => {
    expect(familyProblems(predictiveCodingFamily)).toEqual([]);
    expect(predictiveCodingFamily.systems.map((s) => s.kind)).toEqual(['pc-network', 'pc-network-flow', 'predify']);
  });

  it('PCN step counts: per hidden layer batch·n_l·(n_{l−1} + n_{l+1}) MACs and its active units; the output prediction once', () => {
    tf.tidy(() => {
      const net = predictiveCodingNetwork({ sizes: [5, 4, 3, 2], activation: 'relu' });
      const params = net.initParams(makeRng(1));
      const input = { x: tf.tensor2d(normalArray(makeRng(2), 3 * 5), [3, 5]) };
      const s = net.initState(input, params);
      const c = net.counts!(s, net.step(s, input, params, 0), input, params);
      expect(c.layer1!.macs!.dataSync()[0]).toBe(3 * 4 * (5 + 3));
      expect(c.layer2!.macs!.dataSync()[0]).toBe(3 * 3 * (4 + 2));
      expect(c.output3!.macs!.dataSync()[0]).toBe(3 * 3 * 2);
      const nonzero = s.layers[0]!.dataSync().filter((v) => v !== 0).length;
      expect(c.layer1!.events!.dataSync()[0]).toBe(nonzero);
    });
  });

  it('Predify step counts: the block, the decoder and its adjoint per PCoder', () => {
    tf.tidy(() => {
      const net = predify({ imageSize: 8, channels: [2, 3], kernelSize: 3, hidden: 4, classes: 3 });
      const params = { ...net.initBackbone(makeRng(1)), ...net.initDecoders(makeRng(2)) };
      const input = { x: tf.ones([2, 8, 8, 1]) as tf.Tensor4D };
      const s = net.initState(input, params);
      const c = net.counts!(s, net.step(s, input, params, 0), input, params);
      // PCoder 1: conv 8·8·2 outputs × 3²·1 taps, decoder 4·4·2 inputs × 3²·1 taps (twice: prediction and ∇).
      expect(c.pcoder1!.macs!.dataSync()[0]).toBe(2 * (8 * 8 * 2 * 9 * 1 + 2 * 4 * 4 * 2 * 9 * 1));
      expect(c.pcoder2!.macs!.dataSync()[0]).toBe(2 * (4 * 4 * 3 * 9 * 2 + 2 * 2 * 2 * 3 * 9 * 2));
    });
  });
});
