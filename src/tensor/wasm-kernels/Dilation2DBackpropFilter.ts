/**
 * Dilation2DBackpropFilter for wasm, replacing tfjs-backend-wasm 4.22's, which disagrees with the cpu
 * backend and with finite differences.
 *
 * This project's networks rarely use it, so rather than a composition of wasm kernels it runs the cpu
 * backend's pure-JS reference kernel on copies of the inputs (delegateToCpu in _shared.ts): correct, and
 * about as slow as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { delegateToCpu } from './_shared.js';

export const dilation2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Dilation2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: delegateToCpu(tf.Dilation2DBackpropFilter),
};
