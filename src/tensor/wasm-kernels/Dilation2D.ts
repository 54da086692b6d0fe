/**
 * Dilation2D (morphological dilation) for wasm, replacing tfjs-backend-wasm 4.22's, whose forward result
 * differs from the cpu backend (by up to 0.8 on inputs in [-1, 1], 'same' padding).
 *
 * This project's networks rarely use it, so rather than a composition of wasm kernels it runs the cpu
 * backend's pure-JS reference kernel on copies of the inputs (delegateToCpu in _shared.ts): correct, and
 * about as slow as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { delegateToCpu } from './_shared.js';

export const dilation2DConfig: tf.KernelConfig = {
  kernelName: tf.Dilation2D,
  backendName: 'wasm',
  kernelFunc: delegateToCpu(tf.Dilation2D),
};
