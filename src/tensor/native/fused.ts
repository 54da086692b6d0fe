/**
 * Fused native steps, registered as wasm kernels with their gradients, so that tf.grad differentiates them
 * like any op (no fallback needed inside a tape). Used through src/tensor/fused-steps.ts, which runs the
 * unfused tfjs ops wherever these kernels are not active.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';

export const LEAKY_INTEGRATE = 'NeurodynLeakyIntegrate';

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/** out = u + rate · (p + qScale · q − u), in one pass (native/src/fused.cc). */
export function leakyIntegrateKernel(addon: NativeAddon): tf.KernelFunc {
  return (({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap; backend: tf.KernelBackend }) => {
    const { u, p, q } = inputs as { u: tf.TensorInfo; p: tf.TensorInfo; q: tf.TensorInfo };
    const wasm = backend as unknown as WasmHeapBackend;
    const out = wasm.makeOutput([...u.shape], 'float32');
    const n = tf.util.sizeFromShape(u.shape);
    if (n === 0) return out;
    const at = (t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!.memoryOffset;
    addon.leakyIntegrate(wasm.wasm.HEAPU8.buffer as ArrayBuffer, at(u), at(p), at(q), at(out), n, attrs.rate as number, attrs.qScale as number);
    return out;
  }) as unknown as tf.KernelFunc;
}

let gradientRegistered = false;

/** The gradient is linear: ∂out/∂u = 1 − rate, ∂out/∂p = rate, ∂out/∂q = rate · qScale. */
export function registerFusedGradients(): void {
  if (gradientRegistered || tf.getGradient(LEAKY_INTEGRATE)) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: LEAKY_INTEGRATE,
    gradFunc: (dy, _saved, attrs) => {
      const rate = attrs.rate as number, qScale = attrs.qScale as number;
      const g = dy as tf.Tensor;
      return { u: () => tf.mul(g, 1 - rate), p: () => tf.mul(g, rate), q: () => tf.mul(g, rate * qScale) };
    },
  });
}
