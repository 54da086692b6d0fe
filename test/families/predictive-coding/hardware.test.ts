/**
 * The hardware networks of the PCN and of Predify: their feedforward projections reproduce the systems'
 * own passes in plain JS (the dense forms are the systems' operators), the counts of the measured inference
 * equal hand counts on tiny nets, the accuracy is the system's readout's, the spiking emulation refuses both
 * with their reasons, and nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeRng } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { loadDataset, subset, toTensors } from '../../../src/data/index.js';
import '../../../src/families/index.js';
import { PC_ERROR_FEEDBACK } from '../../../src/families/predictive-coding/hardware-pc.js';
import { PREDIFY_MIXING } from '../../../src/families/predictive-coding/hardware-predify.js';
import { predictiveCodingNetwork } from '../../../src/families/predictive-coding/system-pc.js';
import { predify } from '../../../src/families/predictive-coding/system-predify.js';
import { argmaxAccuracy, hardwareAdapters } from '../../../src/hardware/adapter.js';
import type { LayeredNetwork } from '../../../src/hardware/network.js';
import { toSpikingNetwork } from '../../../src/hardware/quantize.js';
import type { ModelSource } from '../../../src/runs/model-source.js';

vi.setConfig({ testTimeout: 300_000 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** a · W + b through one projection of the network, in plain JS (Float64). */
function through(net: LayeredNetwork, projection: string, a: ArrayLike<number>, bias?: Float32Array): Float64Array {
  const p = net.projections.find((q) => q.name === projection)!;
  const cols = p.weight.length / a.length;
  const z = new Float64Array(cols);
  if (bias) z.forEach((_, c) => (z[c] = bias[c]!));
  for (let r = 0; r < a.length; r++) if (a[r] !== 0) for (let c = 0; c < cols; c++) z[c]! += a[r]! * p.weight[r * cols + c]!;
  return z;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('pc-network hardware adapter', () => {
  const data = loadDataset('mnist-embedded');
  const count = 6;
  const steps = 3;
  const spec = { kind: 'pc-network', layers: [7, 5, 10], activation: 'tanh', output: 'se', stateStep: 0.1, init: 'torch-default' };

  it('its feedforward projections are the forward pass; counts equal hand counts; accuracy is the readout’s; spiking refused; no leaks', () => {
    const system = predictiveCodingNetwork({ sizes: [784, 7, 5, 10], activation: 'tanh', output: 'se', stateStep: 0.1 });
    const params = system.initParams(makeRng(2)) as Record<string, tf.Tensor>;
    const source: ModelSource = { origin: 'test', system: spec, run: { maxSteps: steps }, data, trained: { params, trainedBy: 'test' } };
    const before = tf.memory().numTensors;
    const trained = hardwareAdapters.get('pc-network').build({ source, rng: makeRng(1), count });
    const net = trained.network;
    expect(net.populations.map((p) => [p.name, p.activation, p.size])).toEqual([['layer1', 'tanh', 7], ['layer2', 'tanh', 5], ['output3', 'linear', 10]]);
    expect(net.projections.map((p) => [p.name, p.from, p.to, p.role])).toEqual([
      ['W1', 'x', 'layer1', 'feedforward'], ['W2T', 'layer2', 'layer1', 'feedback'],
      ['W2', 'layer1', 'layer2', 'feedforward'], ['W3T', 'output3', 'layer2', 'feedback'],
      ['W3', 'layer2', 'output3', 'feedforward'],
    ]);
    expect(net.structureOnly).toBe(PC_ERROR_FEEDBACK);
    // The rate semantics a_l = φ(a_{l−1} W_l + b_l) on the feedforward projections, in plain JS, against the system's forward pass.
    const image = trained.inputs.subarray(0, 784);
    const pop = (name: string) => net.populations.find((p) => p.name === name)!;
    const a1 = Array.from(through(net, 'W1', image, pop('layer1').bias), Math.tanh);
    const a2 = Array.from(through(net, 'W2', a1, pop('layer2').bias), Math.tanh);
    const u3 = through(net, 'W3', a2, pop('output3').bias);
    const expected = tf.tidy(() => system.forward(tf.tensor2d(image, [1, 784]), params).at(-1)!.dataSync());
    expect(maxAbsDiff(u3, expected)).toBeLessThan(1e-5);
    // W2ᵀ is W2 transposed.
    const w2 = net.projections.find((p) => p.name === 'W2')!.weight;
    expect(net.projections.find((p) => p.name === 'W2T')!.weight[3 * 7 + 4]).toBe(w2[4 * 5 + 3]);

    const measured = trained.measure();
    const L = measured.activity.layers;
    expect(measured.activity.stepsPerInference).toBe(steps);
    // Per step: layer l's prediction (n_l·n_{l−1}) and error feedback (n_l·n_{l+1}); the output's prediction.
    expect(L.layer1!.dense_macs).toBe(count * steps * 7 * (784 + 5));
    expect(L.layer2!.dense_macs).toBe(count * steps * 5 * (7 + 10));
    expect(L.output3!.dense_macs).toBe(count * steps * 5 * 10);
    expect(L.layer1!.neuron_updates).toBe(count * steps * 2 * 7);
    // tanh values of a random init are nonzero: every value node is an event.
    expect(L.layer1!.graded_events).toBe(count * steps * 7);
    // Event-driven MACs: nonzero pixels × n_1 into layer 1 (no label: the errors are 0 and send nothing),
    // then every tanh activity × the width above.
    let pixels = 0;
    for (let i = 0; i < count * 784; i++) if (trained.inputs[i] !== 0) pixels++;
    expect(L.layer1!.effective_macs).toBe(steps * pixels * 7);
    expect(L.layer2!.effective_macs).toBe(count * steps * 7 * 5);
    expect(L.output3!.effective_macs).toBe(count * steps * 5 * 10);
    const { x, y } = toTensors(subset(data.test, 0, count), { layout: 'flat' });
    const readout = tf.tidy(() => system.forward(x as tf.Tensor2D, params).at(-1)!.dataSync() as Float32Array);
    expect(measured.accuracy).toBe(argmaxAccuracy(readout, y.dataSync() as Int32Array, 10));
    tf.dispose([x, y]);
    expect(() => toSpikingNetwork(net)).toThrow(/no spiking form/);
    trained.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(params));
  });

  it('refuses a run folder without the weights, naming the parameter', () => {
    const source: ModelSource = { origin: 'test', system: spec, run: { maxSteps: steps }, data, trained: { params: {}, trainedBy: 'test' } };
    expect(() => hardwareAdapters.get('pc-network').build({ source, rng: makeRng(1), count })).toThrow(/model\.params\.W1/);
  });
});

