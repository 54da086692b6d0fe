/**
 * MaxPool3DGrad for wasm, replacing tfjs-backend-wasm 4.22's (same smallest-positive-float seed as its
 * MaxPoolGrad: windows of values <= 0 lose their gradient; ties go to the last maximum).
 *
 * This project's networks rarely use it, so rather than a composition of wasm kernels it runs the cpu
 * backend's pure-JS reference kernel on copies of the inputs (delegateToCpu in _shared.ts): correct, and
 * about as slow as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { delegateToCpu } from './_shared.js';

export const maxPool3DGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPool3DGrad,
  backendName: 'wasm',
  kernelFunc: delegateToCpu(tf.MaxPool3DGrad),
};
