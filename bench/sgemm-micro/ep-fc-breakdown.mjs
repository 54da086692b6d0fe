// Where ep_fc's time goes beside its one large sgemm, in process CPU time on one thread (a figure that
// survives a loaded machine better than wall time): each part is timed in interleaved rounds in one process
// and the median of the round medians is printed, with the part's share of the system's step.
//   node bench/sgemm-micro/ep-fc-breakdown.mjs [reps per round] [rounds]      (after npx tsc -p tsconfig.build.json)
import * as tf from '@tensorflow/tfjs-core';
import { addon, heap, offset as off } from './addon-on-wasm-heap.mjs';
import { clippedLayer } from '../../dist/src/tensor/fused-steps.js';
import { equilibriumProp } from '../../dist/src/families/equilibrium-prop/system.js';

const reps = Number(process.argv[2] ?? 300), rounds = Number(process.argv[3] ?? 7);
const x = tf.randomUniform([64, 784]), W1 = tf.randomNormal([784, 500], 0, 0.05), b1 = tf.randomNormal([500], 0, 0.01);
const W2 = tf.randomNormal([500, 10], 0, 0.05), b2 = tf.randomNormal([10], 0, 0.01);
const h = tf.randomUniform([64, 500]), y = tf.randomUniform([64, 10]);
const pre = tf.zeros([64, 500]), out = tf.zeros([64, 500]), pre2 = tf.zeros([64, 10]), out2 = tf.zeros([64, 10]);
const system = equilibriumProp({ sizes: [784, 500, 10], activation: 'hard-sigmoid', output: 'mse', dynamics: 'primitive-map' });
const params = { W1, b1, W2, b2 }, input = { x };
let state = tf.tidy(() => system.initState(input, params));
const parts = {
  'sgemm x·W1 alone (addon gemm)': () => addon.gemm(heap(), 1, 64, 500, 784, false, false, off(x), off(W1), off(out), 0, 0, 0),
  'layer 1: epLayer (bias, x·W1, y·W2ᵀ, clip)': () => addon.epLayer(heap(), 64, 784, 500, 10, off(x), off(W1), off(b1), -1, off(y), off(W2), off(pre), off(out), 0, 1),
  'layer 2: epLayer (bias, h·W2, clip)': () => addon.epLayer(heap(), 64, 500, 10, 0, off(h), off(W2), off(b2), -1, -1, -1, off(pre2), off(out2), 0, 1),
  'both layers through tfjs (clippedLayer ×2, tidy)': () => tf.tidy(() => { clippedLayer({ addend: b1, below: [x, W1], above: [y, W2] }, 0, 1); clippedLayer({ addend: b2, below: [h, W2] }, 0, 1); }),
  "the system's step (bench ep_fc: tidy, step, dispose)": () => { const cur = state; state = tf.tidy(() => system.step(cur, input, params, 0)); tf.dispose(cur.layers); },
};
const medians = Object.fromEntries(Object.keys(parts).map((k) => [k, []]));
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(parts)) {
    for (let i = 0; i < 20; i++) f();
    const t = [];
    for (let i = 0; i < reps; i++) { const c0 = process.cpuUsage(); f(); const c = process.cpuUsage(c0); t.push((c.user + c.system) / 1000); }
    medians[name].push(median(t));
  }
}
const step = median(medians["the system's step (bench ep_fc: tidy, step, dispose)"]);
for (const [name, m] of Object.entries(medians)) {
  const ms = median(m);
  console.log(JSON.stringify({ part: name, cpu_ms: +ms.toFixed(4), share_of_step: +(ms / step).toFixed(3), round_medians: m.map((v) => +v.toFixed(3)) }));
}
console.log(JSON.stringify({ flops_x_W1: 2 * 64 * 784 * 500, gflops_sgemm: +((2 * 64 * 784 * 500) / median(medians['sgemm x·W1 alone (addon gemm)']) / 1e6).toFixed(1), loadavg: (await import('node:os')).loadavg().map((v) => +v.toFixed(1)) }));
