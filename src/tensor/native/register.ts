/**
 * Registers the native kernels (./kernels.ts) over the wasm backend's, keeping the replaced ones to fall
 * back to and to restore. Enabled on import of src/tensor/ when the addon loads (./addon.ts); tests turn
 * them off and on to run the same computation on both kernel sets in one process.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeStatus, type NativeAddon } from './addon.js';
import { LEAKY_INTEGRATE, leakyIntegrateKernel, registerFusedGradients } from './fused.js';
import { nativeBatchMatMul, nativeConv2D, nativeConv2DBackpropFilter, nativeConv2DBackpropInput } from './kernels.js';

interface NativeKernel {
  readonly kernelName: string;
  /** The library that computes it. */
  readonly library: string;
  readonly make: (addon: NativeAddon, previous: tf.KernelFunc) => tf.KernelFunc;
}

export const NATIVE_KERNELS: readonly NativeKernel[] = Object.freeze([
  { kernelName: tf.BatchMatMul, library: 'OpenBLAS sgemm', make: nativeBatchMatMul },
  { kernelName: tf.Conv2D, library: 'oneDNN', make: nativeConv2D },
  { kernelName: tf.Conv2DBackpropInput, library: 'oneDNN', make: nativeConv2DBackpropInput },
  { kernelName: tf.Conv2DBackpropFilter, library: 'oneDNN', make: nativeConv2DBackpropFilter },
]);

/** Marks a native kernelFunc. The wasm-kernels mark too: registerWasmKernels() then leaves it in place. */
const NATIVE_MARK = Symbol.for('neurodyn.nativeKernel');
const WASM_MARK = Symbol.for('neurodyn.wasmKernel');

/** The kernels the native ones replaced, by name, while the native ones are registered. */
const replaced = new Map<string, tf.KernelConfig>();

export function isNativeKernel(kernelName: string): boolean {
  const fn = tf.getKernel(kernelName, 'wasm')?.kernelFunc as (tf.KernelFunc & { [NATIVE_MARK]?: boolean }) | undefined;
  return fn?.[NATIVE_MARK] === true;
}

/** Whether the native kernels are registered for the wasm backend. */
export function nativeKernelsEnabled(): boolean {
  return replaced.size > 0;
}

/** Whether the active backend computes with the native kernels. */
export function nativeKernelsActive(): boolean {
  return nativeKernelsEnabled() && tf.getBackend() === 'wasm';
}

function swap(config: tf.KernelConfig): void {
  // Unregister first (registering over a kernel warns). The setup of the wasm kernel (binding its C++
  // entry point at backend initialisation) is kept, so a fallback to it works.
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

/** Registers the native kernels for wasm if the addon is available; returns whether they are. Idempotent. */
export function enableNativeKernels(): boolean {
  const status = nativeStatus();
  if (!status.available) return false;
  if (nativeKernelsEnabled()) return true;
  for (const { kernelName, make } of NATIVE_KERNELS) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (!current) throw new Error(`neurodyn native kernels: no wasm kernel ${kernelName} to fall back to`);
    const kernelFunc = make(status.addon, current.kernelFunc);
    Object.defineProperty(kernelFunc, NATIVE_MARK, { value: true });
    Object.defineProperty(kernelFunc, WASM_MARK, { value: kernelName });
    replaced.set(kernelName, current);
    swap({ ...current, kernelFunc });
  }
  if (!tf.getKernel(LEAKY_INTEGRATE, 'wasm')) tf.registerKernel({ kernelName: LEAKY_INTEGRATE, backendName: 'wasm', kernelFunc: leakyIntegrateKernel(status.addon) });
  registerFusedGradients();
  return true;
}

/** Puts back the kernels the native ones replaced. Idempotent. */
export function disableNativeKernels(): void {
  for (const config of replaced.values()) swap(config);
  replaced.clear();
}

/** Per kernel: native or not, and why not. */
export interface NativeKernelInfo {
  readonly kernelName: string;
  readonly native: boolean;
  /** The library computing it when native; why it is not, otherwise. */
  readonly detail: string;
}

export function nativeKernelInfo(): NativeKernelInfo[] {
  const status = nativeStatus();
  return NATIVE_KERNELS.map(({ kernelName, library }) => {
    if (isNativeKernel(kernelName)) return { kernelName, native: true, detail: library };
    const detail = status.available ? 'native kernels turned off in this process' : status.reason;
    return { kernelName, native: false, detail };
  });
}
