/**
 * Timings of the wasm kernels this project supplies, against the alternatives considered and against what
 * tfjs-backend-wasm had. Run: npx vite-node test/tensor/bench-wasm-kernels.ts   (not part of `vitest run`)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import type { KernelArgs, Shape4 } from '../../src/tensor/wasm-kernels/_shared.js';

// tfjs-backend-wasm's own kernels, captured before src/tensor replaces them.
const originals = Object.fromEntries(['MaxPoolGrad', 'BatchMatMul', 'Conv2DBackpropInput'].map((k) => [k, tf.getKernel(k, 'wasm')!.kernelFunc]));
const { useBackend } = await import('../../src/tensor/backend.js');
const { compose, delegateToCpu } = await import('../../src/tensor/wasm-kernels/_shared.js');
const { conv2DBackpropFilter } = await import('../../src/tensor/wasm-kernels/Conv2DBackpropFilter.js');
const { conv2DBackpropInput } = await import('../../src/tensor/wasm-kernels/Conv2DBackpropInput.js');
const { depthwiseConv2dNativeBackpropFilter } = await import('../../src/tensor/wasm-kernels/DepthwiseConv2dNativeBackpropFilter.js');
const { depthwiseConv2dNativeBackpropInput } = await import('../../src/tensor/wasm-kernels/DepthwiseConv2dNativeBackpropInput.js');
const { maxPoolGrad } = await import('../../src/tensor/wasm-kernels/MaxPoolGrad.js');

const noMasks = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 };

/** Alternative to the conv trick: im2col (fh*fw strided slices concatenated), then one XNNPACK matMul. */
function conv2DBackpropFilterIm2col({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  return compose(backend, (s) => {
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const { top, left } = info.padInfo;
    const xp = s.pad(x, [[0, 0], [top, Math.max(0, (oh - 1) * sh + fh - h - top)], [left, Math.max(0, (ow - 1) * sw + fw - w - left)], [0, 0]]);
    const taps: tf.TensorInfo[] = [];
    for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) {
      taps.push(s.run('StridedSlice', { x: xp }, { begin: [0, i, j, 0], end: [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, ci], strides: [1, sh, sw, 1], ...noMasks }));
    }
    const patches = taps.length === 1 ? taps[0]! : s.run('Concat', taps as unknown as tf.NamedTensorInfoMap, { axis: 3 });
    const pT = s.transpose(s.reshape(patches, [n * oh * ow, fh * fw * ci]), [1, 0]);
    const mm = s.run('BatchMatMul', { a: s.reshape(pT, [1, fh * fw * ci, n * oh * ow]), b: s.reshape(dy, [1, n * oh * ow, co]) }, { transposeA: false, transposeB: false });
    return s.reshape(mm, [fh, fw, ci, co]);
  });
}

/** Alternative to the depthwise trick: per filter tap, a strided slice times dy, summed over (n, y, x). */
function depthwiseBackpropFilterPerTap({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  return compose(backend, (s) => {
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, true);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const m = filterShape[3];
    const { top, left } = info.padInfo;
    const xp = s.pad(x, [[0, 0], [top, Math.max(0, (oh - 1) * sh + fh - h - top)], [left, Math.max(0, (ow - 1) * sw + fw - w - left)], [0, 0]]);
    const dy5 = s.reshape(dy, [n, oh, ow, c, m]);
    const taps: tf.TensorInfo[] = [];
    for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) {
      const xs = s.run('StridedSlice', { x: xp }, { begin: [0, i, j, 0], end: [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c], strides: [1, sh, sw, 1], ...noMasks });
      taps.push(s.reshape(s.sum(s.run('Multiply', { a: s.reshape(xs, [n, oh, ow, c, 1]), b: dy5 }), [0, 1, 2]), [1, c, m]));
    }
    return s.reshape(s.run('Concat', taps as unknown as tf.NamedTensorInfoMap, { axis: 0 }), [fh, fw, c, m]);
  });
}

function time(f: () => void, reps = 3): number {
  f();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) f();
  return (performance.now() - t0) / reps;
}

await useBackend('wasm');
const backend = tf.backend() as unknown as tf.KernelBackend & { disposeData(d: object): void };
const runAndFree = (fn: (a: KernelArgs) => tf.TensorInfo, inputs: tf.NamedTensorInfoMap, attrs: object) => () => {
  const o = fn({ inputs, attrs: attrs as tf.NamedAttrMap, backend });
  backend.disposeData(o.dataId);
};
const gflops = (flop: number, ms: number) => `${ms.toFixed(1)} ms (${(flop / ms / 1e6).toFixed(1)} GFLOP/s)`;

