/**
 * The benchmark workloads compute what torch_reference.py computes (layouts differ: NHWC here, NCHW there),
 * checked against direct loops written from the PyTorch definitions; and the runner's leak check works.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/tensor/index.js';
import { flipKernel, lcaConvStep } from '../../bench/workloads/lca_conv.js';
import { epConvNetFromTorchLayout, epConvPhi } from '../../bench/workloads/ep_conv.js';
import { runWorkload } from '../../bench/runner.js';
import { makeRng } from '../../bench/rng.js';
import type { Workload } from '../../bench/types.js';

const N = 2, C = 3, H = 8, K = 7, P = 3;

/** torch F.conv2d(e, Φ, padding=3) with e [N,1,H,W], Φ [C,1,K,K] (flat NCHW arrays). */
function conv2dRef(e: Float32Array, phi: Float32Array): Float32Array {
  const out = new Float32Array(N * C * H * H);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < H; x++) {
    let s = 0;
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
      const yy = y + i - P, xx = x + j - P;
      if (yy >= 0 && yy < H && xx >= 0 && xx < H) s += (e[(n * H + yy) * H + xx] as number) * (phi[(c * K + i) * K + j] as number);
    }
    out[((n * C + c) * H + y) * H + x] = s;
  }
  return out;
}

/** torch F.conv_transpose2d(a, Φ, padding=3): out[n,0,y,x] = Σ a[n,c,y',x'] Φ[c,0,i,j] with y = y' - 3 + i. */
function convTransposeRef(a: Float32Array, phi: Float32Array): Float32Array {
  const out = new Float32Array(N * H * H);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let y0 = 0; y0 < H; y0++) for (let x0 = 0; x0 < H; x0++)
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
      const y = y0 - P + i, x = x0 - P + j;
      if (y >= 0 && y < H && x >= 0 && x < H)
        out[(n * H + y) * H + x] = (out[(n * H + y) * H + x] as number) + (a[((n * C + c) * H + y0) * H + x0] as number) * (phi[(c * K + i) * K + j] as number);
    }
  return out;
}

for (const backend of ['cpu', 'wasm']) {
  describe(`bench workloads on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    it('lca_conv step (both conv_transpose forms) equals the PyTorch definition', () => {
      const rng = makeRng(7);
      const xN = rng.normal([N, 1, H, H]);
      const phiN = rng.normal([C, 1, K, K], 0.3);
      const u0N = rng.normal([N, C, H, H]);
      const xs = xN.dataSync() as Float32Array, phi = phiN.dataSync() as Float32Array, u0 = u0N.dataSync() as Float32Array;
      // reference step in NCHW
      const a = u0.map((v) => Math.max(v - 0.25, 0));
      const r = convTransposeRef(a, phi);
      const e = xs.map((v, i) => v - (r[i] as number));
      const d = conv2dRef(e, phi);
      const want = u0.map((u, i) => u + ((d[i] as number) + (a[i] as number) - u) / 100);
      const x = tf.transpose(xN, [0, 2, 3, 1]) as tf.Tensor4D;
      const w = tf.transpose(phiN, [2, 3, 1, 0]) as tf.Tensor4D;
      const wf = flipKernel(w);
      const u = tf.transpose(u0N, [0, 2, 3, 1]) as tf.Tensor4D;
      for (const mode of ['transpose', 'flipped'] as const) {
        const got = tf.tidy(() => tf.transpose(lcaConvStep(u, x, w, wf, mode), [0, 3, 1, 2])).dataSync();
        let maxDiff = 0;
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs((got[i] as number) - (want[i] as number)));
        expect(maxDiff).toBeLessThan(1e-4);
      }
      tf.dispose([xN, phiN, u0N, x, w, wf, u]);
    });

    it("ep_conv's fc term flattens s₂ in torch's (c,h,w) order", () => {
      const rng = makeRng(8);
      const B = 2;
      const s2N = rng.normal([B, 64, 4, 4]), s3 = rng.normal([B, 10]), WfN = rng.normal([10, 1024]);
      const net = epConvNetFromTorchLayout(tf.zeros([B, 1, 28, 28]), tf.zeros([32, 1, 5, 5]), tf.zeros([64, 32, 5, 5]), WfN);
      const s2v = s2N.dataSync(), s3v = s3.dataSync(), wv = WfN.dataSync();
      let want = 0;
      for (let b = 0; b < B; b++) for (let o = 0; o < 10; o++) {
        let z = 0;
        for (let k = 0; k < 1024; k++) z += (s2v[b * 1024 + k] as number) * (wv[o * 1024 + k] as number);
        want += (s3v[b * 10 + o] as number) * z;
      }
      const got = tf.tidy(() => epConvPhi(net, tf.zeros([B, 12, 12, 32]), tf.transpose(s2N, [0, 2, 3, 1]), s3)).dataSync()[0] as number;
      expect(Math.abs(got - want)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want)));
      tf.dispose([s2N, s3, WfN, net.x, net.W1, net.W2, net.Wf]);
    });

    it('the runner reports the JSON keys and catches a step that leaks tensors', () => {
      const fake = (leak: boolean): Workload => ({
        id: 'fake',
        steps: 3,
        flopsPerStep: 1e6,
        setup() {
          let s = tf.zeros([4]);
          const kept: tf.Tensor[] = [];
          return {
            step() {
              const next = tf.tidy(() => tf.add(s, 1));
              if (leak) kept.push(s);
              else s.dispose();
              s = next;
            },
            output: () => s,
            dispose() {
              tf.dispose([s, ...kept]);
            },
          };
        },
      });
      const before = tf.memory().numTensors;
      const r = runWorkload(fake(false));
      expect(Object.keys(r).sort()).toEqual(['gflops', 'impl', 'ms_per_step', 'steps', 'threads', 'workload']);
      expect(() => runWorkload(fake(true))).toThrow(/leak/);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
