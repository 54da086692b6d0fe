/**
 * Native replacements of wasm kernels: BatchMatMul on sgemm (oneDNN's, or OpenBLAS's: native/src/gemm.cc), Conv2D, Conv2DBackpropInput and
 * Conv2DBackpropFilter on oneDNN (Conv2DBackpropInput onto 1–4 channels as an sgemm and a scatter,
 * native/src/conv-direct.cc), MaxPoolGrad on the addon's loop, and Identity without a copy. Each works in place on the wasm heap: it allocates its output with the
 * backend (which may grow the wasm memory and move its buffer), then hands the addon the heap's current
 * ArrayBuffer and the byte offsets of inputs and output; the addon writes the output there and keeps
 * nothing. No copies, no tf ops, so the engine's tape and tensor count see exactly what they see for the
 * wasm kernels, and tf.grad is unchanged (the gradients of matMul and conv2d call these same kernels).
 *
 * What the addon does not handle (other dtypes, NCHW, batch dimensions that broadcast against each other,
 * a padding oneDNN's formula cannot express) goes to `previous`, the kernel registered before (this
 * project's wasm kernel, src/tensor/wasm-kernels/).
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMulShape } from '../matmul-shape.js';
import type { NativeAddon } from './addon.js';

/** The part of tfjs-backend-wasm's BackendWasm the native kernels reach into. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

type Args = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: tf.KernelBackend };

const fallback = (previous: tf.KernelFunc, args: Args): tf.TensorInfo => previous(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
const offset = (backend: WasmHeapBackend, t: tf.TensorInfo): number => backend.dataIdMap.get(t.dataId)!.memoryOffset;

export function nativeBatchMatMul(addon: NativeAddon, previous: tf.KernelFunc): tf.KernelFunc {
  return ((args: Args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return fallback(previous, args);
    const { m, k: ka, n, outer, batchA, batchB } = matMulShape(a, b, transposeA, transposeB);
    const batch = tf.util.sizeFromShape(outer);
    // Each side is either one matrix for every batch or one per batch; partial broadcasts ([2,1] x [1,3]) go to previous.
    if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return fallback(previous, args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const out = backend.makeOutput([...outer, m, n], 'float32');
    if (m * n * batch === 0) return out;
    // The heap buffer is read after the allocation, which may have grown (and replaced) it.
    addon.gemm(backend.wasm.HEAPU8.buffer as ArrayBuffer, batch, m, n, ka, transposeA, transposeB, offset(backend, a), offset(backend, b),
      offset(backend, out), batchA === 1 ? 0 : m * ka, batchB === 1 ? 0 : ka * n, m * n);
    return out;
  }) as unknown as tf.KernelFunc;
}

/** The addon's geometry arguments, in native/src/kernels.h's ConvGeometry order; undefined where oneDNN cannot express it. */
export function convGeometry(info: tf.backend_util.Conv2DInfo): number[] | undefined {
  const { batchSize, inHeight, inWidth, inChannels, filterHeight, filterWidth, outChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, padInfo } = info;
  const { top, left, bottom, right } = padInfo;
  // oneDNN derives the output size as ⌊(in + padBefore + padAfter − effectiveKernel) / stride⌋ + 1.
  const fits = (input: number, before: number, after: number, kernel: number, dilation: number, stride: number, output: number) =>
    Math.floor((input + before + after - ((kernel - 1) * dilation + 1)) / stride) + 1 === output;
  if (!fits(inHeight, top, bottom, filterHeight, dilationHeight, strideHeight, outHeight)) return undefined;
  if (!fits(inWidth, left, right, filterWidth, dilationWidth, strideWidth, outWidth)) return undefined;
  if (batchSize * outHeight * outWidth * outChannels * inChannels === 0) return undefined;
  return [batchSize, inHeight, inWidth, inChannels, filterHeight, filterWidth, outChannels, outHeight, outWidth,
    strideHeight, strideWidth, top, left, bottom, right, dilationHeight, dilationWidth];
}

