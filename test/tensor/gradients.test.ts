/** tfjs-core's gradients, vendored because tfjs-core's Node bundle registers none. */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRADIENTS_TFJS_VERSION, useBackend } from '../../src/tensor/index.js';

describe('gradients', () => {
  it('were generated from the installed tfjs-core (else rerun src/tensor/vendor/generate-gradients.mjs)', () => {
    expect(GRADIENTS_TFJS_VERSION).toBe(tf.version_core);
  });

  it('are registered on import, so tf.grad works', async () => {
    await useBackend('cpu');
    expect(tf.getGradient('Sum')).toBeDefined();
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, -2, 3]));
    expect(Array.from(g.dataSync())).toEqual([2, -4, 6]);
  });

  it('include those whose tfjs source uses chained ops (prod over several axes, gather with batchDims)', async () => {
    await useBackend('cpu');
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const gp = tf.grad((t: tf.Tensor) => tf.prod(t))(x);
    expect(Array.from(gp.dataSync())).toEqual([24, 12, 8, 6]);
    const gg = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor2d([[1, 1], [0, 1]], [2, 2], 'int32'), 1, 1)))(x);
    expect(Array.from(gg.dataSync())).toEqual([0, 2, 1, 1]);
  });
});
