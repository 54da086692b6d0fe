/**
 * The shape arithmetic of tfjs's BatchMatMul, shared by the kernels that replace it (the wasm fix in
 * wasm-kernels/BatchMatMul.ts and the native one in native/kernels.ts): the product of a [..., m, k] and b
 * [..., k, n] (each possibly transposed in its last two dimensions), with the leading batch dimensions
 * broadcast against each other. Throws tfjs's own messages for mismatched inner or batch dimensions.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface MatMulShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** The broadcast batch dimensions of the output, and of a and b. */
  readonly outer: number[];
  readonly outerA: number[];
  readonly outerB: number[];
  readonly batchA: number;
  readonly batchB: number;
}

export function matMulShape(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): MatMulShape {
  const ra = a.shape.length, rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const ka = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  tf.util.assert(ka === kb, () => `Error in matMul: inner shapes (${ka}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
    `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  return { m, k: ka, n, outer, outerA, outerB, batchA: tf.util.sizeFromShape(outerA), batchB: tf.util.sizeFromShape(outerB) };
}
