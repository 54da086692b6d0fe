/**
 * Conv3DBackpropFilterV2 for wasm, replacing tfjs-backend-wasm 4.22's, which is right at stride 1 but
 * differs from the cpu backend and from finite differences at stride 2.
 *
 * This project's networks rarely use it, so rather than a composition of wasm kernels it runs the cpu
 * backend's pure-JS reference kernel on copies of the inputs (delegateToCpu in _shared.ts): correct, and
 * about as slow as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { delegateToCpu } from './_shared.js';

export const conv3DBackpropFilterV2Config: tf.KernelConfig = {
  kernelName: tf.Conv3DBackpropFilterV2,
  backendName: 'wasm',
  kernelFunc: delegateToCpu(tf.Conv3DBackpropFilterV2),
};
