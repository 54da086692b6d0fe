/**
 * Conv2DBackpropInput (conv2d input gradients, conv2dTranspose), replaced on wasm for speed: against tfjs's
 * cpu backend over strides 1-3, every padding mode, odd sizes, 1-64 channels, batches 1-8, both data
 * formats and both dimRoundingModes; the gradient of a small conv net; no leaked tensor or wasm buffer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { isNeurodynWasmKernel, useBackend, WASM_KERNEL_FIXES } from '../../src/tensor/index.js';
import { conv2DBackpropInput, type Conv2DBackpropInputForm } from '../../src/tensor/wasm-kernels/Conv2DBackpropInput.js';
import { expectWasmMatchesCpu, gradsOf, rand } from './_helpers.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
const x4 = (t: tf.Tensor) => t as tf.Tensor4D;

/** dx for a conv2d of x [n, h, w, ci] with filter [fh, fw, ci, co]: the kernel run directly on a random dy. */
function backpropInput(xShape: Shape4, filterShape: Shape4, strides: number | [number, number], pad: Pad,
  seed: number, dimRoundingMode?: 'floor' | 'ceil' | 'round'): tf.Tensor {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode);
  const dy = rand(info.outShape, seed), filter = rand(filterShape, seed + 1);
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter },
    { strides, pad, dataFormat: 'NHWC', dimRoundingMode, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

describe('Conv2DBackpropInput on wasm', () => {
  it('is registered as this project\'s, listed as a speed fix', async () => {
    await useBackend('wasm');
    expect(isNeurodynWasmKernel('Conv2DBackpropInput')).toBe(true);
    expect(WASM_KERNEL_FIXES.find((f) => f.kernelName === 'Conv2DBackpropInput')?.why).toBe('slow');
  });

  const cases: Array<[string, Shape4, Shape4, number | [number, number], Pad]> = [
    ['3x3 s1 same', [2, 9, 9, 3], [3, 3, 3, 4], 1, 'same'],
    ['3x3 s1 valid', [1, 7, 8, 2], [3, 3, 2, 5], 1, 'valid'],
    ['3x3 s2 same, odd size', [3, 9, 11, 4], [3, 3, 4, 6], 2, 'same'],
    ['3x3 s2 valid, unused last row', [2, 9, 9, 3], [3, 3, 3, 4], 2, 'valid'],
    ['4x4 s2 same, even filter', [2, 10, 10, 2], [4, 4, 2, 3], 2, 'same'],
    ['5x5 s2 same', [2, 10, 10, 2], [5, 5, 2, 3], 2, 'same'],
    ['2x3 s(2,3) valid, one channel', [1, 8, 7, 1], [2, 3, 1, 5], [2, 3], 'valid'],
    ['4x4 s3 same', [2, 6, 6, 3], [4, 4, 3, 2], 3, 'same'],
    ['1x1 s1', [3, 7, 7, 4], [1, 1, 4, 2], 1, 'valid'],
    ['1x1 s2 valid', [2, 7, 6, 3], [1, 1, 3, 2], 2, 'valid'],
    ['3x3 s2 explicit padding', [2, 8, 9, 3], [3, 3, 3, 2], 2, [[0, 0], [1, 2], [0, 1], [0, 0]]],
    ['3x3 s1 explicit padding larger than the filter reach', [1, 6, 6, 2], [3, 3, 2, 2], 1, [[0, 0], [3, 0], [0, 4], [0, 0]]],
    ['3x3 s1 numeric padding', [1, 6, 6, 2], [3, 3, 2, 2], 1, 1],
    ['5x5 s2 numeric padding 2', [2, 11, 11, 3], [5, 5, 3, 4], 2, 2],
    ['7x7 s1 same, 64 -> 1 channels (lca transpose, small)', [2, 9, 9, 1], [7, 7, 1, 64], 1, 'same'],
    ['5x5 s1 same, 32 <- 64 channels, batch 8', [8, 6, 6, 32], [5, 5, 32, 64], 1, 'same'],
    ['3x3 s2 same, 64 channels, batch 1', [1, 7, 7, 64], [3, 3, 64, 16], 2, 'same'],
    ['filter larger than the input, valid', [2, 4, 5, 2], [4, 5, 2, 3], 1, 'valid'],
    ['filter larger than the input, same s2', [2, 3, 3, 2], [5, 5, 2, 3], 2, 'same'],
  ];
  for (const [name, xs, ws, s, pad] of cases) {
    it(`${name}: x ${xs} filter ${ws} (kernel and conv2d gradients)`, async () => {
      await expectWasmMatchesCpu(() => [
        backpropInput(xs, ws, s, pad, 1),
        ...gradsOf((x, w) => tf.conv2d(x4(x), x4(w), s, pad as 'same'), [rand(xs, 3), rand(ws, 4)]),
      ]);
    });
  }

  it('a seeded sweep over sizes, channels 1-64, batches 1-8, strides 1-2 and every padding mode', async () => {
    let seed = 12345;
    const next = (k: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % k; };
    const sweep: Array<[Shape4, Shape4, number, Pad]> = [];
    const pads: Pad[] = ['same', 'valid', 1, [[0, 0], [2, 0], [1, 1], [0, 0]]];
    for (let t = 0; t < 24; t++) {
      const f = 1 + next(5), stride = 1 + next(2);
      const h = f + next(9), w = f + next(9);
      const ci = [1, 2, 3, 8, 17, 64][next(6)]!, co = [1, 4, 5, 16, 64][next(5)]!;
      sweep.push([[1 + next(8), h, w, ci], [f, f, ci, co], stride, pads[next(pads.length)]!]);
    }
    await expectWasmMatchesCpu(() => sweep.map(([xs, ws, s, pad], i) => backpropInput(xs, ws, s, pad, 100 + 2 * i)));
  });

  it('dimRoundingMode ceil and round with numeric padding (dy larger than floor gives)', async () => {
    await expectWasmMatchesCpu(() => [
      backpropInput([2, 8, 8, 3], [3, 3, 3, 4], 2, 1, 21, 'ceil'),
      backpropInput([2, 8, 9, 3], [2, 2, 3, 4], 3, 1, 23, 'round'),
      backpropInput([1, 10, 10, 2], [3, 3, 2, 2], 2, 0, 25, 'floor'),
    ]);
  });

  it('NCHW data format', async () => {
    await expectWasmMatchesCpu(() => {
      const dy = rand([2, 4, 4, 4], 31), filter = rand([3, 3, 3, 4], 32);
      return [tf.engine().runKernel('Conv2DBackpropInput', { dy, filter },
        { strides: [2, 2], pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 8, 8] } as unknown as tf.NamedAttrMap) as tf.Tensor];
    });
  });

  it('conv2dTranspose forward and its gradients', async () => {
    await expectWasmMatchesCpu(() => [
      tf.conv2dTranspose(x4(rand([2, 5, 5, 4], 41)), x4(rand([3, 3, 3, 4], 42)), [2, 10, 10, 3], 2, 'same'),
      tf.conv2dTranspose(x4(rand([2, 4, 4, 4], 43)), x4(rand([3, 3, 3, 4], 44)), [2, 9, 9, 3], 2, 'valid'),
      ...gradsOf((x, w) => tf.conv2dTranspose(x4(x), x4(w), [2, 10, 10, 3], 2, 'same'), [rand([2, 5, 5, 4], 45), rand([3, 3, 3, 4], 46)]),
    ]);
  });

  it('gradients of a small conv net (two strided convs, relu, a transposed conv, a dense layer)', async () => {
    await expectWasmMatchesCpu(() => gradsOf((x, k1, k2, k3, dense) => {
      const h1 = tf.relu(tf.conv2d(x4(x), x4(k1), 2, 'same')); // [4, 6, 6, 8]
      const h2 = tf.relu(tf.conv2d(h1, x4(k2), 1, 'valid')); // [4, 4, 4, 16]
      const up = tf.conv2dTranspose(h2, x4(k3), [4, 8, 8, 4], 2, 'same'); // [4, 8, 8, 4]
      return tf.matMul(tf.reshape(up, [4, -1]), dense);
    }, [rand([4, 11, 11, 3], 51), rand([5, 5, 3, 8], 52), rand([3, 3, 8, 16], 53), rand([3, 3, 4, 16], 54), rand([256, 5], 55)]));
  });

  it('leaves no tensor or wasm buffer behind', async () => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = rand([2, 9, 9, 3], 61), w = rand([3, 3, 3, 4], 62), t = rand([3, 3, 2, 4], 63);
    const net = (x: tf.Tensor, w: tf.Tensor, t: tf.Tensor) =>
      tf.sum(tf.conv2dTranspose(tf.conv2d(x4(x), x4(w), 2, 'same'), x4(t), [2, 9, 9, 2], 2, 'same'));
    const tensorsBefore = tf.memory().numTensors, buffersBefore = backend.numDataIds();
    const grads = tf.grads(net)([x, w, t]);
    expect(tf.memory().numTensors).toBe(tensorsBefore + grads.length);
    expect(backend.numDataIds()).toBe(buffersBefore + grads.length);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(backend.numDataIds()).toBe(buffersBefore);
    tf.dispose([x, w, t]);
  });

  it('each form frees its intermediates (wasm buffers)', async () => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number; disposeData(dataId: object): void };
    const dy = rand([2, 5, 5, 6], 65), filter = rand([3, 3, 4, 6], 66);
    for (const [form, strides] of [['columns', 2], ['stride-phases', 2], ['flipped-conv', 1]] as const) {
      const inputShape = strides === 2 ? [2, 10, 10, 4] : [2, 5, 5, 4];
      const before = backend.numDataIds();
      const out = conv2DBackpropInput({ inputs: { dy, filter }, attrs: { strides, pad: 'same', dataFormat: 'NHWC', inputShape } as unknown as tf.NamedAttrMap, backend: tf.backend() }, form);
      expect(out.shape, form).toEqual(inputShape);
      expect(backend.numDataIds(), form).toBe(before + 1);
      backend.disposeData(out.dataId);
      expect(backend.numDataIds(), form).toBe(before);
    }
    tf.dispose([dy, filter]);
  });
});