describe('predify hardware adapter', () => {
  const data = loadDataset('mnist-embedded');
  const count = 4;
  const steps = 2;
  const spec = { kind: 'predify', channels: [2, 3], kernelSize: 3, hidden: 6, classes: 10, beta: 0.6, lambda: 0.2, alpha: 0.1 };

  it('its dense convolutions, pooling and decoder are the system’s operators; counts equal hand counts; spiking refused; no leaks', () => {
    const system = predify({ ...spec, imageSize: 28 });
    const params = { ...system.initBackbone(makeRng(3)), ...system.initDecoders(makeRng(4)) } as Record<string, tf.Tensor>;
    const source: ModelSource = { origin: 'test', system: spec, run: { maxSteps: steps }, data, trained: { params, trainedBy: 'test' } };
    const before = tf.memory().numTensors;
    const trained = hardwareAdapters.get('predify').build({ source, rng: makeRng(1), count });
    const net = trained.network;
    expect(net.populations.map((p) => [p.name, p.activation, p.size])).toEqual([
      ['conv1', 'relu', 28 * 28 * 2], ['pool1', 'max-pool', 14 * 14 * 2], ['pcoder1', 'linear', 14 * 14 * 2],
      ['conv2', 'relu', 14 * 14 * 3], ['pool2', 'max-pool', 7 * 7 * 3], ['pcoder2', 'linear', 7 * 7 * 3],
      ['fc1', 'relu', 6], ['readout', 'linear', 10],
    ]);
    expect(net.structureOnly).toBe(PREDIFY_MIXING);
    // e_1 of the feedforward pass through conv1 → relu → max-pool in plain JS, against the system's block.
    const image = trained.inputs.subarray(0, 784);
    const pop = (name: string) => net.populations.find((p) => p.name === name)!;
    const c1 = Array.from(through(net, 'conv1.w', image, pop('conv1').bias), (v) => Math.max(0, v));
    const selector = net.projections.find((p) => p.name === 'pool1')!.weight;
    const e1 = new Float64Array(392).fill(Number.NEGATIVE_INFINITY);
    for (let r = 0; r < c1.length; r++) for (let c = 0; c < 392; c++) if (selector[r * 392 + c] !== 0) e1[c] = Math.max(e1[c]!, c1[r]!);
    const x1 = tf.tensor4d(image, [1, 28, 28, 1]);
    const ff = tf.tidy(() => system.feedforward(x1, params)[0]!.dataSync());
    expect(maxAbsDiff(e1, ff)).toBeLessThan(1e-5);
    // The decoder D_1 (no ReLU at n = 1) from e_1 to the image: the dense form plus its bias is the system's prediction.
    const dec1b = params['dec1.b']!.dataSync() as Float32Array;
    const decoder = net.projections.find((p) => p.name === 'dec1T')!; // x → pcoder1, the adjoint: Dᵀ
    const rows = 784;
    const cols = 392;
    const predicted = new Float64Array(rows).fill(dec1b[0]!);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) predicted[r]! += e1[c]! * decoder.weight[r * cols + c]!;
    const systemPrediction = tf.tidy(() => system.decode(1, tf.tensor4d(Float32Array.from(e1), [1, 14, 14, 2]), params).dataSync());
    expect(maxAbsDiff(predicted, systemPrediction)).toBeLessThan(1e-5);
    // dec2 feeds e_2's prediction of e_1 back into pcoder1.
    expect(net.projections.find((p) => p.name === 'dec2')!).toMatchObject({ from: 'pcoder2', to: 'pcoder1', role: 'feedback' });
    x1.dispose();

    const measured = trained.measure();
    const L = measured.activity.layers;
    expect(measured.activity.stepsPerInference).toBe(steps);
    // Per PCoder and step: the block's k²·C_in MACs per pre-pool unit, the decoder and its adjoint.
    const block1 = 28 * 28 * 2 * 9 * 1;
    const dec1 = 14 * 14 * 2 * 9 * 1;
    const block2 = 14 * 14 * 3 * 9 * 2;
    // 14 = 2 × 7, so decoder 2 is the 'same' stride-2 transposed convolution with the backbone's 3×3 kernel.
    const dec2 = 7 * 7 * 3 * 9 * 2;
    expect(L.pcoder1!.dense_macs).toBe(count * steps * (block1 + 2 * dec1));
    expect(L.pcoder2!.dense_macs).toBe(count * steps * (block2 + 2 * dec2));
    expect(L.pcoder1!.neuron_updates).toBe(count * steps * 14 * 14 * 2);
    expect(L.pcoder1!.graded_events).toBeGreaterThan(0);
    // Event-driven MACs never exceed the dense count, and the image's zero pixels send nothing into block 1.
    for (const layer of ['pcoder1', 'pcoder2']) expect(L[layer]!.effective_macs).toBeLessThanOrEqual(L[layer]!.dense_macs);
    let pixels = 0;
    for (let i = 0; i < count * 784; i++) if (trained.inputs[i] !== 0) pixels++;
    // block 1: each nonzero pixel × 3²·2; decoder 1: each nonzero e_1 × 3²·1; the adjoint's dense residual.
    expect(L.pcoder1!.effective_macs).toBe(steps * pixels * 9 * 2 + L.pcoder1!.graded_events * 9 * 1 + count * steps * dec1);
    expect(L.pcoder1!.graded_events).toBeLessThanOrEqual(count * steps * 14 * 14 * 2);
    // accuracy: the head on e_N(T) of the system's own run
    const { x, y } = toTensors(subset(data.test, 0, count), { layout: 'nhwc' });
    const sol = simulate({ system, params, input: { x: x as tf.Tensor4D }, maxSteps: steps });
    const scores = tf.tidy(() => system.readout!(sol.state, { x: x as tf.Tensor4D }, params).dataSync() as Float32Array);
    expect(measured.accuracy).toBe(argmaxAccuracy(scores, y.dataSync() as Int32Array, 10));
    sol.dispose();
    tf.dispose([x, y]);
    expect(() => toSpikingNetwork(net)).toThrow(/no spiking form/);
    trained.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(params));
  });
});

describe('predictive coding in NIR', () => {
  it('every system refuses the rate export with the exact reason (no NIR node for φ, error units, max-pool)', async () => {
    const { nirMappers, UnmappableError } = await import('../../../src/export/nir-mapping.js');
    for (const kind of ['pc-network', 'pc-network-flow', 'predify']) {
      const mapper = nirMappers.get(kind);
      expect(() => mapper({}, {}), kind).toThrow(UnmappableError);
    }
    expect(() => nirMappers.get('pc-network')({}, {})).toThrow(/no rate activation node for φ/);
    expect(() => nirMappers.get('predify')({}, {})).toThrow(/no max-pool/);
  });
});
