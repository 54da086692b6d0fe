/**
 * The fused native steps of issue 16 against the unfused tfjs ops (native kernels turned off in the same
 * process) and the cpu backend, value and gradient: the EP layer (src/tensor/fused-steps.ts clippedLayer),
 * the soft threshold, ClipByValue's native gradient, the direct transposed convolution onto few channels
 * (Conv2DBackpropInput), and Identity without a copy. Skipped where the addon is not built.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRng, randomNormal, randomUniform } from '../../src/base/rng.js';
import { simulate } from '../../src/core/simulate.js';
import { equilibriumProp, nudged, oneHotTargets, withInputDrive, type EpOutput } from '../../src/families/equilibrium-prop/system.js';
import { clippedLayer, disableNativeKernels, enableNativeKernels, nativeStatus, sgdMomentumStep, softThreshold, useBackend, type LayerDrive } from '../../src/tensor/index.js';
import { SGD_MOMENTUM } from '../../src/tensor/native/kernel-names.js';
import { sgd } from '../../src/learning/optimizers.js';
import { expectWasmMatchesCpu, gradsOf, rand, relErr, runOn } from './_helpers.js';

const native = nativeStatus();

/** Runs `compute` with the native kernels, then without, in one process; expects equal outputs. */
async function expectFusedEqualsUnfused(compute: () => tf.Tensor[], rtol: number, kernels?: string[]): Promise<void> {
  await useBackend('wasm');
  const read = () => tf.tidy(() => compute().map((t) => Float32Array.from(t.dataSync())));
  const fused = read();
  if (kernels) {
    const profile = await tf.profile(() => tf.tidy(() => { compute(); }));
    for (const k of kernels) expect(profile.kernelNames, k).toContain(k);
  }
  disableNativeKernels();
  try {
    const unfused = read();
    expect(fused.length).toBe(unfused.length);
    fused.forEach((v, i) => expect(relErr(v, unfused[i]!), `output ${i}`).toBeLessThanOrEqual(rtol));
  } finally {
    enableNativeKernels();
  }
}

describe.runIf(native.available)('fused EP layer: clip(addend + below·W + above·Vᵀ + extra)', () => {
  afterAll(() => enableNativeKernels());
  type Case = { name: string; rows: number; m?: number; n: number; p?: number; drive?: boolean; extra?: boolean };
  const cases: Case[] = [
    { name: 'hidden layer of a 784-100-10 net (batch 4): bias, below and above', rows: 4, m: 784, n: 100, p: 10 },
    { name: 'first layer with a precomputed drive and the layer above', rows: 5, n: 40, p: 7, drive: true },
    { name: 'output layer (below only) with a nudge', rows: 3, m: 30, n: 10, extra: true },
    { name: 'batch 1, odd widths, bias, both sides and a nudge', rows: 1, m: 13, n: 9, p: 5, extra: true },
  ];
  for (const c of cases) {
    const inputs = () => {
      const t: tf.Tensor[] = [];
      if (c.m) t.push(rand([c.rows, c.m], 1), tf.mul(rand([c.m, c.n], 2), 0.2));
      t.push(c.drive ? rand([c.rows, c.n], 3) : tf.mul(rand([c.n], 3), 0.5));
      if (c.p) t.push(rand([c.rows, c.p], 4), tf.mul(rand([c.n, c.p], 5), 0.5));
      if (c.extra) t.push(tf.mul(rand([c.rows, c.n], 6), 0.3));
      return t;
    };
    const layer = (...t: tf.Tensor[]) => {
      let k = 0;
      const below = c.m ? ([t[k++]!, t[k++]!] as const) : undefined;
      const addend = t[k++]!;
      const above = c.p ? ([t[k++]!, t[k++]!] as const) : undefined;
      const extra = c.extra ? t[k++] : undefined;
      const drive: LayerDrive = { addend, ...(below ? { below } : {}), ...(above ? { above } : {}), ...(extra ? { extra } : {}) };
      return clippedLayer(drive, 0, 1);
    };
    it(`${c.name}: fused equals unfused and cpu, value and every gradient`, async () => {
      const compute = () => {
        const t = inputs();
        return [layer(...t), ...gradsOf(layer, t)];
      };
      await expectFusedEqualsUnfused(compute, 2e-5, ['NeurodynEpLayer', 'NeurodynClipGrad']);
      await expectWasmMatchesCpu(compute, 2e-5);
    }, 60_000);
  }

  it('at a pre-activation exactly on the clip bound the gradient passes, as tfjs clipByValue (zero state, zero bias)', async () => {
    // y ← clip(h W2 + b2) with h = 0, b2 = 0: pre = 0 = lo everywhere, where tfjs's gradient is 1.
    const compute = () => {
      const h = tf.zeros([4, 6]), W2 = rand([6, 3], 1), b2 = tf.zeros([3]);
      const f = (hh: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => clippedLayer({ below: [hh, w], addend: b }, 0, 1);
      return gradsOf(f, [h, W2, b2]);
    };
    await expectFusedEqualsUnfused(compute, 1e-6);
    const [, , db] = await runOn('wasm', compute);
    expect(Array.from(db!).some((v) => v !== 0)).toBe(true);
  });

  it('leaves no tensor behind, inside and outside tf.grad', async () => {
    await useBackend('wasm');
    const t = [rand([4, 9], 1), rand([9, 5], 2), rand([5], 3), rand([4, 2], 4), rand([5, 2], 5)];
    const before = tf.memory().numTensors;
    const f = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor, c: tf.Tensor, v: tf.Tensor) => clippedLayer({ below: [a, w], addend: b, above: [c, v] }, 0, 1);
    tf.tidy(() => f(...(t as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]))).dispose();
    tf.dispose(tf.tidy(() => gradsOf(f as (...x: tf.Tensor[]) => tf.Tensor, t)));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(t);
  });
});

