/** Shared by the tensor tests: seeded data, running one computation on cpu and on wasm, comparing. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { useBackend, type BackendName } from '../../src/tensor/index.js';

/** Deterministic uniform values in [-1, 1) (mulberry32). */
export function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
}

export function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/**
 * Runs `fn` on the named backend inside a tidy scope and reads every returned tensor back as a plain array
 * (tensors belong to one backend, so inputs are rebuilt from seeds on each).
 */
export async function runOn(backend: BackendName, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await useBackend(backend);
  return tf.tidy(() => fn().map((t) => Float32Array.from(t.dataSync())));
}

/** Max |actual - expected| relative to max |expected| (or 1 when that is smaller), per output. */
export function relErr(actual: Float32Array, expected: Float32Array): number {
  let diff = 0, scale = 1e-30;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / Math.max(scale, 1e-6);
}

/** Computes `fn` on cpu and on wasm and expects equal shapes and values within `rtol` (relative to the max). */
export async function expectWasmMatchesCpu(fn: () => tf.Tensor[], rtol = 1e-4): Promise<void> {
  const cpu = await runOn('cpu', fn);
  const wasm = await runOn('wasm', fn);
  expect(wasm.length).toBe(cpu.length);
  cpu.forEach((c, i) => {
    expect(wasm[i]!.length, `output ${i} size`).toBe(c.length);
    expect(c.every(Number.isFinite), `cpu output ${i} finite`).toBe(true);
    expect(relErr(wasm[i]!, c), `output ${i}`).toBeLessThanOrEqual(rtol);
  });
}

/** Gradients of sum(f(inputs) * fixed random weights) with respect to every input. */
export function gradsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed = 99): tf.Tensor[] {
  const probe = f(...inputs);
  const w = rand(probe.shape, seed);
  return tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
}