console.log('Conv2DBackpropFilter: conv trick (chosen) vs im2col + matMul; forward conv2d for scale');
for (const c of [
  { name: 'x 64x28x28x32, 5x5 -> 32, s1 same', x: [64, 28, 28, 32], f: [5, 5, 32, 32] as Shape4, s: 1, pad: 'same' as const },
  { name: 'x 64x28x28x32, 5x5 -> 64, s1 same', x: [64, 28, 28, 32], f: [5, 5, 32, 64] as Shape4, s: 1, pad: 'same' as const },
  { name: 'x 64x28x28x1, 7x7 -> 64, s1 same', x: [64, 28, 28, 1], f: [7, 7, 1, 64] as Shape4, s: 1, pad: 'same' as const },
  { name: 'x 64x28x28x32, 3x3 -> 64, s2 valid', x: [64, 28, 28, 32], f: [3, 3, 32, 64] as Shape4, s: 2, pad: 'valid' as const },
  { name: 'x 64x14x14x64, 3x3 -> 64, s1 same', x: [64, 14, 14, 64], f: [3, 3, 64, 64] as Shape4, s: 1, pad: 'same' as const },
]) {
  const x = tf.randomNormal(c.x), w = tf.randomNormal(c.f);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
  const dy = tf.randomNormal(y.shape);
  const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
  const flop = 2 * y.size * c.f[0] * c.f[1] * c.f[2];
  const trick = time(runAndFree(conv2DBackpropFilter, { x, dy }, attrs));
  const im2col = time(runAndFree(conv2DBackpropFilterIm2col, { x, dy }, attrs));
  const fwd = time(() => tf.dispose(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad)));
  console.log(`  ${c.name}: conv trick ${gflops(flop, trick)} | im2col ${gflops(flop, im2col)} | forward ${gflops(flop, fwd)}`);
  tf.dispose([x, w, y, dy]);
}

console.log('Conv2DBackpropInput: replacement (form it picks) and each form forced vs tfjs-backend-wasm\'s loop; forward conv2d for scale');
for (const c of [
  { name: 'x 64x8x8x32 <- dy 64x8x8x64, 5x5, s1 same', x: [64, 8, 8, 32], f: [5, 5, 32, 64] as Shape4, s: 1, pad: 'same' as const },
  { name: 'x 64x16x16x32 <- dy 64x8x8x64, 5x5, s2 same', x: [64, 16, 16, 32], f: [5, 5, 32, 64] as Shape4, s: 2, pad: 'same' as const },
  { name: 'lca transpose: x 64x28x28x1 <- dy 64x28x28x64, 7x7, s1 same', x: [64, 28, 28, 1], f: [7, 7, 1, 64] as Shape4, s: 1, pad: 'same' as const },
  { name: 'ep_conv layer 1: x 64x28x28x1 <- dy 64x24x24x32, 5x5, s1 valid', x: [64, 28, 28, 1], f: [5, 5, 1, 32] as Shape4, s: 1, pad: 'valid' as const },
  { name: 'ep_conv layer 2: x 64x12x12x32 <- dy 64x8x8x64, 5x5, s1 valid', x: [64, 12, 12, 32], f: [5, 5, 32, 64] as Shape4, s: 1, pad: 'valid' as const },
  { name: 'x 64x28x28x32 <- dy 64x28x28x32, 5x5, s1 same', x: [64, 28, 28, 32], f: [5, 5, 32, 32] as Shape4, s: 1, pad: 'same' as const },
  { name: 'x 64x28x28x32 <- dy 64x13x13x64, 3x3, s2 valid', x: [64, 28, 28, 32], f: [3, 3, 32, 64] as Shape4, s: 2, pad: 'valid' as const },
]) {
  const x = tf.randomNormal(c.x), w = tf.randomNormal(c.f);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
  const dy = tf.randomNormal(y.shape);
  const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
  const flop = 2 * y.size * c.f[0] * c.f[1] * c.f[2];
  const ours = time(runAndFree(conv2DBackpropInput, { dy, filter: w }, attrs));
  const forms = (['columns', 'stride-phases', ...(c.s === 1 ? ['flipped-conv'] as const : [])] as const).map((form) =>
    `${form} ${time(runAndFree((a) => conv2DBackpropInput(a, form), { dy, filter: w }, attrs)).toFixed(1)} ms`);
  const theirs = time(runAndFree(originals.Conv2DBackpropInput as unknown as (a: KernelArgs) => tf.TensorInfo, { dy, filter: w }, attrs), 1);
  const fwd = time(() => tf.dispose(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad)));
  console.log(`  ${c.name}: replacement ${gflops(flop, ours)} [${forms.join(', ')}] | tfjs-wasm ${gflops(flop, theirs)} | forward ${gflops(flop, fwd)}`);
  tf.dispose([x, w, y, dy]);
}

