/**
 * Fused native steps, registered as wasm kernels with their gradients, so that tf.grad differentiates them
 * like any op (no fallback needed inside a tape). Used through src/tensor/fused-steps.ts, which runs the
 * unfused tfjs ops wherever these kernels are not active.
 *
 *   NeurodynLeakyIntegrate   u + rate · (p + qScale · q − u)                          (LCA's Euler step)
 *   NeurodynEpLayer          pre = addend + below · W + above · Vᵀ, out = clip(pre)   (one EP layer's free step)
 *   NeurodynSoftThreshold    max(u − λ, 0)                                            (LCA's non-negative code)
 *   NeurodynClipGrad         dy where lo ≤ x ≤ hi, else 0                             (clip's gradient, one pass)
 *   NeurodynSoftThresholdGrad dy where u > λ, else 0
 *   NeurodynSgdMomentum      v' = μ v + g (+ λ θ), θ' = θ − lr · v'                    (one optimizer step; no gradient)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';

import { CLIP_GRAD, EP_LAYER, LEAKY_INTEGRATE, SGD_MOMENTUM, SOFT_THRESHOLD, SOFT_THRESHOLD_GRAD } from './kernel-names.js';

export { CLIP_GRAD, EP_LAYER, LEAKY_INTEGRATE, SGD_MOMENTUM, SOFT_THRESHOLD, SOFT_THRESHOLD_GRAD };

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap; backend: tf.KernelBackend };

const heapOf = (wasm: WasmHeapBackend) => wasm.wasm.HEAPU8.buffer as ArrayBuffer;
const offsetOf = (wasm: WasmHeapBackend, t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!.memoryOffset;
const sizeOf = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape);

/** out = u + rate · (p + qScale · q − u), in one pass (native/src/fused.cc). */
export function leakyIntegrateKernel(addon: NativeAddon): tf.KernelFunc {
  return (({ inputs, attrs, backend }: KernelArgs) => {
    const { u, p, q } = inputs as { u: tf.TensorInfo; p: tf.TensorInfo; q: tf.TensorInfo };
    const wasm = backend as unknown as WasmHeapBackend;
    const out = wasm.makeOutput([...u.shape], 'float32');
    const n = sizeOf(u);
    if (n === 0) return out;
    const at = (t: tf.TensorInfo) => offsetOf(wasm, t);
    addon.leakyIntegrate(heapOf(wasm), at(u), at(p), at(q), at(out), n, attrs.rate as number, attrs.qScale as number);
    return out;
  }) as unknown as tf.KernelFunc;
}

/**
 * One EP layer (native/src/ep.cc). Inputs below [rows, m], W [m, n], addend ([n] bias or [rows, n] drive),
 * above [rows, p], V [n, p]; an absent product is given as zero-size below/W (m = 0) or above/V (p = 0), so
 * that the kernel always has the same five inputs (tfjs saves inputs for the gradient by name). Outputs
 * [out, pre]: `pre` is there for the gradient's mask only and is not differentiable (its gradient is ignored).
 */
export function epLayerKernel(addon: NativeAddon): tf.KernelFunc {
  return (({ inputs, attrs, backend }: KernelArgs) => {
    const { below, W, addend, above, V } = inputs as Record<'below' | 'W' | 'addend' | 'above' | 'V', tf.TensorInfo>;
    const wasm = backend as unknown as WasmHeapBackend;
    const [rows, n] = [addend.shape.length === 2 ? addend.shape[0]! : below.shape[0]!, addend.shape[addend.shape.length - 1]!];
    const m = below.shape[1]!, p = above.shape[1]!;
    const pre = wasm.makeOutput([rows, n], 'float32');
    const out = wasm.makeOutput([rows, n], 'float32');
    if (rows * n > 0) {
      const at = (t: tf.TensorInfo) => (sizeOf(t) === 0 ? -1 : offsetOf(wasm, t));
      const drive = addend.shape.length === 2;
      addon.epLayer(heapOf(wasm), rows, m, n, p, at(below), at(W), drive ? -1 : at(addend), drive ? at(addend) : -1, at(above), at(V),
        offsetOf(wasm, pre), offsetOf(wasm, out), attrs.lo as number, attrs.hi as number);
    }
    return [out, pre];
  }) as unknown as tf.KernelFunc;
}

/** dx = dy where lo ≤ x ≤ hi, else 0. */
export function clipGradKernel(addon: NativeAddon): tf.KernelFunc {
  return (({ inputs, attrs, backend }: KernelArgs) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const wasm = backend as unknown as WasmHeapBackend;
    const out = wasm.makeOutput([...x.shape], 'float32');
    const n = sizeOf(x);
    if (n > 0) addon.clipGrad(heapOf(wasm), offsetOf(wasm, x), offsetOf(wasm, dy), offsetOf(wasm, out), n, attrs.lo as number, attrs.hi as number);
    return out;
  }) as unknown as tf.KernelFunc;
}

