/**
 * im2col and col2im as tfjs kernels with gradients, so that a strided convolution and its transpose become
 * one matrix product each (the GEMM form every BLAS-backed framework uses):
 *
 *   conv(x, W)            = im2col(x) · W_m             W_m = W reshaped [k·k·C, K]
 *   conv_transpose(a, W)  = col2im(a · W_mᵀ)
 *
 * `im2col(x)` [B, H, W, C] → [B, OH, OW, k·k·C] gathers, for each output position (oy, ox), the k×k×C patch
 * whose top-left corner is (oy·s − padTop, ox·s − padLeft) (zeros outside the image), in the (i, j, c)
 * order of a reshaped HWIO filter. `col2im` is its adjoint: it adds each patch back into the image. Each is
 * the other's gradient.
 *
 * Why: tfjs-wasm 4.22's own Conv2DBackpropInput (the transposed convolution of an LCA reconstruction) is a
 * plain loop at about 1 GFLOP/s (replaced in wasm-kernels/Conv2DBackpropInput.ts, which uses these kernels), and a convolution with one output channel (the same thing in its flipped
 * form) at 2–3 GFLOP/s, because XNNPACK's kernels need several output channels; in the GEMM form all the
 * arithmetic is in XNNPACK's matrix product and only the data movement (k·k·C values per output position)
 * is in these loops. The kernels are plain JavaScript over the backend's own buffers: on wasm they read and
 * write the wasm heap in place (no copies); on cpu they work on the backend's arrays.
 *
 * Registered for 'wasm' and 'cpu' on import; `patchKernelsAvailable()` says whether the active backend has
 * them (other backends fall back to their own convolutions).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-kernels/_shared.js';

export interface PatchGeometry {
  /** Image height, width and channels. */
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Patch (filter) size k and stride s. */
  readonly kernelSize: number;
  readonly stride: number;
  /** Zeros added above and left of the image. */
  readonly padTop: number;
  readonly padLeft: number;
  /** Output positions. */
  readonly outHeight: number;
  readonly outWidth: number;
}

const IM2COL = 'NeurodynIm2Col';
const COL2IM = 'NeurodynCol2Im';

type Attrs = PatchGeometry & tf.NamedAttrMap;

/**
 * Copies every patch of `x` (batch `n`) into `cols`. Patches that lie wholly inside the image (most of them)
 * are k runs of k·C contiguous values, copied without bounds checks; border patches take the checked path.
 */
function gather(x: Float32Array, cols: Float32Array, n: number, g: PatchGeometry): void {
  const { height: h, width: w, channels: c, kernelSize: k, stride: s, padTop, padLeft, outHeight: oh, outWidth: ow } = g;
  const run = k * c;
  let out = 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * s - padTop;
      const rowsInside = y0 >= 0 && y0 + k <= h;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * s - padLeft;
        if (rowsInside && x0 >= 0 && x0 + k <= w) {
          for (let i = 0; i < k; i++) {
            const src = ((b * h + y0 + i) * w + x0) * c;
            for (let t = 0; t < run; t++) cols[out + t] = x[src + t]!;
            out += run;
          }
          continue;
        }
        for (let i = 0; i < k; i++) {
          const y = y0 + i;
          if (y < 0 || y >= h) {
            cols.fill(0, out, out + run);
            out += run;
            continue;
          }
          const rowBase = (b * h + y) * w;
          for (let j = 0; j < k; j++) {
            const xx = x0 + j;
            if (xx < 0 || xx >= w) cols.fill(0, out, out + c);
            else for (let ch = 0; ch < c; ch++) cols[out + ch] = x[(rowBase + xx) * c + ch]!;
            out += c;
          }
        }
      }
    }
}

/** Adds every patch of `cols` back into `image` (which it zeroes first); same interior fast path. */
function scatter(cols: Float32Array, image: Float32Array, n: number, g: PatchGeometry): void {
  const { height: h, width: w, channels: c, kernelSize: k, stride: s, padTop, padLeft, outHeight: oh, outWidth: ow } = g;
  const run = k * c;
  image.fill(0);
  let at = 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * s - padTop;
      const rowsInside = y0 >= 0 && y0 + k <= h;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * s - padLeft;
        if (rowsInside && x0 >= 0 && x0 + k <= w) {
          for (let i = 0; i < k; i++) {
            const dst = ((b * h + y0 + i) * w + x0) * c;
            for (let t = 0; t < run; t++) image[dst + t] = image[dst + t]! + cols[at + t]!;
            at += run;
          }
          continue;
        }
        for (let i = 0; i < k; i++) {
          const y = y0 + i;
          if (y < 0 || y >= h) {
            at += run;
            continue;
          }
          const rowBase = (b * h + y) * w;
          for (let j = 0; j < k; j++) {
            const xx = x0 + j;
            if (xx >= 0 && xx < w) {
              const base = (rowBase + xx) * c;
              for (let ch = 0; ch < c; ch++) image[base + ch] = image[base + ch]! + cols[at + ch]!;
            }
            at += c;
          }
        }
      }
    }
}

