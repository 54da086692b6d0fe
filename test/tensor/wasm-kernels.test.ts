/**
 * Every kernel src/tensor/wasm-kernels supplies for wasm, against tfjs's cpu backend (the reference), over
 * several shapes, strides and paddings; mostly through gradients, as training uses them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { isNeurodynWasmKernel, useBackend, WASM_KERNEL_FIXES } from '../../src/tensor/index.js';
import { expectWasmMatchesCpu, gradsOf, rand, runOn, relErr } from './_helpers.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
const x4 = (t: tf.Tensor) => t as tf.Tensor4D;
const x5 = (t: tf.Tensor) => t as tf.Tensor5D;

describe('wasm kernel registration', () => {
  it('registers each supplied kernel for wasm, replacing tfjs-backend-wasm\'s where it had one', async () => {
    await useBackend('wasm');
    for (const fix of WASM_KERNEL_FIXES) expect(isNeurodynWasmKernel(fix.kernelName), fix.kernelName).toBe(true);
    expect(WASM_KERNEL_FIXES.filter((f) => f.why === 'missing').map((f) => f.kernelName)).toEqual(
      expect.arrayContaining(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'UnsortedSegmentSum']));
  });
});

describe('Conv2DBackpropFilter (conv2d gradients)', () => {
  const cases: Array<[string, number[], number[], number | [number, number], Pad]> = [
    ['3x3 s1 same', [2, 9, 9, 3], [3, 3, 3, 4], 1, 'same'],
    ['3x3 s2 valid, unused last row', [2, 9, 9, 3], [3, 3, 3, 4], 2, 'valid'],
    ['5x5 s2 same', [2, 10, 10, 2], [5, 5, 2, 3], 2, 'same'],
    ['2x3 s(2,3) valid, one channel', [1, 8, 7, 1], [2, 3, 1, 5], [2, 3], 'valid'],
    ['1x1 s1', [3, 7, 7, 4], [1, 1, 4, 2], 1, 'valid'],
    ['4x4 s3 same', [2, 6, 6, 3], [4, 4, 3, 2], 3, 'same'],
    ['3x3 s2 explicit padding', [2, 8, 9, 3], [3, 3, 3, 2], 2, [[0, 0], [1, 2], [0, 1], [0, 0]]],
    ['3x3 s1 numeric padding', [1, 6, 6, 2], [3, 3, 2, 2], 1, 1],
  ];
  for (const [name, xs, ws, s, pad] of cases) {
    it(`${name}: x ${xs} filter ${ws}`, async () => {
      await expectWasmMatchesCpu(() => gradsOf((x, w) => tf.conv2d(x4(x), x4(w), s, pad as 'same'), [rand(xs, 1), rand(ws, 2)]));
    });
  }

  it('NCHW data format (direct kernel)', async () => {
    await expectWasmMatchesCpu(() => {
      const x = rand([2, 3, 8, 8], 3), dy = rand([2, 4, 4, 4], 4);
      return [tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [2, 2], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4] } as unknown as tf.NamedAttrMap) as tf.Tensor];
    });
  });

  it('conv2dTranspose and fused conv2d (bias, relu) gradients', async () => {
    await expectWasmMatchesCpu(() => [
      ...gradsOf((x, w) => tf.conv2dTranspose(x4(x), x4(w), [2, 10, 10, 3], 2, 'same'), [rand([2, 5, 5, 4], 5), rand([3, 3, 3, 4], 6)]),
      ...gradsOf((x, w, b) => tf.fused.conv2d({ x: x4(x), filter: x4(w), strides: 1, pad: 'same', bias: b, activation: 'relu' }),
        [rand([2, 6, 6, 3], 7), rand([3, 3, 3, 5], 8), rand([5], 9)]),
    ]);
  });
});

describe('DepthwiseConv2dNativeBackpropInput / BackpropFilter (depthwise and separable conv gradients)', () => {
  const cases: Array<[string, number[], number[], number | [number, number], 'same' | 'valid']> = [
    ['3x3 x1 s1 same', [2, 8, 8, 3], [3, 3, 3, 1], 1, 'same'],
    ['3x3 x2 s2 valid', [2, 9, 9, 3], [3, 3, 3, 2], 2, 'valid'],
    ['5x5 x2 s2 same', [2, 9, 9, 3], [5, 5, 3, 2], 2, 'same'],
    ['2x2 x3 s(1,2) same', [1, 7, 6, 2], [2, 2, 2, 3], [1, 2], 'same'],
    ['1x1 x1 s1', [3, 5, 5, 4], [1, 1, 4, 1], 1, 'valid'],
  ];
  for (const [name, xs, ws, s, pad] of cases) {
    it(`${name}: x ${xs} filter ${ws}`, async () => {
      await expectWasmMatchesCpu(() => gradsOf((x, w) => tf.depthwiseConv2d(x4(x), x4(w), s, pad), [rand(xs, 11), rand(ws, 12)]));
    });
  }

  it('separableConv2d gradients', async () => {
    await expectWasmMatchesCpu(() => gradsOf(
      (x, dw, pw) => tf.separableConv2d(x4(x), x4(dw), x4(pw), 1, 'same'),
      [rand([2, 7, 7, 3], 13), rand([3, 3, 3, 2], 14), rand([1, 1, 6, 4], 15)]));
  });

  it('dilated filters (direct kernels; tfjs gradients refuse dilation, the cpu kernels ignore it)', async () => {
    // Reference: a dilation-d filter equals a dilation-1 filter with d-1 zeros between taps.
    const dil = 2, fh = 3, c = 3, m = 2;
    const xShape: [number, number, number, number] = [2, 9, 9, c];
    const x = () => rand(xShape, 16), w = () => rand([fh, fh, c, m], 17);
    const spread = (f: tf.Tensor) => {
      const e = (fh - 1) * dil + 1;
      const big = tf.buffer([e, e, c, m]);
      const v = f.arraySync() as number[][][][];
      for (let i = 0; i < fh; i++) for (let j = 0; j < fh; j++) for (let k = 0; k < c; k++) for (let q = 0; q < m; q++) big.set(v[i]![j]![k]![q]!, i * dil, j * dil, k, q);
      return big.toTensor();
    };
    const dy = () => rand([2, 9, 9, c * m], 18);
    const wasm = await runOn('wasm', () => [
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy(), filter: w() }, { strides: 1, pad: 'same', dilations: dil, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: x(), dy: dy() }, { strides: 1, pad: 'same', dilations: dil, filterShape: [fh, fh, c, m] } as unknown as tf.NamedAttrMap) as tf.Tensor,
    ]);
    const e = (fh - 1) * dil + 1;
    const cpu = await runOn('cpu', () => {
      const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy(), filter: spread(w()) }, { strides: 1, pad: 'same', dilations: 1, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const dwBig = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: x(), dy: dy() }, { strides: 1, pad: 'same', dilations: 1, filterShape: [e, e, c, m] } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return [dx, tf.stridedSlice(dwBig, [0, 0, 0, 0], [e, e, c, m], [dil, dil, 1, 1])];
    });
    expect(relErr(wasm[0]!, cpu[0]!)).toBeLessThanOrEqual(1e-4);
    expect(relErr(wasm[1]!, cpu[1]!)).toBeLessThanOrEqual(1e-4);
  });
});

describe('UnsortedSegmentSum (gather gradients)', () => {
  it('sums rows by segment and drops ids outside [0, numSegments)', async () => {
    await expectWasmMatchesCpu(() => [
      tf.unsortedSegmentSum(rand([6, 3], 21), tf.tensor1d([0, 2, 2, -1, 5, 1], 'int32'), 4),
      tf.unsortedSegmentSum(rand([5, 2, 2], 22), tf.tensor1d([1, 1, 0, 1, 2], 'int32'), 3),
      tf.unsortedSegmentSum(rand([4], 23), tf.tensor1d([3, 0, 3, 1], 'int32'), 4),
    ]);
  });

  it('gradients of gather on axis 0 and 1, with repeated indices, and with batchDims 1', async () => {
    await expectWasmMatchesCpu(() => [
      ...gradsOf((x) => tf.gather(x, tf.tensor1d([0, 5, 5, 2, 6], 'int32')), [rand([7, 3], 24)]),
      ...gradsOf((x) => tf.gather(x, tf.tensor1d([2, 0, 2], 'int32'), 1), [rand([4, 3, 2], 25)]),
      ...gradsOf((x) => tf.gather(x, tf.tensor2d([[0, 2], [1, 1]], [2, 2], 'int32'), 1, 1), [rand([2, 3, 4], 26)]),
    ]);
  });
});

describe('MaxPoolGrad (replaced: tfjs-backend-wasm 4.22 loses gradients of windows <= 0)', () => {
  const cases: Array<[string, number[], number | [number, number], number | [number, number], 'same' | 'valid']> = [
    ['2x2 s2 valid, odd size', [2, 9, 9, 3], 2, 2, 'valid'],
    ['3x3 s2 same', [2, 8, 8, 2], 3, 2, 'same'],
    ['3x3 s1 same (overlapping)', [1, 6, 6, 3], 3, 1, 'same'],
    ['2x3 s(1,2) valid', [2, 7, 8, 2], [2, 3], [1, 2], 'valid'],
  ];
  for (const [name, xs, f, s, pad] of cases) {
    it(`${name}: x ${xs}, values in [-1.5, 0.5)`, async () => {
      await expectWasmMatchesCpu(() => gradsOf((x) => tf.maxPool(x4(x), f, s, pad), [tf.sub(rand(xs, 31), 0.5)]));
    });
  }

  it('ties (zeros after relu, repeated integers) go to the first maximum, as on cpu', async () => {
    await expectWasmMatchesCpu(() => [
      ...gradsOf((x) => tf.maxPool(tf.relu(x4(x)), 2, 2, 'valid'), [rand([2, 8, 8, 3], 32)]),
      ...gradsOf((x) => tf.maxPool(x4(x), 3, 2, 'same'), [tf.round(tf.mul(rand([2, 7, 7, 2], 33), 1.5))]),
      ...gradsOf((x) => tf.maxPool(x4(x), 2, 2, 'valid'), [tf.zeros([1, 4, 4, 2])]),
    ]);
  });
});

describe('BatchMatMul (replaced for speed: transposed and batched products)', () => {
  it('all four transpose combinations, a batch sharing b, a shared a against a batch, batched on both sides', async () => {
    await expectWasmMatchesCpu(() => {
      const a = rand([5, 7], 81), b = rand([7, 3], 82), aT = rand([7, 5], 83), bT = rand([3, 7], 84);
      return [
        tf.matMul(a, b), tf.matMul(a, bT, false, true), tf.matMul(aT, b, true, false), tf.matMul(aT, bT, true, true),
        tf.matMul(rand([2, 4, 5, 7], 85), b),
        tf.matMul(rand([4, 7, 5], 86), rand([7, 3], 87), true, false),
        tf.matMul(a, rand([3, 7, 6], 88)),
        tf.matMul(rand([5, 7], 89), rand([2, 3, 6, 7], 90), false, true),
        tf.matMul(rand([3, 5, 7], 91), rand([3, 6, 7], 92), false, true),
      ];
    });
  });

  it('batch dims that broadcast against each other (tfjs cpu and wasm both get these wrong; reference: tiled)', async () => {
    const [wasm] = await runOn('wasm', () => [tf.matMul(rand([2, 1, 5, 7], 93), rand([1, 3, 7, 4], 94))]);
    const [cpu] = await runOn('cpu', () => [tf.matMul(tf.tile(rand([2, 1, 5, 7], 93), [1, 3, 1, 1]), tf.tile(rand([1, 3, 7, 4], 94), [2, 1, 1, 1]))]);
    expect(wasm!.length).toBe(2 * 3 * 5 * 4);
    expect(relErr(wasm!, cpu!)).toBeLessThanOrEqual(1e-4);
  });

  it('dense-layer gradients', async () => {
    await expectWasmMatchesCpu(() => gradsOf((x, w) => tf.matMul(x, w), [rand([6, 9], 95), rand([9, 4], 96)]));
  });
});

describe('kernels delegated to the cpu reference (wrong or missing in tfjs-backend-wasm 4.22)', () => {
  it('MaxPoolWithArgmax', async () => {
    await expectWasmMatchesCpu(() => {
      const r = tf.maxPoolWithArgmax(x4(rand([2, 6, 6, 3], 41)), 3, 2, 'same', true);
      return [r.result!, tf.cast(r.indexes!, 'float32')];
    });
  });

  it('MaxPool3D and its gradient', async () => {
    await expectWasmMatchesCpu(() => [
      tf.maxPool3d(x5(rand([1, 3, 4, 4, 2], 42)), 2, 1, 'same'),
      ...gradsOf((x) => tf.maxPool3d(x5(x), 2, 1, 'same'), [rand([1, 3, 4, 4, 2], 43)]),
    ]);
  });

  it('Conv3D gradients (BackpropInputV2, BackpropFilterV2), stride 1 and 2', async () => {
    await expectWasmMatchesCpu(() => [
      ...gradsOf((x, w) => tf.conv3d(x5(x), x5(w), 1, 'same'), [rand([1, 3, 4, 4, 2], 44), rand([2, 2, 2, 2, 3], 45)]),
      ...gradsOf((x, w) => tf.conv3d(x5(x), x5(w), 2, 'same'), [rand([2, 4, 5, 5, 2], 46), rand([3, 3, 3, 2, 3], 47)]),
    ]);
  });

  it('Dilation2D and its gradients', async () => {
    await expectWasmMatchesCpu(() => [
      tf.dilation2d(x4(rand([1, 5, 5, 2], 48)), rand([2, 2, 2], 49) as tf.Tensor3D, 1, 'same'),
      ...gradsOf((x, w) => tf.dilation2d(x4(x), w as tf.Tensor3D, 1, 'valid'), [rand([2, 5, 5, 2], 50), rand([2, 2, 2], 51)]),
    ]);
  });

  it('Einsum', async () => {
    await expectWasmMatchesCpu(() => [tf.einsum('bij,bjk->bik', rand([2, 3, 4], 52), rand([2, 4, 5], 53))]);
  });
});

describe('memory', () => {
  it('a gradient through every supplied training kernel (and BatchMatMul) leaves no tensor or wasm buffer behind', async () => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = rand([2, 8, 8, 3], 61), w = rand([3, 3, 3, 4], 62), dw = rand([3, 3, 4, 2], 63), table = rand([10, 8], 64);
    const dense = rand([32, 5], 65);
    const net = (x: tf.Tensor, w: tf.Tensor, dw: tf.Tensor, table: tf.Tensor, dense: tf.Tensor) => {
      const c = tf.conv2d(x4(x), x4(w), 2, 'same'); // [2,4,4,4]
      const d = tf.depthwiseConv2d(c, x4(dw), 1, 'same'); // [2,4,4,8]
      const p = tf.maxPool(d, 2, 2, 'valid'); // [2,2,2,8]
      const m = tf.moments(p, [0, 1, 2]);
      // tfjs's batchNorm gradient fails (any backend) when scale is omitted, so pass it.
      const bn = tf.batchNorm(p, m.mean, m.variance, tf.zeros([8]), tf.ones([8]), 1e-3);
      const e = tf.gather(table, tf.tensor1d([1, 3], 'int32')); // [2,8]
      const flat = tf.mul(tf.reshape(bn, [2, -1]), tf.tile(e, [1, 4])); // [2,32]
      return tf.sum(tf.matMul(flat, dense));
    };
    const tensorsBefore = tf.memory().numTensors, buffersBefore = backend.numDataIds();
    const grads = tf.grads(net)([x, w, dw, table, dense]);
    expect(tf.memory().numTensors).toBe(tensorsBefore + grads.length);
    expect(backend.numDataIds()).toBe(buffersBefore + grads.length);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(backend.numDataIds()).toBe(buffersBefore);
    tf.dispose([x, w, dw, table, dense]);
  });
});

describe('training on wasm', () => {
  it('a small conv net trains for a few SGD steps with the same losses as on cpu', async () => {
    const train = () => {
      const images = rand([8, 8, 8, 1], 71), labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
      const vars = [rand([3, 3, 1, 4], 72), rand([3, 3, 4, 1], 73), rand([4 * 4 * 4, 4], 74)].map((t) => tf.variable(tf.mul(t, 0.5)));
      const [k1, k2, dense] = vars as [tf.Variable, tf.Variable, tf.Variable];
      const loss = () => {
        const h = tf.relu(tf.conv2d(x4(images), k1 as unknown as tf.Tensor4D, 1, 'same'));
        const d = tf.depthwiseConv2d(tf.maxPool(h, 2, 2, 'valid'), k2 as unknown as tf.Tensor4D, 1, 'same');
        return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.reshape(d, [8, -1]), dense)) as tf.Scalar;
      };
      const losses: number[] = [];
      for (let step = 0; step < 5; step++) {
        const { value, grads } = tf.variableGrads(loss);
        losses.push(value.dataSync()[0]!);
        for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name]!, 0.5)));
        tf.dispose([value, ...Object.values(grads)]);
      }
      tf.dispose(vars);
      return [tf.tensor1d(losses)];
    };
    const [cpu] = await runOn('cpu', train);
    const [wasm] = await runOn('wasm', train);
    expect(relErr(wasm!, cpu!)).toBeLessThanOrEqual(1e-4);
    expect(cpu![4]!).toBeLessThan(cpu![0]!);
  });
});