describe.runIf(native.available)('other fused elementwise kernels', () => {
  afterAll(() => enableNativeKernels());

  it('soft threshold max(u − λ, 0): fused equals relu(u − λ) and cpu, value and gradient', async () => {
    const compute = () => {
      const u = rand([1, 28, 28, 64], 1);
      const f = (x: tf.Tensor) => softThreshold(x, 0.25);
      return [f(u), ...gradsOf(f, [u])];
    };
    await expectFusedEqualsUnfused(compute, 1e-6, ['NeurodynSoftThreshold', 'NeurodynSoftThresholdGrad']);
    await expectWasmMatchesCpu(compute, 1e-6);
  });

  it("ClipByValue's gradient runs as one native kernel and equals tfjs's (including values on the bounds)", async () => {
    const compute = () => {
      const x = tf.concat([rand([300], 1), tf.tensor1d([0, 1, 0.5, -0.5, 0.5])]);
      return gradsOf((v: tf.Tensor) => tf.clipByValue(v, -0.5, 0.5), [x]);
    };
    await expectFusedEqualsUnfused(compute, 1e-7, ['NeurodynClipGrad']);
    await expectWasmMatchesCpu(compute, 1e-7);
  });

  it('Identity (tf.clone) shares the buffer: the clone outlives its source, and nothing leaks', async () => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const tensors = tf.memory().numTensors, buffers = backend.numDataIds();
    const x = rand([3, 4], 1);
    const expected = Float32Array.from(x.dataSync());
    const copy = tf.clone(x);
    expect(backend.numDataIds()).toBe(buffers + 1);
    x.dispose();
    expect(Float32Array.from(copy.dataSync())).toEqual(expected);
    copy.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
  });
});

describe.runIf(native.available)('direct transposed convolution onto 1–4 channels (Conv2DBackpropInput)', () => {
  type Case = { name: string; dy: number[]; w: number[]; out: [number, number, number, number]; stride: number | [number, number]; pad: 'same' | 'valid' | number };
  const cases: Case[] = [
    { name: 'lca_conv: 64 atoms onto 1 channel, 7×7, pad 3', dy: [1, 28, 28, 64], w: [7, 7, 1, 64], out: [1, 28, 28, 1], stride: 1, pad: 3 },
    { name: '3 channels, stride 2, same', dy: [2, 7, 7, 16], w: [5, 5, 3, 16], out: [2, 13, 13, 3], stride: 2, pad: 'same' },
    { name: '2 channels, strides 2×3, valid, non-square', dy: [1, 4, 3, 9], w: [3, 4, 2, 9], out: [1, 10, 11, 2], stride: [2, 3], pad: 'valid' },
    { name: '1 channel, even kernel, stride 2, same (asymmetric padding)', dy: [3, 5, 4, 12], w: [4, 4, 1, 12], out: [3, 10, 7, 1], stride: 2, pad: 'same' },
  ];
  for (const c of cases) {
    it(`${c.name}: value and both gradients equal cpu`, async () => {
      const f = (dy: tf.Tensor, w: tf.Tensor) => tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, c.out, c.stride, c.pad as 'same');
      await expectWasmMatchesCpu(() => {
        const dy = rand(c.dy, 7), w = rand(c.w, 8);
        return [f(dy, w), ...gradsOf(f, [dy, w])];
      }, 2e-5);
    }, 60_000);
  }
});

describe.runIf(native.available)('MaxPoolGrad on the native loop', () => {
  const cases: Array<{ name: string; x: number[]; size: number; stride: number; pad: 'valid' | 'same' }> = [
    { name: 'ep_conv: 2×2 stride 2 over 32 channels', x: [2, 24, 24, 32], size: 2, stride: 2, pad: 'valid' },
    { name: 'windows of non-positive values and ties (flat zeros)', x: [1, 6, 6, 3], size: 2, stride: 2, pad: 'valid' },
    { name: '3×3 stride 2, same (overlapping windows, padding)', x: [2, 9, 7, 5], size: 3, stride: 2, pad: 'same' },
  ];
  for (const c of cases) {
    it(`${c.name}: the gradient of maxPool equals cpu`, async () => {
      await expectWasmMatchesCpu(() => {
        const raw = rand(c.x, 5);
        // The second case: every value ≤ 0, with ties (zeros), where tfjs-wasm's own kernel was wrong.
        const x = c.name.startsWith('windows') ? tf.minimum(tf.round(raw), 0) : raw;
        return gradsOf((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, c.size, c.stride, c.pad), [x]);
      }, 1e-6);
    }, 60_000);
  }
});

