/**
 * Registers the wasm kernels this project supplies: those tfjs-backend-wasm 4.22 lacks but training needs,
 * replacements for those it gets wrong, and for BatchMatMul, whose transposed and batched products (every
 * matMul gradient) run 6-75x below its fast path, and Conv2DBackpropInput (every conv2d input gradient and
 * conv2dTranspose), a plain loop at 1-2.4 GFLOP/s where XNNPACK's convolution can do its work. Idempotent
 * and cheap (no tensor work); safe before or after the wasm backend is initialised.
 */
import * as tf from '@tensorflow/tfjs-core';
// The kernels replaced or wrapped here must be registered first.
import '@tensorflow/tfjs-backend-wasm';
import { makeBatchMatMul } from './BatchMatMul.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { makeConv2DBackpropInput } from './Conv2DBackpropInput.js';
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
  /**
   * `missing`: tfjs-backend-wasm 4.22 has no such kernel; `wrong`: it has one that gives wrong results;
   * `slow`: it has a correct one that is far slower than a composition of its own fast kernels.
   */
  readonly why: 'missing' | 'wrong' | 'slow';
  /** How this project implements it. */
  readonly how: 'composition' | 'js-loop' | 'cpu-reference';
  /** Builds the kernelFunc; `previous` is the kernel registered for wasm before (tfjs-backend-wasm's), if any. */
  readonly make: (previous: tf.KernelFunc | undefined) => tf.KernelFunc;
}

const fix = (config: tf.KernelConfig, why: WasmKernelFix['why'], how: WasmKernelFix['how']): WasmKernelFix =>
  Object.freeze({ kernelName: config.kernelName, why, how, make: () => config.kernelFunc });

/** Marks the kernelFuncs registered here, so registration is idempotent and tests can tell them apart. */
const MARK = Symbol.for('neurodyn.wasmKernel');

/** True when the kernel registered for wasm under `kernelName` is this project's. */
export function isNeurodynWasmKernel(kernelName: string): boolean {
  const fn = tf.getKernel(kernelName, 'wasm')?.kernelFunc as (tf.KernelFunc & { [MARK]?: string }) | undefined;
  return fn?.[MARK] === kernelName;
}

/** Every kernel this project registers for the wasm backend, with why and how. */
export const WASM_KERNEL_FIXES: readonly WasmKernelFix[] = Object.freeze([
  fix(conv2DBackpropFilterConfig, 'missing', 'composition'),
  fix(depthwiseConv2dNativeBackpropInputConfig, 'missing', 'composition'),
  fix(depthwiseConv2dNativeBackpropFilterConfig, 'missing', 'composition'),
  fix(unsortedSegmentSumConfig, 'missing', 'composition'),
  fix(einsumConfig, 'missing', 'cpu-reference'),
  fix(maxPoolGradConfig, 'wrong', 'js-loop'),
  fix(maxPoolWithArgmaxConfig, 'wrong', 'cpu-reference'),
  fix(maxPool3DConfig, 'wrong', 'cpu-reference'),
  fix(maxPool3DGradConfig, 'wrong', 'cpu-reference'),
  fix(conv3DBackpropInputV2Config, 'wrong', 'cpu-reference'),
  fix(conv3DBackpropFilterV2Config, 'wrong', 'cpu-reference'),
  fix(dilation2DConfig, 'wrong', 'cpu-reference'),
  fix(dilation2DBackpropInputConfig, 'wrong', 'cpu-reference'),
  fix(dilation2DBackpropFilterConfig, 'wrong', 'cpu-reference'),
  Object.freeze({
    kernelName: tf.BatchMatMul,
    why: 'slow',
    how: 'composition',
    make: (previous: tf.KernelFunc | undefined) => {
      if (!previous) throw new Error('neurodyn wasm kernels: tfjs-backend-wasm registered no BatchMatMul to speed up');
      return makeBatchMatMul(previous);
    },
  } satisfies WasmKernelFix),
  Object.freeze({
    kernelName: tf.Conv2DBackpropInput,
    why: 'slow',
    how: 'composition',
    make: makeConv2DBackpropInput,
  } satisfies WasmKernelFix),
]);

/** Registers every kernel in WASM_KERNEL_FIXES for 'wasm' (replacing tfjs's where one exists). Idempotent. */
export function registerWasmKernels(): void {
  for (const { kernelName, make } of WASM_KERNEL_FIXES) {
    if (isNeurodynWasmKernel(kernelName)) continue;
    const current = tf.getKernel(kernelName, 'wasm');
    const kernelFunc = make(current?.kernelFunc);
    Object.defineProperty(kernelFunc, MARK, { value: kernelName });
    // Unregister first: registerKernel over an existing kernel works but logs a warning. The previous
    // kernel's setup (binding its C++ entry point when the backend initialises) is kept: a replacement may
    // call the previous kernelFunc.
    if (current) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc, setupFunc: current?.setupFunc, disposeFunc: current?.disposeFunc });
  }
}
