/**
 * BatchMatMul for wasm, replacing tfjs-backend-wasm 4.22's for speed (its results are right): that kernel
 * uses XNNPACK's fully-connected kernel only for a single untransposed product and a naive blocked C++ loop
 * otherwise, 6-75x slower (about 2 GFLOP/s, 0.4 GFLOP/s for a transposed 1024^3 `a`, against 20-30). Every
 * gradient of a matMul is a transposed product (dA = dy b^T, dB = a^T dy), so dense layers trained at the
 * slow rate.
 *
 * Here transposes are done explicitly first (a cheap copy); batches of `a` that share one `b` are stacked
 * into one product; a single `a` against batched `b` becomes one product against b's batches side by side;
 * only a product batched on both sides is left to the original kernel (per-batch XNNPACK calls would pay
 * an operator creation and copies per batch). Measured (test/tensor/bench-wasm-kernels.ts): 1024^3 with
 * b transposed 83 ms against 920 ms, with a transposed 76 ms against 5.0 s; a dense layer's gradients
 * (64x256 @ (784x256)^T, (64x784)^T @ 64x256) 1.6 and 1.0 ms against 11 and 13 ms; 16 batches sharing b
 * 4.5 ms against 64 ms; untransposed single products unchanged (70 ms, 31 GFLOP/s).
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMulShape } from '../matmul-shape.js';
import { compose, type KernelArgs } from './_shared.js';

/** Builds the replacement around `original`, tfjs-backend-wasm's kernel (the fast path it calls into). */
export function makeBatchMatMul(original: tf.KernelFunc): tf.KernelFunc {
  const kernel = ({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original({ inputs, attrs: attrs ?? {}, backend }) as tf.TensorInfo;
    const { m, k: ka, n, outer, outerA, outerB, batchA, batchB } = matMulShape(a, b, transposeA, transposeB);
    const outShape = [...outer, m, n];
    return compose(backend, (s) => {
      if (batchA > 1 && batchB > 1 && !tf.util.arraysEqual(outerA, outerB)) {
        // Batch dims broadcast against each other ([2,1] x [1,3]): tile both to the full batch (the
        // original kernel pairs batch i of a with batch i of b and gets this wrong).
        const tileTo = (t: tf.TensorInfo, o: number[]) => {
          const full = [...new Array<number>(outer.length - o.length).fill(1), ...o];
          const reps = [...outer.map((d, i) => d / full[i]!), 1, 1];
          return s.run('Tile', { x: s.reshape(t, [...full, ...t.shape.slice(-2)]) }, { reps });
        };
        const at = tileTo(a, outerA), bt = tileTo(b, outerB);
        return kernel({ inputs: { a: at, b: bt }, attrs: attrs ?? {}, backend });
      }
      const plain = { transposeA: false, transposeB: false };
      const mm = (x: tf.TensorInfo, y: tf.TensorInfo) => s.call(original, { a: x, b: y }, plain);
      // Untransposed rank-3 operands: a3 [batchA, m, k], b3 [batchB, k, n].
      const a3 = transposeA ? s.transpose(s.reshape(a, [batchA, ka, m]), [0, 2, 1]) : s.reshape(a, [batchA, m, ka]);
      const b3 = transposeB ? s.transpose(s.reshape(b, [batchB, n, ka]), [0, 2, 1]) : s.reshape(b, [batchB, ka, n]);
      if (batchB === 1) return s.reshape(mm(s.reshape(a3, [1, batchA * m, ka]), b3), outShape);
      if (batchA === 1) {
        const wide = s.reshape(s.transpose(b3, [1, 0, 2]), [1, ka, batchB * n]);
        const out = s.reshape(mm(a3, wide), [m, batchB, n]);
        return s.reshape(s.transpose(out, [1, 0, 2]), outShape);
      }
      return s.reshape(mm(a3, b3), outShape);
    });
  };
  return kernel as unknown as tf.KernelFunc;
}
