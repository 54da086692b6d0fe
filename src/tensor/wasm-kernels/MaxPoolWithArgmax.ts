/**
 * MaxPoolWithArgmax for wasm, replacing tfjs-backend-wasm 4.22's, which seeds its running maximum with
 * the smallest positive float: a window of values <= 0 returns 1.2e-38 and index 0, and ties pick the last
 * maximum instead of the first.
 *
 * This project's networks rarely use it, so rather than a composition of wasm kernels it runs the cpu
 * backend's pure-JS reference kernel on copies of the inputs (delegateToCpu in _shared.ts): correct, and
 * about as slow as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { delegateToCpu } from './_shared.js';

export const maxPoolWithArgmaxConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolWithArgmax,
  backendName: 'wasm',
  kernelFunc: delegateToCpu(tf.MaxPoolWithArgmax),
};
