// The addon's ep_fc product as Node calls it: cblas_sgemm on views of the wasm heap, through the N-API entry
// (native gemm and the fused epLayer), in process CPU time per call, median of repeats; compare with
// sgemm-micro (the same sgemm from C on malloc'd buffers). Run: node bench/sgemm-micro/ep-layer-micro.mjs [reps]
import * as tf from '@tensorflow/tfjs-core';
import { addon, heap, offset } from './addon-on-wasm-heap.mjs';

const reps = Number(process.argv[2] ?? 500);
const x = tf.randomUniform([64, 784]), W1 = tf.randomNormal([784, 500], 0, 0.05), b1 = tf.zeros([500]);
const y = tf.randomUniform([64, 10]), W2 = tf.randomNormal([500, 10], 0, 0.05);
const pre = tf.zeros([64, 500]), out = tf.zeros([64, 500]);
function median(f) {
  const t = [];
  for (let r = 0; r < reps + 20; r++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    if (r >= 20) t.push((c.user + c.system) / 1000);
  }
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], min: t[0] };
}
const flop = 2 * 64 * 784 * 500;
const report = (name, r, f = flop) => console.log(JSON.stringify({ name, cpu_ms_median: +r.median.toFixed(4), cpu_ms_min: +r.min.toFixed(4), gflops_median: +(f / r.median / 1e6).toFixed(1) }));
console.log(JSON.stringify({ offsets: { x: offset(x) % 64, W1: offset(W1) % 64, pre: offset(pre) % 64 } }));
report('gemm x·W1 (N-API, wasm heap)', median(() => addon.gemm(heap(), 1, 64, 500, 784, false, false, offset(x), offset(W1), offset(out), 0, 0, 0)));
report('epLayer x·W1 + b1 (no above)', median(() => addon.epLayer(heap(), 64, 784, 500, 0, offset(x), offset(W1), offset(b1), -1, -1, -1, offset(pre), offset(out), 0, 1)));
report('epLayer x·W1 + y·W2ᵀ + b1', median(() => addon.epLayer(heap(), 64, 784, 500, 10, offset(x), offset(W1), offset(b1), -1, offset(y), offset(W2), offset(pre), offset(out), 0, 1)), 2 * 64 * 500 * 794);
report('gemm y·W2ᵀ alone (transB)', median(() => addon.gemm(heap(), 1, 64, 500, 10, false, true, offset(y), offset(W2), offset(out), 0, 0, 0)), 2 * 64 * 500 * 10);
report('tf.matMul x·W1 (kernel dispatch)', median(() => tf.tidy(() => { tf.matMul(x, W1).dataSync; })));
