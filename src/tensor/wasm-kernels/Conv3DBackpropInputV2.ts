/**
 * Conv3DBackpropInputV2 for wasm, replacing tfjs-backend-wasm 4.22's, whose result differs from the cpu
 * backend and from finite differences for every configuration tried (stride 1 and 2, 'same' and 'valid').
 *
 * This project's networks rarely use it, so rather than a composition of wasm kernels it runs the cpu
 * backend's pure-JS reference kernel on copies of the inputs (delegateToCpu in _shared.ts): correct, and
 * about as slow as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { delegateToCpu } from './_shared.js';

export const conv3DBackpropInputV2Config: tf.KernelConfig = {
  kernelName: tf.Conv3DBackpropInputV2,
  backendName: 'wasm',
  kernelFunc: delegateToCpu(tf.Conv3DBackpropInputV2),
};