const channelsLast = (dataFormat: unknown) => dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';

export function nativeConv2D(addon: NativeAddon, previous: tf.KernelFunc): tf.KernelFunc {
  return ((args: Args) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
    if (x.dtype !== 'float32' || filter.dtype !== 'float32' || !channelsLast(dataFormat)) return fallback(previous, args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
    const geometry = convGeometry(info);
    if (!geometry || filter.shape[2] !== x.shape[3]) return fallback(previous, args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const out = backend.makeOutput(info.outShape, 'float32');
    addon.conv(0, backend.wasm.HEAPU8.buffer as ArrayBuffer, offset(backend, x), offset(backend, filter), offset(backend, out), ...geometry);
    return out;
  }) as unknown as tf.KernelFunc;
}

export function nativeConv2DBackpropInput(addon: NativeAddon, previous: tf.KernelFunc): tf.KernelFunc {
  return ((args: Args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || !channelsLast(dataFormat)) return fallback(previous, args);
    const info = tf.backend_util.computeConv2DInfo(inputShape as [number, number, number, number], filter.shape as [number, number, number, number],
      strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const geometry = convGeometry(info);
    if (!geometry || !tf.util.arraysEqual(info.outShape, dy.shape)) return fallback(previous, args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const out = backend.makeOutput([...inputShape], 'float32');
    addon.conv(1, backend.wasm.HEAPU8.buffer as ArrayBuffer, offset(backend, dy), offset(backend, filter), offset(backend, out), ...geometry);
    return out;
  }) as unknown as tf.KernelFunc;
}

export function nativeConv2DBackpropFilter(addon: NativeAddon, previous: tf.KernelFunc): tf.KernelFunc {
  return ((args: Args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32' || !channelsLast(dataFormat)) return fallback(previous, args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape as [number, number, number, number],
      strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const geometry = convGeometry(info);
    if (!geometry || !tf.util.arraysEqual(info.outShape, dy.shape)) return fallback(previous, args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const out = backend.makeOutput([...filterShape], 'float32');
    addon.conv(2, backend.wasm.HEAPU8.buffer as ArrayBuffer, offset(backend, x), offset(backend, dy), offset(backend, out), ...geometry);
    return out;
  }) as unknown as tf.KernelFunc;
}

/**
 * Identity (tf.clone, and the copies tfjs's engine makes of every tensor a gradient saves) as a second
 * reference to the same wasm buffer, as the cpu backend does, instead of tfjs-wasm's copy: under tf.grad
 * every saved input was copied, e.g. the 784×500 weights once per unrolled EP step. Safe because no kernel
 * writes into an existing buffer (outputs are always fresh, Variable.assign swaps buffers).
 */
export function sharedIdentity(_addon: NativeAddon, previous: tf.KernelFunc): tf.KernelFunc {
  return ((args: Args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return fallback(previous, args);
    (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  }) as unknown as tf.KernelFunc;
}

/** MaxPoolGrad (NHWC, float32) on the addon's loop (native/src/pool.cc), the same computation as the project's wasm kernel. */
export function nativeMaxPoolGrad(addon: NativeAddon, previous: tf.KernelFunc): tf.KernelFunc {
  return ((args: Args) => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
    if (dy.dtype !== 'float32' || input.dtype !== 'float32' || input.shape.length !== 4) return fallback(previous, args);
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    if (!tf.util.arraysEqual(info.outShape, dy.shape)) return fallback(previous, args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const out = backend.makeOutput([...input.shape], 'float32');
    if (tf.util.sizeFromShape(input.shape) === 0) return out;
    addon.maxPoolGrad(backend.wasm.HEAPU8.buffer as ArrayBuffer, offset(backend, input), offset(backend, dy), offset(backend, out),
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth,
      info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
    return out;
  }) as unknown as tf.KernelFunc;
}