describe('Conv2DBackpropInput: each of its three forms, forced, against cpu', () => {
  const forced = (form: Conv2DBackpropInputForm, xShape: Shape4, filterShape: Shape4, strides: number | [number, number], pad: Pad, seed: number) => {
    const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad);
    const dy = rand(info.outShape, seed), filter = rand(filterShape, seed + 1);
    if (tf.getBackend() === 'cpu') {
      return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides, pad, dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    }
    const out = conv2DBackpropInput({ inputs: { dy, filter }, attrs: { strides, pad, dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap, backend: tf.backend() }, form);
    return tf.engine().makeTensorFromTensorInfo(out);
  };
  const cases: Array<[string, Shape4, Shape4, number | [number, number], Pad]> = [
    ['3x3 s1 same', [2, 9, 8, 5], [3, 3, 5, 6], 1, 'same'],
    ['4x4 s1 valid', [2, 7, 9, 3], [4, 4, 3, 4], 1, 'valid'],
    ['5x5 s2 same', [2, 11, 10, 6], [5, 5, 6, 4], 2, 'same'],
    ['3x3 s2 valid', [3, 9, 10, 8], [3, 3, 8, 5], 2, 'valid'],
    ['4x4 s3 explicit', [2, 10, 11, 3], [4, 4, 3, 2], 3, [[0, 0], [2, 1], [0, 3], [0, 0]]],
    ['2x2 s3 numeric (a phase with no taps)', [2, 9, 9, 2], [2, 2, 2, 3], 3, 1],
  ];
  for (const form of ['columns', 'stride-phases', 'flipped-conv'] as const) {
    for (const [name, xs, ws, s, pad] of cases) {
      if (form === 'flipped-conv' && s !== 1) continue;
      it(`${form}: ${name}`, async () => {
        await expectWasmMatchesCpu(() => [forced(form, xs, ws, s, pad, 81)]);
      });
    }
  }
  it('stride phases with unequal strides and a non-square filter', async () => {
    await expectWasmMatchesCpu(() => [forced('stride-phases', [2, 9, 11, 4], [3, 5, 4, 6], [2, 3], 'same', 91)]);
  });
});
