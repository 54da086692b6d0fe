import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './vendor/tfjs-gradients.js';
function mulberry(seed: number) { return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
function rnd(shape: number[], seed: number) { const r = mulberry(seed); const n = shape.reduce((a, b) => a * b, 1); return tf.tensor(Float32Array.from({ length: n }, () => r() * 2 - 1), shape); }
const cases: Record<string, [number[], number[], (x: tf.Tensor, w: tf.Tensor) => tf.Tensor]> = {
  conv3d_same: [[1, 3, 4, 4, 2], [2, 2, 2, 2, 3], (x, w) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, 'same')],
  conv3d_valid: [[1, 3, 4, 4, 2], [2, 2, 2, 2, 3], (x, w) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, 'valid')],
  conv3d_s2: [[2, 4, 5, 5, 2], [3, 3, 3, 2, 3], (x, w) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 2, 'same')],
  dilation2d: [[1, 5, 5, 2], [2, 2, 2], (x, w) => tf.dilation2d(x as tf.Tensor4D, w as tf.Tensor3D, 1, 'same')],
  dilation2d_valid: [[1, 5, 5, 2], [2, 2, 2], (x, w) => tf.dilation2d(x as tf.Tensor4D, w as tf.Tensor3D, 1, 'valid')],
  maxpool3d: [[1, 3, 4, 4, 2], [1], (x, w) => tf.mul(tf.maxPool3d(x as tf.Tensor5D, 2, 1, 'same'), tf.sum(w))],
  maxpool: [[1, 5, 5, 2], [1], (x, w) => tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'same'), tf.sum(w))],
};
for (const [name, [xs, ws, f]] of Object.entries(cases)) {
  const res: Record<string, number[][]> = {};
  for (const be of ['cpu', 'wasm']) {
    await tf.setBackend(be);
    const x = rnd(xs, 1), w = rnd(ws, 2);
    const y0 = f(x, w); const c = rnd(y0.shape, 3);
    const loss = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(f(x, w), c));
    const [gx, gw] = tf.grads(loss)([x, w]);
    res[be] = [Array.from(gx!.dataSync()), Array.from(gw!.dataSync())];
    if (be === 'cpu') { // finite differences in cpu
      const fd: number[][] = [[], []];
      for (const [k, t] of [x, w].entries()) {
        const v = t.dataSync().slice();
        for (let i = 0; i < v.length; i++) {
          const e = 1e-2; const vp = v.slice(); vp[i] += e; const vm = v.slice(); vm[i] -= e;
          const args = (vv: Float32Array) => k === 0 ? [tf.tensor(vv, t.shape), w] : [x, tf.tensor(vv, t.shape)];
          const lp = loss(...(args(vp) as [tf.Tensor, tf.Tensor])).dataSync()[0]!, lm = loss(...(args(vm) as [tf.Tensor, tf.Tensor])).dataSync()[0]!;
          fd[k]!.push((lp - lm) / (2 * e));
        }
      }
      res.fd = fd;
    }
  }
  const md = (a: number[][], b: number[][]) => Math.max(...a.flatMap((arr, k) => arr.map((v, i) => Math.abs(v - b[k]![i]!))));
  console.log(name, 'cpu-fd', md(res.cpu!, res.fd!).toExponential(1), 'wasm-fd', md(res.wasm!, res.fd!).toExponential(1), 'dx', md([res.wasm![0]!], [res.fd![0]!]).toExponential(1), 'dw', md([res.wasm![1]!], [res.fd![1]!]).toExponential(1));
}
