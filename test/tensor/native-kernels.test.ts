/**
 * The native kernels (src/tensor/native/, OpenBLAS sgemm and oneDNN convolutions in place on the wasm heap)
 * against the cpu backend's reference kernels, forward and gradient (the gradients of matMul and conv2d run
 * BatchMatMul with transpose flags, Conv2DBackpropInput and Conv2DBackpropFilter), on the shapes the
 * families use and on odd ones; against the plain wasm kernels in the same process; for leaks; across a
 * growth of the wasm memory. Where the addon is not built, only what `backends` reports is checked (CI
 * runs the suite both ways: .ci/run).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  convForm, convolve, convolveTransposed, disableNativeKernels, enableNativeKernels, isNativeKernel, leakyIntegrate, listBackends,
  nativeKernelInfo, nativeStatus, useBackend,
} from '../../src/tensor/index.js';
import { FUSED_KERNELS, NATIVE_KERNELS, describeNativeKernel } from '../../src/tensor/native/register.js';
import { expectWasmMatchesCpu, gradsOf, rand, relErr, runOn } from './_helpers.js';

const native = nativeStatus();

describe('native kernels: what `neurodyn backends` reports', () => {
  it('lists the native kernels on wasm, each native or with the reason it is not', async () => {
    const wasm = (await listBackends()).find((b) => b.name === 'wasm')!;
    expect(wasm.kernels?.map((k) => k.kernelName)).toEqual([...NATIVE_KERNELS.map((k) => k.kernelName), ...FUSED_KERNELS.map(([name]) => name)]);
    const reason = (native as { reason: string }).reason;
    for (const k of wasm.kernels!) {
      expect(k.native).toBe(native.available);
      const fused = FUSED_KERNELS.find(([name]) => name === k.kernelName);
      if (fused) expect(k.detail).toBe(native.available ? describeNativeKernel(fused[2]) : `the unfused tfjs ops: ${reason}`);
      else expect(k.detail).toBe(native.available ? describeNativeKernel(NATIVE_KERNELS.find((n) => n.kernelName === k.kernelName)!.library) : reason);
      if (native.available && k.kernelName === 'BatchMatMul') expect(k.detail).toMatch(/^(oneDNN|OpenBLAS) sgemm$/);
    }
    if (!native.available) expect((native as { reason: string }).reason).toMatch(/NEURODYN_NATIVE=0|apt-get install libopenblas-dev libdnnl-dev|failed to load/);
  });
});

describe.runIf(native.available)('native kernels against the cpu backend', () => {
  it('are the registered wasm kernels', () => {
    for (const { kernelName } of NATIVE_KERNELS) expect(isNativeKernel(kernelName), kernelName).toBe(true);
    expect(nativeKernelInfo().every((k) => k.native)).toBe(true);
  });

  // Broadcast batch dimensions: value only, since tfjs 4.22's matMul gradient does not sum over broadcast
  // dimensions (it fails on cpu too).
  const matMulCases: Array<[string, number[], number[], boolean, boolean, boolean?]> = [
    ['2-D, non-square', [5, 7], [7, 3], false, false],
    ['2-D, a transposed', [7, 5], [7, 3], true, false],
    ['2-D, b transposed', [5, 7], [3, 7], false, true],
    ['2-D, both transposed', [7, 5], [3, 7], true, true],
    ['batch 1, one row', [1, 1, 9], [1, 9, 4], false, false],
    ['batched both sides', [3, 5, 7], [3, 7, 4], false, false],
    ['batched both sides, both transposed', [3, 7, 5], [3, 4, 7], true, true],
    ['batched a, one b (rank 3 against 2)', [4, 6, 8], [8, 3], false, false, false],
    ['one a, batched b, a transposed', [8, 6], [2, 3, 8, 5], true, false, false],
    ['ep_fc (batch 16): 16×784 · 784×500', [16, 784], [784, 500], false, false],
    ['lca_fc gradient shapes (batch 16, 300 atoms): 16×1568 · (300×1568)ᵀ', [16, 1568], [300, 1568], false, true],
  ];
  for (const [name, sa, sb, ta, tb, gradients = true] of matMulCases) {
    it(`matMul ${name}: value${gradients ? ' and both gradients' : ''}`, async () => {
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, ta, tb);
      await expectWasmMatchesCpu(() => {
        const a = rand(sa, 1), b = rand(sb, 2);
        return [f(a, b), ...(gradients ? gradsOf(f, [a, b]) : [])];
      }, 2e-5);
    });
  }

  it('matMul with partial broadcast [2,1] x [1,3] (falls back to the wasm kernel) equals the product of the tiled inputs', async () => {
    // tfjs's cpu kernel pairs such batches wrongly, so the oracle is the cpu product of explicitly tiled inputs.
    const [wasm] = await runOn('wasm', () => [tf.matMul(rand([2, 1, 4, 5], 1), rand([1, 3, 5, 2], 2))]);
    const [cpu] = await runOn('cpu', () => [tf.matMul(tf.tile(rand([2, 1, 4, 5], 1), [1, 3, 1, 1]), tf.tile(rand([1, 3, 5, 2], 2), [2, 1, 1, 1]))]);
    expect(wasm!.length).toBe(48);
    expect(relErr(wasm!, cpu!)).toBeLessThan(1e-5);
  });

  type ConvCase = { name: string; x: number[]; w: number[]; strides: number | [number, number]; pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]; dilation?: number };
  const convCases: ConvCase[] = [
    { name: 'lca_conv: 1 → 64 channels, 7×7, explicit pad 3', x: [1, 28, 28, 1], w: [7, 7, 1, 64], strides: 1, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
    { name: 'ep_conv layer 2: 32 → 64 channels, 5×5, valid', x: [1, 12, 12, 32], w: [5, 5, 32, 64], strides: 1, pad: 'valid' },
    { name: 'ep_conv layer 1: 1 → 32 channels, 5×5, valid', x: [2, 28, 28, 1], w: [5, 5, 1, 32], strides: 1, pad: 'valid' },
    { name: 'batch 1, non-square image and kernel, strides 2×3, same', x: [1, 9, 13, 3], w: [3, 2, 3, 5], strides: [2, 3], pad: 'same' },
    { name: "stride 2, 'valid' with a remainder (11 − 4 odd)", x: [2, 11, 11, 2], w: [4, 4, 2, 3], strides: 2, pad: 'valid' },
    { name: 'stride 2, even kernel, same (asymmetric padding)', x: [2, 10, 7, 3], w: [4, 4, 3, 6], strides: 2, pad: 'same' },
    { name: 'one output channel (an LCA reconstruction as a convolution)', x: [2, 14, 14, 16], w: [5, 5, 16, 1], strides: 1, pad: 2 },
  ];
  for (const c of convCases) {
    it(`conv2d ${c.name}: value, input gradient, filter gradient`, async () => {
      const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad);
      await expectWasmMatchesCpu(() => {
        const x = rand(c.x, 3), w = rand(c.w, 4);
        return [f(x, w), ...gradsOf(f, [x, w])];
      }, 2e-5);
    });
  }

  it('conv2d with dilation 2 (forward only: tfjs has no gradient for dilated convolutions)', async () => {
    await expectWasmMatchesCpu(() => [tf.conv2d(rand([2, 12, 11, 3], 5) as tf.Tensor4D, rand([3, 3, 3, 4], 6) as tf.Tensor4D, 1, 'same', 'NHWC', 2)], 2e-5);
  });

  it('conv2dTranspose with stride 2 (Conv2DBackpropInput directly) and its gradients', async () => {
    const f = (dy: tf.Tensor, w: tf.Tensor) => tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [2, 13, 13, 3], 2, 'same');
    await expectWasmMatchesCpu(() => {
      const dy = rand([2, 7, 7, 8], 7), w = rand([5, 5, 3, 8], 8);
      return [f(dy, w), ...gradsOf(f, [dy, w])];
    }, 2e-5);
  });

  it('leave no tensor and no wasm buffer behind', async () => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = rand([2, 9, 9, 3], 1), w = rand([3, 3, 3, 4], 2), a = rand([3, 5, 7], 3), b = rand([3, 7, 4], 4);
    const tensors = tf.memory().numTensors, buffers = backend.numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        gradsOf((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same'), [x, w]);
        gradsOf((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, false, true), [a, tf.transpose(b, [0, 2, 1])]);
        tf.matMul(a, rand([7, 4], 5));
      });
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, w, a, b]);
  });

  it('read the heap after allocating their output, so a growth of the wasm memory in between is harmless', async () => {
    await useBackend('wasm');
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const before = heap();
    // An output larger than the whole current heap must grow (and move) the memory inside the kernel.
    const n = Math.ceil(Math.sqrt(before / 4)) + 64;
    const [wasmOut] = await runOn('wasm', () => [tf.sum(tf.matMul(rand([n, 3], 11), rand([3, n], 12)), 1)]);
    expect(heap()).toBeGreaterThan(before);
    const [cpuOut] = await runOn('cpu', () => [tf.sum(tf.matMul(rand([n, 3], 11), rand([3, n], 12)), 1)]);
    expect(relErr(wasmOut!, cpuOut!)).toBeLessThan(1e-5);
  });
});

describe.runIf(native.available)('native and plain wasm kernels in one process', () => {
  afterAll(() => {
    enableNativeKernels();
  });

  it('turn off and on: the same computation agrees, and the convolution form follows', async () => {
    await useBackend('wasm');
    const compute = () => tf.tidy(() => {
      const x = rand([2, 16, 16, 3], 1), w = rand([5, 5, 3, 8], 2);
      const y = convolve(x, w, { stride: 2, pad: 2 });
      const back = convolveTransposed(y, w, x.shape, { stride: 2, pad: 2 });
      return [y, back, ...gradsOf((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, false, true), [rand([6, 40], 3), rand([9, 40], 4)])]
        .map((t) => Float32Array.from(t.dataSync()));
    });
    expect(convForm()).toBe('direct');
    const nativeOut = compute();
    disableNativeKernels();
    expect(isNativeKernel('BatchMatMul')).toBe(false);
    expect(convForm()).toBe('gemm');
    const plainOut = compute();
    enableNativeKernels();
    expect(isNativeKernel('BatchMatMul')).toBe(true);
    nativeOut.forEach((v, i) => expect(relErr(v, plainOut[i]!), `output ${i}`).toBeLessThan(1e-5));
  });
});

describe.runIf(native.available)('fused LCA leaky integration (src/tensor/fused-steps.ts)', () => {
  afterAll(() => {
    enableNativeKernels();
  });

  for (const qScale of [1, -1] as const) {
    it(`fused equals the unfused tfjs ops, value and gradients (q scale ${qScale}, a convolutional LCA state)`, async () => {
      await useBackend('wasm');
      const compute = () => tf.tidy(() => {
        const shape = [2, 28, 28, 64];
        const u = rand(shape, 1), p = rand(shape, 2), q = rand(shape, 3);
        const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => leakyIntegrate(x, y, z, 7, qScale);
        return [f(u, p, q), ...gradsOf(f, [u, p, q])].map((t) => Float32Array.from(t.dataSync()));
      });
      const fused = compute();
      const profile = await tf.profile(() => leakyIntegrate(rand([3, 4], 1), rand([3, 4], 2), rand([3, 4], 3), 7, qScale));
      tf.dispose(profile.result as tf.Tensor);
      expect(profile.kernelNames).toEqual(['NeurodynLeakyIntegrate']);
      disableNativeKernels();
      const unfused = compute();
      enableNativeKernels();
      fused.forEach((v, i) => expect(relErr(v, unfused[i]!), `output ${i}`).toBeLessThan(1e-6));
      // And against the cpu backend (always unfused).
      const [cpuValue] = await runOn('cpu', () => [leakyIntegrate(rand([2, 28, 28, 64], 1), rand([2, 28, 28, 64], 2), rand([2, 28, 28, 64], 3), 7, qScale)]);
      expect(relErr(fused[0]!, cpuValue!)).toBeLessThan(1e-6);
    });
  }
});