describe.runIf(native.available)('the EP system\'s primitive-map step on the fused layer', () => {
  afterAll(() => enableNativeKernels());
  const cases: Array<{ output: EpOutput; sizes: number[]; activation: 'hard-sigmoid' | 'centered-hard-sigmoid'; drive: boolean }> = [
    { output: 'mse', sizes: [30, 16, 12, 5], activation: 'hard-sigmoid', drive: false },
    { output: 'mse', sizes: [30, 16, 5], activation: 'centered-hard-sigmoid', drive: true },
    { output: 'softmax-ce', sizes: [30, 16, 12, 5], activation: 'hard-sigmoid', drive: true },
  ];
  for (const c of cases) {
    it(`${c.output} ${c.sizes.join('-')} ${c.activation}${c.drive ? ', precomputed drive' : ''}: free and nudged relaxations and the unrolled input gradient equal the unfused ops`, async () => {
      const system = equilibriumProp({ sizes: c.sizes, activation: c.activation, output: c.output });
      const compute = () => {
        const rng = makeRng(3);
        const params = Object.fromEntries(c.sizes.slice(1).flatMap((n, i) => [[`W${i + 1}`, randomNormal(rng, [c.sizes[i]!, n], 1.5 / Math.sqrt(c.sizes[i]!))], [`b${i + 1}`, randomNormal(rng, [n], 0.2)]]));
        const x = randomUniform(rng, [6, c.sizes[0]!]) as tf.Tensor2D;
        const labels = tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32');
        const target = oneHotTargets(labels, c.sizes[c.sizes.length - 1]!);
        const base = c.drive ? withInputDrive({ x }, params) : { x };
        const relax = (input: typeof base, steps: number) => {
          const solution = simulate({ system, params, input, maxSteps: steps });
          const layers = solution.state.layers.map((l) => l.clone());
          solution.dispose();
          return layers;
        };
        const free = relax(base, 12);
        const pushed = relax(nudged(base, target, 0.5), 12);
        const dx = tf.grad((xx: tf.Tensor) => {
          const solution = simulate({ system, params, input: { x: xx as tf.Tensor2D }, maxSteps: 8, gradient: { kind: 'unrolled' } });
          const out = tf.sum(tf.mul(system.readout!(solution.state, { x: xx as tf.Tensor2D }, params), tf.range(1, c.sizes[c.sizes.length - 1]! + 1)));
          solution.dispose();
          return out as tf.Scalar;
        })(x);
        return [...free, ...pushed, dx];
      };
      await expectFusedEqualsUnfused(compute, 2e-5, ['NeurodynEpLayer', 'NeurodynClipGrad']);
    }, 60_000);
  }
});

describe.runIf(native.available)('fused SGD-momentum step (optimizers.ts sgd with momentum)', () => {
  afterAll(() => enableNativeKernels());
  const cases = [
    { name: 'a 301×203 weight matrix, no decay', shape: [301, 203], decay: 0 },
    { name: 'a bias of odd length with weight decay', shape: [13], decay: 5e-4 },
    { name: 'a rank-4 conv filter, one element', shape: [1, 1, 1, 1], decay: 0.01 },
  ];
  for (const c of cases) {
    it(`${c.name}: θ' and v' equal the unfused ops bit for bit, and cpu`, async () => {
      const compute = () => {
        const theta = rand(c.shape, 1), velocity = tf.mul(rand(c.shape, 2), 0.1), direction = tf.mul(rand(c.shape, 3), 0.01);
        return sgdMomentumStep(theta, velocity, direction, { lr: 0.05, momentum: 0.9, decay: c.decay });
      };
      await expectFusedEqualsUnfused(compute, 0, [SGD_MOMENTUM]);
      await expectWasmMatchesCpu(compute, 1e-6);
    });
  }

  it('an sgd optimizer with momentum runs it for every parameter, gives the same trajectory as the unfused ops over 3 steps, and leaks nothing', async () => {
    const trajectory = () => {
      const optimizer = sgd({ lr: { W: 0.1, b: 0.02 }, momentum: 0.9, weightDecay: 1e-3 });
      let params: Record<string, tf.Tensor> = { W: rand([7, 5], 4), b: rand([5], 5) };
      let state = optimizer.init(params);
      for (let t = 0; t < 3; t++) {
        const directions = { W: rand([7, 5], 10 + t), b: rand([5], 20 + t) };
        ({ params, state } = optimizer.step(params, directions, state) as { params: Record<string, tf.Tensor>; state: typeof state });
      }
      return [params.W!, params.b!, state.slots.velocity!.W!, state.slots.velocity!.b!];
    };
    await expectFusedEqualsUnfused(trajectory, 0, [SGD_MOMENTUM]);
    const before = tf.memory().numTensors;
    tf.tidy(() => { trajectory(); });
    expect(tf.memory().numTensors).toBe(before);
  });
});