console.log('Depthwise backprops: filter by the depthwise-conv trick (chosen) vs per-tap multiply-and-sum; input; forward for scale');
for (const c of [
  { name: 'x 64x28x28x32, 3x3 x1, s1 same', x: [64, 28, 28, 32], f: [3, 3, 32, 1] as Shape4, s: 1 },
  { name: 'x 64x28x28x32, 5x5 x2, s2 same', x: [64, 28, 28, 32], f: [5, 5, 32, 2] as Shape4, s: 2 },
  { name: 'x 64x14x14x64, 3x3 x1, s1 same', x: [64, 14, 14, 64], f: [3, 3, 64, 1] as Shape4, s: 1 },
]) {
  const x = tf.randomNormal(c.x), w = tf.randomNormal(c.f);
  const y = tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, 'same');
  const dy = tf.randomNormal(y.shape);
  const attrs = { strides: c.s, pad: 'same', dilations: 1, filterShape: c.f };
  const trick = time(runAndFree(depthwiseConv2dNativeBackpropFilter, { x, dy }, attrs));
  const perTap = time(runAndFree(depthwiseBackpropFilterPerTap, { x, dy }, attrs));
  const input = time(runAndFree(depthwiseConv2dNativeBackpropInput, { dy, filter: w }, { ...attrs, inputShape: c.x }));
  const fwd = time(() => tf.dispose(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, 'same')));
  console.log(`  ${c.name}: filter: trick ${trick.toFixed(1)} ms, per-tap ${perTap.toFixed(1)} ms | input ${input.toFixed(1)} ms | forward ${fwd.toFixed(1)} ms`);
  tf.dispose([x, w, y, dy]);
}

console.log('MaxPoolGrad: JS loop over the heap (chosen) vs tfjs-backend-wasm\'s (wrong) and the cpu reference on copies');
for (const c of [
  { name: 'x 64x28x28x32, 2x2 s2', x: [64, 28, 28, 32], f: 2, s: 2, pad: 'valid' as const },
  { name: 'x 64x28x28x32, 3x3 s2 same', x: [64, 28, 28, 32], f: 3, s: 2, pad: 'same' as const },
]) {
  const input = tf.randomNormal(c.x);
  const output = tf.maxPool(input as tf.Tensor4D, c.f, c.s, c.pad);
  const dy = tf.randomNormal(output.shape);
  const attrs = { filterSize: c.f, strides: c.s, pad: c.pad };
  const inputs = { dy, input, output };
  const ours = time(runAndFree(maxPoolGrad, inputs, attrs));
  const theirs = time(runAndFree(originals.MaxPoolGrad as unknown as (a: KernelArgs) => tf.TensorInfo, inputs, attrs));
  const cpuRef = time(runAndFree(delegateToCpu('MaxPoolGrad') as unknown as (a: KernelArgs) => tf.TensorInfo, inputs, attrs), 1);
  console.log(`  ${c.name}: JS loop ${ours.toFixed(1)} ms | tfjs-wasm (wrong) ${theirs.toFixed(1)} ms | cpu reference ${cpuRef.toFixed(1)} ms`);
  tf.dispose([input, output, dy]);
}

console.log('BatchMatMul: replacement (chosen) vs tfjs-backend-wasm\'s');
const ours = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc as unknown as (a: KernelArgs) => tf.TensorInfo;
const theirs = originals.BatchMatMul as unknown as (a: KernelArgs) => tf.TensorInfo;
for (const [label, as, bs, tA, tB] of [
  ['1024x1024 @ 1024x1024', [1, 1024, 1024], [1, 1024, 1024], false, false],
  ['1024x1024 @ (1024x1024)^T', [1, 1024, 1024], [1, 1024, 1024], false, true],
  ['(1024x1024)^T @ 1024x1024', [1, 1024, 1024], [1, 1024, 1024], true, false],
  ['dense grad dx: 64x256 @ (784x256)^T', [1, 64, 256], [1, 784, 256], false, true],
  ['dense grad dW: (64x784)^T @ 64x256', [1, 64, 784], [1, 64, 256], true, false],
  ['batched a, shared b: 16x64x256 @ 256x256', [16, 64, 256], [1, 256, 256], false, false],
  ['batched both: 16x64x256 @ 16x256x64', [16, 64, 256], [16, 256, 64], false, false],
] as const) {
  const a = tf.randomNormal([...as]), b = tf.randomNormal([...bs]);
  const m = tA ? as[2] : as[1], k = tA ? as[1] : as[2], n = tB ? bs[1] : bs[2];
  const flop = 2 * Math.max(as[0], bs[0]) * m * k * n;
  const attrs = { transposeA: tA, transposeB: tB };
  const t1 = time(runAndFree(ours, { a, b }, attrs)), t2 = time(runAndFree(theirs, { a, b }, attrs), 1);
  console.log(`  ${label}: replacement ${gflops(flop, t1)} | tfjs-wasm ${gflops(flop, t2)}`);
  tf.dispose([a, b]);
}