/** a = max(u − λ, 0). */
export function softThresholdKernel(addon: NativeAddon): tf.KernelFunc {
  return (({ inputs, attrs, backend }: KernelArgs) => {
    const { u } = inputs as { u: tf.TensorInfo };
    const wasm = backend as unknown as WasmHeapBackend;
    const out = wasm.makeOutput([...u.shape], 'float32');
    const n = sizeOf(u);
    if (n > 0) addon.softThreshold(heapOf(wasm), offsetOf(wasm, u), offsetOf(wasm, out), n, attrs.lambda as number);
    return out;
  }) as unknown as tf.KernelFunc;
}

/** du = dy where u > λ, else 0. */
export function softThresholdGradKernel(addon: NativeAddon): tf.KernelFunc {
  return (({ inputs, attrs, backend }: KernelArgs) => {
    const { u, dy } = inputs as { u: tf.TensorInfo; dy: tf.TensorInfo };
    const wasm = backend as unknown as WasmHeapBackend;
    const out = wasm.makeOutput([...u.shape], 'float32');
    const n = sizeOf(u);
    if (n > 0) addon.softThresholdGrad(heapOf(wasm), offsetOf(wasm, u), offsetOf(wasm, dy), offsetOf(wasm, out), n, attrs.lambda as number);
    return out;
  }) as unknown as tf.KernelFunc;
}

/** One SGD-momentum step (native/src/fused.cc): inputs θ, velocity, direction of one shape; outputs [θ', v']. */
export function sgdMomentumKernel(addon: NativeAddon): tf.KernelFunc {
  return (({ inputs, attrs, backend }: KernelArgs) => {
    const { theta, velocity, direction } = inputs as Record<'theta' | 'velocity' | 'direction', tf.TensorInfo>;
    const wasm = backend as unknown as WasmHeapBackend;
    const thetaOut = wasm.makeOutput([...theta.shape], 'float32');
    const velocityOut = wasm.makeOutput([...theta.shape], 'float32');
    const n = sizeOf(theta);
    if (n > 0) {
      const at = (t: tf.TensorInfo) => offsetOf(wasm, t);
      addon.sgdMomentum(heapOf(wasm), at(theta), at(velocity), at(direction), at(thetaOut), at(velocityOut), n,
        attrs.lr as number, attrs.momentum as number, attrs.decay as number);
    }
    return [thetaOut, velocityOut];
  }) as unknown as tf.KernelFunc;
}

/** clip's gradient with the native kernel (registered whenever the fused kernels are). */
export function clipGradient(x: tf.Tensor, dy: tf.Tensor, lo: number, hi: number): tf.Tensor {
  return tf.engine().runKernel(CLIP_GRAD, { x, dy }, { lo, hi }) as tf.Tensor;
}

let gradientsRegistered = false;

/**
 * Gradients of the fused kernels, each the derivative of its defining formula:
 *   leaky integration: linear, ∂/∂u = 1 − rate, ∂/∂p = rate, ∂/∂q = rate · qScale;
 *   EP layer: with g = dout ⊙ [lo ≤ pre ≤ hi], ∂/∂below = g Wᵀ, ∂/∂W = belowᵀ g, ∂/∂addend = g (summed over
 *     rows for a bias), ∂/∂above = g V, ∂/∂V = gᵀ above;
 *   soft threshold: dy ⊙ [u > λ] (relu's gradient at u − λ, which is positive exactly where u > λ).
 * The gradient kernels themselves have no gradient (no second derivatives through fused steps).
 */
export function registerFusedGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  if (!tf.getGradient(LEAKY_INTEGRATE)) {
    tf.registerGradient({
      kernelName: LEAKY_INTEGRATE,
      gradFunc: (dy, _saved, attrs) => {
        const rate = attrs.rate as number, qScale = attrs.qScale as number;
        const g = dy as tf.Tensor;
        return { u: () => tf.mul(g, 1 - rate), p: () => tf.mul(g, rate), q: () => tf.mul(g, rate * qScale) };
      },
    });
  }
  if (!tf.getGradient(EP_LAYER)) {
    tf.registerGradient({
      kernelName: EP_LAYER,
      inputsToSave: ['below', 'W', 'addend', 'above', 'V'],
      outputsToSave: [false, true],
      gradFunc: (dys, saved, attrs) => {
        const [below, W, addend, above, V, pre] = saved as tf.Tensor[];
        const dout = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
        const g = clipGradient(pre!, dout, attrs.lo as number, attrs.hi as number);
        return {
          below: () => tf.matMul(g, W!, false, true),
          W: () => tf.matMul(below!, g, true, false),
          addend: () => (addend!.rank === 1 ? tf.sum(g, 0) : g),
          above: () => tf.matMul(g, V!),
          V: () => tf.matMul(g, above!, true, false),
        };
      },
    });
  }
  if (!tf.getGradient(SOFT_THRESHOLD)) {
    tf.registerGradient({
      kernelName: SOFT_THRESHOLD,
      inputsToSave: ['u'],
      gradFunc: (dy, saved, attrs) => {
        const [u] = saved as tf.Tensor[];
        return { u: () => tf.engine().runKernel(SOFT_THRESHOLD_GRAD, { u: u!, dy: dy as tf.Tensor }, { lambda: attrs.lambda as number }) as tf.Tensor };
      },
    });
  }
}
