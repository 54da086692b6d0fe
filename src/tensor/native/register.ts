/**
 * Registers the native kernels (./kernels.ts) over the wasm backend's, keeping the replaced ones to fall
 * back to and to restore. Enabled on import of src/tensor/ when the addon loads (./addon.ts); tests turn
 * them off and on to run the same computation on both kernel sets in one process.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeStatus, type NativeAddon } from './addon.js';
import {
  CLIP_GRAD, EP_LAYER, LEAKY_INTEGRATE, SGD_MOMENTUM, SOFT_THRESHOLD, SOFT_THRESHOLD_GRAD, clipGradKernel, clipGradient, epLayerKernel,
  leakyIntegrateKernel, registerFusedGradients, sgdMomentumKernel, softThresholdGradKernel, softThresholdKernel,
} from './fused.js';
import { nativeBatchMatMul, nativeConv2D, nativeConv2DBackpropFilter, nativeConv2DBackpropInput, nativeMaxPoolGrad, sharedIdentity } from './kernels.js';

interface NativeKernel {
  readonly kernelName: string;
  /** The library that computes it (for the products, the one NEURODYN_GEMM chose). */
  readonly library: string | ((addon: NativeAddon) => string);
  readonly make: (addon: NativeAddon, previous: tf.KernelFunc) => tf.KernelFunc;
}

export const NATIVE_KERNELS: readonly NativeKernel[] = Object.freeze([
  { kernelName: tf.BatchMatMul, library: (addon) => `${gemmName(addon)} sgemm`, make: nativeBatchMatMul },
  { kernelName: tf.Conv2D, library: 'oneDNN', make: nativeConv2D },
  { kernelName: tf.Conv2DBackpropInput, library: (addon) => `oneDNN (onto 1–4 channels: ${gemmName(addon)} sgemm + scatter)`, make: nativeConv2DBackpropInput },
  { kernelName: tf.Conv2DBackpropFilter, library: 'oneDNN', make: nativeConv2DBackpropFilter },
  { kernelName: tf.MaxPoolGrad, library: 'neurodyn C++ loop', make: nativeMaxPoolGrad },
  { kernelName: tf.Identity, library: 'shared buffer, no copy', make: sharedIdentity },
]);

/** The fused kernels (./fused.ts): registered once the addon loads, and left registered (only fused-steps.ts calls them, when active). */
export const FUSED_KERNELS: ReadonlyArray<readonly [string, (addon: NativeAddon) => tf.KernelFunc, string | ((addon: NativeAddon) => string)]> = [
  [LEAKY_INTEGRATE, leakyIntegrateKernel, "fused step: LCA's leaky integration, one pass"],
  [EP_LAYER, epLayerKernel, (addon) => `fused step: one EP layer, ${gemmName(addon)} sgemm onto the bias or drive + clip`],
  [CLIP_GRAD, clipGradKernel, "fused step: clip's gradient, one pass (also behind ClipByValue's gradient)"],
  [SOFT_THRESHOLD, softThresholdKernel, "fused step: LCA's soft threshold, one pass"],
  [SOFT_THRESHOLD_GRAD, softThresholdGradKernel, "fused step: the soft threshold's gradient, one pass"],
  [SGD_MOMENTUM, sgdMomentumKernel, 'fused step: SGD with momentum (and weight decay), one pass'],
];

const gemmName = (addon: NativeAddon) => (addon.gemmLibrary() === 'onednn' ? 'oneDNN' : 'OpenBLAS');

/** A kernel's description, for the addon as it is set up now. */
export function describeNativeKernel(library: string | ((addon: NativeAddon) => string)): string {
  const status = nativeStatus();
  return typeof library === 'string' ? library : status.available ? library(status.addon) : '';
}

/** tfjs's ClipByValue gradient (five kernels: two compares, an and, a select, a zeros) while the native one replaces it. */
let plainClipGradient: tf.GradConfig | undefined;

/** ClipByValue's gradient in one native pass where the native kernels are active, else tfjs's. */
function useNativeClipGradient(): void {
  const current = tf.getGradient(tf.ClipByValue);
  if (!current || plainClipGradient) return;
  plainClipGradient = current;
  tf.unregisterGradient(tf.ClipByValue);
  tf.registerGradient({
    ...current,
    gradFunc: (dy, saved, attrs) => {
      if (!nativeKernelsActive()) return current.gradFunc(dy, saved, attrs);
      const [x] = saved as tf.Tensor[];
      return { x: () => clipGradient(x!, dy as tf.Tensor, attrs.clipValueMin as number, attrs.clipValueMax as number) };
    },
  });
}

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
  for (const [kernelName, make] of FUSED_KERNELS) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: make(status.addon) });
  }
  registerFusedGradients();
  useNativeClipGradient();
  return true;
}

/** Puts back the kernels the native ones replaced. Idempotent. */
export function disableNativeKernels(): void {
  for (const config of replaced.values()) swap(config);
  replaced.clear();
  if (plainClipGradient) {
    tf.unregisterGradient(tf.ClipByValue);
    tf.registerGradient(plainClipGradient);
    plainClipGradient = undefined;
  }
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
  const why = status.available ? 'native kernels turned off in this process' : status.reason;
  const replacing = NATIVE_KERNELS.map(({ kernelName, library }) =>
    isNativeKernel(kernelName) ? { kernelName, native: true, detail: describeNativeKernel(library) } : { kernelName, native: false, detail: why });
  // The fused kernels stay registered once loaded; fused-steps.ts calls them only while the native kernels are enabled.
  const fused = FUSED_KERNELS.map(([kernelName, , what]) =>
    nativeKernelsEnabled() && tf.getKernel(kernelName, 'wasm') ? { kernelName, native: true, detail: describeNativeKernel(what) } : { kernelName, native: false, detail: `the unfused tfjs ops: ${why}` });
  return [...replacing, ...fused];
}
