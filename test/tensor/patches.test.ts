import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRng, randomNormal } from '../../src/base/rng.js';
import { col2im, im2col, type PatchGeometry } from '../../src/tensor/patches.js';
import { useBackend } from '../../src/tensor/index.js';

afterAll(async () => {
  await useBackend('wasm');
});

const CASES = [
  { h: 9, w: 8, c: 1, k: 3, s: 1, pad: 1, out: 4 },
  { h: 9, w: 8, c: 2, k: 5, s: 2, pad: 2, out: 3 },
  { h: 10, w: 10, c: 3, k: 4, s: 2, pad: 0, out: 2 },
];

function geometry(c: (typeof CASES)[number]): PatchGeometry {
  const size = (n: number) => Math.floor((n + 2 * c.pad - c.k) / c.s) + 1;
  return { height: c.h, width: c.w, channels: c.c, kernelSize: c.k, stride: c.s, padTop: c.pad, padLeft: c.pad, outHeight: size(c.h), outWidth: size(c.w) };
}

describe('im2col / col2im', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const c of CASES) {
      it(`${backend}: k ${c.k}, stride ${c.s}, pad ${c.pad}, ${c.c} channel(s): im2col·W = conv2d, col2im(a·Wᵀ) = conv2dTranspose, adjoint, gradients`, async () => {
        await useBackend(backend);
        const rng = makeRng(c.k * 10 + c.s);
        const g = geometry(c);
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const x = randomNormal(rng, [2, c.h, c.w, c.c]) as tf.Tensor4D;
          const filter = randomNormal(rng, [c.k, c.k, c.c, c.out]) as tf.Tensor4D;
          const pad = [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
          const patchSize = c.k * c.k * c.c;
          const wm = tf.reshape(filter, [patchSize, c.out]);
          const viaPatches = tf.reshape(tf.matMul(tf.reshape(im2col(x, g), [-1, patchSize]), wm), [2, g.outHeight, g.outWidth, c.out]);
          const direct = tf.conv2d(x, filter, c.s, pad);
          expect(tf.max(tf.abs(tf.sub(viaPatches, direct))).dataSync()[0]).toBeLessThan(1e-4);
          const a = randomNormal(rng, [2, g.outHeight, g.outWidth, c.out]) as tf.Tensor4D;
          const recon = col2im(tf.reshape(tf.matMul(tf.reshape(a, [-1, c.out]), wm, false, true), [2, g.outHeight, g.outWidth, patchSize]) as tf.Tensor4D, g);
          const transposed = tf.conv2dTranspose(a, filter, [2, c.h, c.w, c.c], c.s, pad);
          expect(tf.max(tf.abs(tf.sub(recon, transposed))).dataSync()[0]).toBeLessThan(1e-4);
          // ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩, and each is the other's gradient.
          const y = randomNormal(rng, [2, g.outHeight, g.outWidth, patchSize]) as tf.Tensor4D;
          const left = tf.sum(tf.mul(im2col(x, g), y)).dataSync()[0]!;
          const right = tf.sum(tf.mul(x, col2im(y, g))).dataSync()[0]!;
          expect(left).toBeCloseTo(right, 3);
          const gradX = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(im2col(t as tf.Tensor4D, g), y)))(x);
          expect(tf.max(tf.abs(tf.sub(gradX, col2im(y, g)))).dataSync()[0]).toBeLessThan(1e-5);
          const gradY = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(col2im(t as tf.Tensor4D, g), x)))(y);
          expect(tf.max(tf.abs(tf.sub(gradY, im2col(x, g)))).dataSync()[0]).toBeLessThan(1e-5);
        });
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }
});
