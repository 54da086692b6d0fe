/**
 * MaxPool3D for wasm, replacing tfjs-backend-wasm 4.22's, which seeds its running maximum with the
 * smallest positive float, so a window of values <= 0 (common with 'same' padding) returns 1.2e-38.
 *
 * This project's networks rarely use it, so rather than a composition of wasm kernels it runs the cpu
 * backend's pure-JS reference kernel on copies of the inputs (delegateToCpu in _shared.ts): correct, and
 * about as slow as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { delegateToCpu } from './_shared.js';

export const maxPool3DConfig: tf.KernelConfig = {
  kernelName: tf.MaxPool3D,
  backendName: 'wasm',
  kernelFunc: delegateToCpu(tf.MaxPool3D),
};