type Loop = (input: Float32Array, output: Float32Array, n: number, g: PatchGeometry) => void;

function wasmKernel(outShape: (input: tf.TensorInfo, g: PatchGeometry) => number[], loop: Loop): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackend;
    const input = inputs.x as tf.TensorInfo;
    const g = attrs as unknown as PatchGeometry;
    const out = wasm.makeOutput(outShape(input, g), 'float32');
    // Views after the allocation: growing the wasm memory detaches earlier views.
    loop(wasm.typedArrayFromHeap(input) as Float32Array, wasm.typedArrayFromHeap(out) as Float32Array, input.shape[0]!, g);
    return out;
  };
}

function cpuKernel(outShape: (input: tf.TensorInfo, g: PatchGeometry) => number[], loop: Loop): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const cpu = backend as tf.KernelBackend & { makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo };
    const input = inputs.x as tf.TensorInfo;
    const g = attrs as unknown as PatchGeometry;
    const shape = outShape(input, g);
    const out = new Float32Array(tf.util.sizeFromShape(shape));
    loop(cpu.readSync(input.dataId) as Float32Array, out, input.shape[0]!, g);
    return cpu.makeTensorInfo(shape, 'float32', out);
  };
}

const colsShape = (x: tf.TensorInfo, g: PatchGeometry) => [x.shape[0]!, g.outHeight, g.outWidth, g.kernelSize * g.kernelSize * g.channels];
const imageShape = (cols: tf.TensorInfo, g: PatchGeometry) => [cols.shape[0]!, g.height, g.width, g.channels];

function geometryOf(attrs: tf.NamedAttrMap): PatchGeometry {
  const a = attrs as unknown as PatchGeometry;
  return { height: a.height, width: a.width, channels: a.channels, kernelSize: a.kernelSize, stride: a.stride, padTop: a.padTop, padLeft: a.padLeft, outHeight: a.outHeight, outWidth: a.outWidth };
}

let registered = false;

/** Registers both kernels for wasm and cpu, and their gradients. Idempotent. */
export function registerPatchKernels(): void {
  if (registered) return;
  registered = true;
  for (const [name, shape, loop] of [
    [IM2COL, colsShape, gather],
    [COL2IM, imageShape, scatter],
  ] as const) {
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: wasmKernel(shape, loop) });
    if (!tf.getKernel(name, 'cpu')) tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: cpuKernel(shape, loop) });
  }
  if (!tf.getGradient(IM2COL)) tf.registerGradient({ kernelName: IM2COL, gradFunc: (dy, _saved, attrs) => ({ x: () => col2im(dy as tf.Tensor4D, geometryOf(attrs)) }) });
  if (!tf.getGradient(COL2IM)) tf.registerGradient({ kernelName: COL2IM, gradFunc: (dy, _saved, attrs) => ({ x: () => im2col(dy as tf.Tensor4D, geometryOf(attrs)) }) });
}

registerPatchKernels();

/** Whether the active backend runs these kernels. */
export function patchKernelsAvailable(): boolean {
  return tf.getKernel(IM2COL, tf.getBackend()) !== undefined;
}

export function im2col(x: tf.Tensor4D, g: PatchGeometry): tf.Tensor4D {
  if (x.dtype !== 'float32') throw new Error(`im2col: float32 input needed, got ${x.dtype}`);
  return tf.engine().runKernel(IM2COL, { x }, { ...g } as Attrs) as tf.Tensor4D;
}

export function col2im(cols: tf.Tensor4D, g: PatchGeometry): tf.Tensor4D {
  if (cols.dtype !== 'float32') throw new Error(`col2im: float32 input needed, got ${cols.dtype}`);
  return tf.engine().runKernel(COL2IM, { x: cols }, { ...g } as Attrs) as tf.Tensor4D;
}
