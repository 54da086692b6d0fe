/**
 * Einsum for wasm (missing from tfjs-backend-wasm 4.22; tf.einsum threw on wasm). Forward only: tfjs has
 * no gradient for Einsum on any backend.
 *
 * This project's networks rarely use it, so rather than a composition of wasm kernels it runs the cpu
 * backend's pure-JS reference kernel on copies of the inputs (delegateToCpu in _shared.ts): correct, and
 * about as slow as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { delegateToCpu } from './_shared.js';

export const einsumConfig: tf.KernelConfig = {
  kernelName: tf.Einsum,
  backendName: 'wasm',
  kernelFunc: delegateToCpu(tf.Einsum),
};
