/**
 * Seeded random numbers, generated in JavaScript so that the same seed gives the same numbers on every
 * backend (tfjs's own seeded ops differ between backends).
 *
 * The generator is a splitmix64-seeded xoshiro128** in 32-bit arithmetic: small, fast, and good enough
 * for initialisation, noise and shuffling. It is a value: `split(label)` derives an independent stream
 * without advancing the parent, so adding a random draw in one place does not shift numbers elsewhere.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** An independent stream derived from this one's seed and a label. */
  split(label: string): Rng;
}

function hashString(s: string): number {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function makeRng(seed: number): Rng {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  const init = splitmix32(seed);
  const s = new Uint32Array([init(), init(), init(), init()]);
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
  let spare: number | undefined;
  const rng: Rng = {
    seed,
    uniform: () => next() / 4294967296,
    normal: () => {
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return v;
      }
      let u = 0;
      while (u === 0) u = next() / 4294967296;
      const v = next() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int: (n: number) => Math.floor((next() / 4294967296) * n),
    split: (label: string) => makeRng((hashString(label) ^ Math.imul(seed, 0x9e3779b1)) >>> 0),
  };
  return rng;
}

export function normalArray(rng: Rng, n: number, std = 1, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
  return out;
}

export function uniformArray(rng: Rng, n: number, low = 0, high = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = low + (high - low) * rng.uniform();
  return out;
}

/** A tensor of normal draws; identical on every backend for the same stream. */
export function randomNormal(rng: Rng, shape: number[], std = 1, mean = 0): tf.Tensor {
  return tf.tensor(normalArray(rng, shape.reduce((a, b) => a * b, 1), std, mean), shape, 'float32');
}

export function randomUniform(rng: Rng, shape: number[], low = 0, high = 1): tf.Tensor {
  return tf.tensor(uniformArray(rng, shape.reduce((a, b) => a * b, 1), low, high), shape, 'float32');
}
