/** Weights and input shared by ep_fc and bptt_ep_fc (torch_reference.py draws them once for both). */
import * as tf from '@tensorflow/tfjs-core';
import type { BenchRng } from '../rng.js';

export interface EpFcNet {
  W1: tf.Tensor2D; // 784×500
  W2: tf.Tensor2D; // 500×10
  /**
   * W2ᵀ (10×500), materialised once: tfjs-backend-wasm's BatchMatMul takes a slow non-XNNPACK path when
   * transposeB (or transposeA) is set (y·W2ᵀ with transposeB: 0.39 ms; with W2ᵀ stored: 0.04 ms).
   */
  W2T: tf.Tensor2D;
  b1: tf.Tensor1D; // 500
  b2: tf.Tensor1D; // 10
  x: tf.Tensor2D; // 64×784, uniform [0,1)
}

export function makeEpFcNet(rng: BenchRng): EpFcNet {
  const W1 = rng.normal([784, 500], 0.05) as tf.Tensor2D;
  const W2 = rng.normal([500, 10], 0.05) as tf.Tensor2D;
  return {
    W1,
    W2,
    W2T: tf.transpose(W2),
    b1: rng.normal([500], 0.01) as tf.Tensor1D,
    b2: rng.normal([10], 0.01) as tf.Tensor1D,
    x: rng.uniform([64, 784]) as tf.Tensor2D,
  };
}

/** ρ = clip(·, 0, 1). */
export const rho = (v: tf.Tensor): tf.Tensor => tf.clipByValue(v, 0, 1);

/** One synchronous EP relaxation step: h ← ρ(x W1 + y W2ᵀ + b1); y ← ρ(h W2 + b2), both from the old state. */
export function epFcStep(net: EpFcNet, x: tf.Tensor, h: tf.Tensor, y: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const hNew = rho(tf.add(tf.add(tf.matMul(x, net.W1), tf.matMul(y, net.W2T)), net.b1));
  const yNew = rho(tf.add(tf.matMul(h, net.W2), net.b2));
  return [hNew, yNew];
}

export function disposeNet(net: EpFcNet): void {
  tf.dispose([net.W1, net.W2, net.W2T, net.b1, net.b2, net.x]);
}
