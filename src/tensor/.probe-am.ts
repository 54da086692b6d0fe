import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './vendor/tfjs-gradients.js';
function mulberry(seed: number) { return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
function rnd(shape: number[], seed: number) { const r = mulberry(seed); const n = shape.reduce((a, b) => a * b, 1); return tf.tensor(Float32Array.from({ length: n }, () => r() * 2 - 1), shape); }
for (const be of ['cpu', 'wasm']) {
  await tf.setBackend(be);
  const x = tf.tensor4d([-1, -2, -3, -4, 0, 0, 0, 0, 5, 5, 1, 1, -7, -3, -3, -9], [1, 4, 4, 1]);
  const r = tf.maxPoolWithArgmax(x, 2, 2, 'valid', true);
  console.log(be, Array.from(r.result.dataSync()), Array.from(r.indexes.dataSync()));
  const x2 = rnd([2, 5, 5, 3], 4);
  const r2 = tf.maxPoolWithArgmax(x2 as tf.Tensor4D, 3, 2, 'same', true);
  console.log(be, 'same', Array.from(r2.indexes.dataSync()).slice(0, 30).join(','));
  const xi = rnd([1, 4, 4, 2], 5);
  const gr = tf.grad((x: tf.Tensor4D) => tf.sum(tf.mul(tf.image.resizeBilinear(x, [7, 7]), rnd([1, 7, 7, 2], 6))))(xi as tf.Tensor4D);
  console.log(be, 'resize grad', Array.from(gr.dataSync()).slice(0, 6));
}
