/**
 * Timings of the wasm kernels this project supplies, against the alternatives considered.
 * Run: npx vite-node test/tensor/bench-wasm-kernels.ts   (not part of `vitest run`)
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/tensor/backend.js';
import { compose, type KernelArgs, type Shape4 } from '../../src/tensor/wasm-kernels/_shared.js';
import { conv2DBackpropFilter } from '../../src/tensor/wasm-kernels/Conv2DBackpropFilter.js';

/** The alternative: im2col (fh*fw strided slices concatenated) then one XNNPACK matMul. */
function conv2DBackpropFilterIm2col({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  return compose(backend, (s) => {
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const { top, left } = info.padInfo;
    const bottom = Math.max(0, (oh - 1) * sh + fh - h - top);
    const right = Math.max(0, (ow - 1) * sw + fw - w - left);
    const xp = s.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    const taps: tf.TensorInfo[] = [];
    for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) {
      taps.push(s.run('StridedSlice', { x: xp }, { begin: [0, i, j, 0], end: [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, ci], strides: [1, sh, sw, 1], beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 }));
    }
    const patches = taps.length === 1 ? taps[0]! : s.run('Concat', taps as unknown as tf.NamedTensorInfoMap, { axis: 3 });
    const pT = s.transpose(s.reshape(patches, [n * oh * ow, fh * fw * ci]), [1, 0]);
    const mm = s.run('BatchMatMul', { a: s.reshape(pT, [1, fh * fw * ci, n * oh * ow]), b: s.reshape(dy, [1, n * oh * ow, co]) }, { transposeA: false, transposeB: false });
    return s.reshape(mm, [fh, fw, ci, co]);
  });
}

function time(f: () => void, reps = 3): number {
  f();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) f();
  return (performance.now() - t0) / reps;
}

await useBackend('wasm');
const backend = tf.backend();
const cases: Array<{ name: string; x: number[]; f: [number, number, number, number]; s: number; pad: 'same' | 'valid' }> = [
  { name: 'x64x28x28x32 5x5 ->32 s1 same', x: [64, 28, 28, 32], f: [5, 5, 32, 32], s: 1, pad: 'same' },
  { name: 'x64x28x28x32 5x5 ->64 s1 same', x: [64, 28, 28, 32], f: [5, 5, 32, 64], s: 1, pad: 'same' },
  { name: 'x64x28x28x1 7x7 ->64 s1 same (LCA dictionary)', x: [64, 28, 28, 1], f: [7, 7, 1, 64], s: 1, pad: 'same' },
  { name: 'x64x28x28x32 3x3 ->64 s2 valid', x: [64, 28, 28, 32], f: [3, 3, 32, 64], s: 2, pad: 'valid' },
  { name: 'x64x14x14x64 3x3 ->64 s1 same', x: [64, 14, 14, 64], f: [3, 3, 64, 64], s: 1, pad: 'same' },
];
for (const c of cases) {
  const x = tf.randomNormal(c.x);
  const y = tf.conv2d(x as tf.Tensor4D, tf.randomNormal(c.f) as tf.Tensor4D, c.s, c.pad);
  const dy = tf.randomNormal(y.shape);
  const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f } as unknown as tf.NamedAttrMap;
  const flop = 2 * y.size * c.f[0]! * c.f[1]! * c.f[2]!;
  const row: string[] = [c.name];
  for (const [label, fn] of [['conv-trick', conv2DBackpropFilter], ['im2col+matMul', conv2DBackpropFilterIm2col]] as const) {
    const ms = time(() => { const o = fn({ inputs: { x, dy }, attrs, backend }); (backend as unknown as { disposeData(d: object): void }).disposeData(o.dataId); });
    row.push(`${label} ${ms.toFixed(0)} ms (${(flop / ms / 1e6).toFixed(1)} GFLOP/s)`);
  }
  const fwd = time(() => tf.dispose(tf.conv2d(x as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.s, c.pad)));
  row.push(`[forward conv2d ${fwd.toFixed(0)} ms]`);
  console.log(row.join(' | '));
  tf.dispose([x, y, dy]);
}
