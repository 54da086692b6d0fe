/**
 * Registers the wasm kernels this project supplies: those tfjs-backend-wasm 4.22 lacks but training needs,
 * and replacements for those it gets wrong. Idempotent, and cheap (no tensor work); safe to call before or
 * after the wasm backend is initialised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv3DBackpropFilterV2Config } from './Conv3DBackpropFilterV2.js';
import { conv3DBackpropInputV2Config } from './Conv3DBackpropInputV2.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput.js';
import { dilation2DConfig } from './Dilation2D.js';
import { dilation2DBackpropFilterConfig } from './Dilation2DBackpropFilter.js';
import { dilation2DBackpropInputConfig } from './Dilation2DBackpropInput.js';
import { einsumConfig } from './Einsum.js';
import { maxPool3DConfig } from './MaxPool3D.js';
import { maxPool3DGradConfig } from './MaxPool3DGrad.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { maxPoolWithArgmaxConfig } from './MaxPoolWithArgmax.js';
import { unsortedSegmentSumConfig } from './UnsortedSegmentSum.js';

export interface WasmKernelFix {
  readonly kernelName: string;
  /** `missing`: tfjs-backend-wasm 4.22 has no such kernel; `replaced`: it has one that gives wrong results. */
  readonly why: 'missing' | 'replaced';
  /** How this project implements it. */
  readonly how: 'composition' | 'js-loop' | 'cpu-reference';
  readonly config: tf.KernelConfig;
}

const fix = (config: tf.KernelConfig, why: WasmKernelFix['why'], how: WasmKernelFix['how']): WasmKernelFix =>
  Object.freeze({ kernelName: config.kernelName, why, how, config });

/** Every kernel this project registers for the wasm backend, with why and how. */
export const WASM_KERNEL_FIXES: readonly WasmKernelFix[] = Object.freeze([
  fix(conv2DBackpropFilterConfig, 'missing', 'composition'),
  fix(depthwiseConv2dNativeBackpropInputConfig, 'missing', 'composition'),
  fix(depthwiseConv2dNativeBackpropFilterConfig, 'missing', 'composition'),
  fix(unsortedSegmentSumConfig, 'missing', 'composition'),
  fix(einsumConfig, 'missing', 'cpu-reference'),
  fix(maxPoolGradConfig, 'replaced', 'js-loop'),
  fix(maxPoolWithArgmaxConfig, 'replaced', 'cpu-reference'),
  fix(maxPool3DConfig, 'replaced', 'cpu-reference'),
  fix(maxPool3DGradConfig, 'replaced', 'cpu-reference'),
  fix(conv3DBackpropInputV2Config, 'replaced', 'cpu-reference'),
  fix(conv3DBackpropFilterV2Config, 'replaced', 'cpu-reference'),
  fix(dilation2DConfig, 'replaced', 'cpu-reference'),
  fix(dilation2DBackpropInputConfig, 'replaced', 'cpu-reference'),
  fix(dilation2DBackpropFilterConfig, 'replaced', 'cpu-reference'),
]);

/** Registers every kernel in WASM_KERNEL_FIXES for 'wasm' (replacing tfjs's where one exists). Idempotent. */
export function registerWasmKernels(): void {
  for (const { config } of WASM_KERNEL_FIXES) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    // Unregister first: registerKernel over an existing kernel works but logs a warning.
    if (current) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
