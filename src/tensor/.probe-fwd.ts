import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
function mulberry(seed: number) { return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
function rnd(shape: number[], seed: number) { const r = mulberry(seed); const n = shape.reduce((a, b) => a * b, 1); return tf.tensor(Float32Array.from({ length: n }, () => r() * 2 - 1), shape); }
const cases: Record<string, () => tf.Tensor> = {
  conv3d_same: () => tf.conv3d(rnd([1, 3, 4, 4, 2],1) as tf.Tensor5D, rnd([2, 2, 2, 2, 3],2) as tf.Tensor5D, 1, 'same'),
  conv3d_s2: () => tf.conv3d(rnd([2, 4, 5, 5, 2],1) as tf.Tensor5D, rnd([3, 3, 3, 2, 3],2) as tf.Tensor5D, 2, 'same'),
  dilation2d: () => tf.dilation2d(rnd([1, 5, 5, 2],1) as tf.Tensor4D, rnd([2, 2, 2],2) as tf.Tensor3D, 1, 'same'),
  maxpool3d: () => tf.maxPool3d(rnd([1, 3, 4, 4, 2],1) as tf.Tensor5D, 2, 1, 'same'),
  maxpool3d_valid: () => tf.maxPool3d(rnd([1, 3, 4, 4, 2],1) as tf.Tensor5D, 2, 1, 'valid'),
  maxpool3d_pos: () => tf.maxPool3d(tf.add(rnd([1, 3, 4, 4, 2],1),2) as tf.Tensor5D, 2, 1, 'same'),
  avgpool3d: () => tf.avgPool3d(rnd([1, 3, 4, 4, 2],1) as tf.Tensor5D, 2, 1, 'same'),
  maxpool: () => tf.maxPool(rnd([2, 7, 7, 3],1) as tf.Tensor4D, 3, 2, 'same'),
  conv2dBackpropInput: () => tf.conv2dTranspose(rnd([2, 4, 4, 3],1) as tf.Tensor4D, rnd([3, 3, 5, 3],2) as tf.Tensor4D, [2, 8, 8, 5], 2, 'same'),
  conv2dBackpropInput_valid: () => tf.conv2dTranspose(rnd([2, 4, 4, 3],1) as tf.Tensor4D, rnd([3, 3, 5, 3],2) as tf.Tensor4D, [2, 9, 9, 5], 2, 'valid'),
  conv2d_dil: () => tf.conv2d(rnd([2, 9, 9, 3],1) as tf.Tensor4D, rnd([3, 3, 3, 4],2) as tf.Tensor4D, 1, 'same', 'NHWC', 2),
  conv2d_explicit: () => tf.conv2d(rnd([2, 9, 9, 3],1) as tf.Tensor4D, rnd([3, 3, 3, 4],2) as tf.Tensor4D, 2, [[0,0],[1,2],[0,1],[0,0]]),
  dw_dil: () => tf.depthwiseConv2d(rnd([2, 9, 9, 3],1) as tf.Tensor4D, rnd([3, 3, 3, 2],2) as tf.Tensor4D, 1, 'same', 'NHWC', 2),
};
for (const [name, f] of Object.entries(cases)) {
  const r: Record<string, Float32Array> = {};
  for (const be of ['cpu', 'wasm']) { await tf.setBackend(be); try { r[be] = f().dataSync() as Float32Array; } catch (e) { console.log(name, be, (e as Error).message.slice(0, 100)); } }
  if (r.cpu && r.wasm) console.log(name, 'fwd maxdiff', Math.max(...Array.from(r.cpu, (v, i) => Math.abs(v - r.wasm![i]!))).toExponential(1));
}
