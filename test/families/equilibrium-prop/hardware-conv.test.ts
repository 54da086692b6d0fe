/**
 * The P_CNN's hardware network: its dense convolution and pooling reproduce the system's pooled
 * pre-activations P(conv(s, W) + b) on random states, the counts are the relaxation's and equal hand counts
 * on a tiny net, the footprint counts the kernels (not their expansion), the spiking emulation refuses it
 * with the routing reason, and nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeRng, uniformArray } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { loadDataset, subset, toTensors } from '../../../src/data/index.js';
import '../../../src/families/index.js';
import { ROUTED_FEEDBACK } from '../../../src/families/equilibrium-prop/hardware-conv.js';
import { equilibriumPropConv } from '../../../src/families/equilibrium-prop/system-conv.js';
import { argmaxAccuracy, hardwareAdapters } from '../../../src/hardware/adapter.js';
import { structureOf } from '../../../src/hardware/network.js';
import { toSpikingNetwork } from '../../../src/hardware/quantize.js';
import type { ModelSource } from '../../../src/runs/model-source.js';

vi.setConfig({ testTimeout: 300_000 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('equilibrium-prop-conv hardware adapter (P_CNN)', () => {
  const data = loadDataset('mnist-embedded');
  const count = 10;
  const steps = 8;
  const options = { channels: [2, 4], kernelSize: 5, activation: 'hard-sigmoid', output: 'mse', init: 'torch-default' } as const;

  it('dense convolution + max-pool equal the system’s pooled pre-activations; counts equal hand counts; spiking refused; no leaks', () => {
    const system = equilibriumPropConv({ ...options, inputSize: 28 });
    const params = system.initParams(makeRng(3)) as Record<string, tf.Tensor>;
    const model: ModelSource = { origin: 'test', system: { kind: 'equilibrium-prop-conv', ...options }, run: { maxSteps: steps }, data, trained: { params, trainedBy: 'test' } };
    const before = tf.memory().numTensors;
    const trained = hardwareAdapters.get('equilibrium-prop-conv').build({ source: model, rng: makeRng(1), count });
    const net = trained.network;
    expect(net.populations.map((p) => [p.name, p.activation, p.size])).toEqual([
      ['conv1', 'linear', 24 * 24 * 2], ['pool1', 'max-pool', 12 * 12 * 2], ['layer1', 'hard-sigmoid', 12 * 12 * 2],
      ['conv2', 'linear', 8 * 8 * 4], ['pool2', 'max-pool', 4 * 4 * 4], ['layer2', 'hard-sigmoid', 4 * 4 * 4],
      ['layer3', 'hard-sigmoid', 10],
    ]);
    // Layer 2's pooled drive from a random layer-1 state, through the network's dense form in plain JS ...
    const s1 = uniformArray(makeRng(8), 12 * 12 * 2, 0, 1);
    const w2 = net.projections.find((p) => p.name === 'W2')!;
    const conv2 = net.populations.find((p) => p.name === 'conv2')!;
    const z = new Float64Array(conv2.size);
    for (let c = 0; c < conv2.size; c++) z[c] = conv2.bias![c]!;
    for (let r = 0; r < s1.length; r++) for (let c = 0; c < conv2.size; c++) z[c]! += s1[r]! * w2.weight[r * conv2.size + c]!;
    const selector = net.projections.find((p) => p.name === 'pool2')!.weight;
    const pooled = new Float64Array(64).fill(Number.NEGATIVE_INFINITY);
    for (let r = 0; r < conv2.size; r++) for (let c = 0; c < 64; c++) if (selector[r * 64 + c] !== 0) pooled[c] = Math.max(pooled[c]!, z[r]!);
    // ... equals the system's own force on layer 2 with nothing above it (mse output at rest: s3 = 0).
    const force = tf.tidy(() => {
      const x = tf.zeros([1, 28, 28, 1]) as tf.Tensor4D;
      const state = { layers: [tf.tensor4d(s1, [1, 12, 12, 2]), tf.zeros([1, 4, 4, 4]), tf.zeros([1, 10])] };
      // One step maps layer 2 to clip(P(z2) + 0, 0, 1): compare where P(z2) is inside (0, 1).
      return system.step(state, system.prepare({ x }, params), params, 0).layers[1]!.dataSync();
    });
    let compared = 0;
    pooled.forEach((v, i) => {
      expect(force[i]!).toBeCloseTo(Math.min(1, Math.max(0, v)), 4);
      if (v > 0 && v < 1) compared++;
    });
    expect(compared).toBeGreaterThan(5);
    // Feedback W2ᵀ from conv2's grid into layer 1 is the transpose of W2.
    const w2t = net.projections.find((p) => p.name === 'W2T')!;
    expect([w2t.from, w2t.to]).toEqual(['conv2', 'layer1']);
    expect(w2t.weight[5 * 288 + 17]).toBe(w2.weight[17 * 256 + 5]);

    // Counts from the relaxation = hand counts; accuracy = argmax of the system's own readout.
    const measured = trained.measure();
    const conv1Macs = 24 * 24 * 2 * 25 * 1;
    const conv2Macs = 8 * 8 * 4 * 25 * 2;
    const fcMacs = 64 * 10;
    const L = measured.activity.layers;
    expect(measured.activity.stepsPerInference).toBe(steps);
    expect(L.layer1!.dense_macs).toBe(count * steps * (conv1Macs + conv2Macs));
    expect(L.layer2!.dense_macs).toBe(count * steps * (conv2Macs + fcMacs));
    expect(L.layer3!.dense_macs).toBe(count * steps * fcMacs);
    expect(L.layer1!.neuron_updates).toBe(count * steps * 288);
    const test = toTensors(subset(data.test, 0, count), { layout: 'nhwc' });
    const input = tf.tidy(() => system.prepare({ x: test.x as tf.Tensor4D }, params));
    const own = simulate({ system, params, input, maxSteps: steps });
    const readout = own.state.layers[2]!.dataSync() as Float32Array;
    expect(measured.accuracy).toBe(argmaxAccuracy(readout, trained.labels, 10));
    own.dispose();
    tf.dispose([test.x, test.y, input.drive!]);

    // Footprint: kernels, fc weights and the (per-neuron) biases; the expansion and selectors store nothing more.
    const stored = 25 * 2 + 25 * 2 * 4 + 64 * 10;
    const biases = 24 * 24 * 2 + 8 * 8 * 4 + 10;
    const structure = structureOf(net);
    expect(structure.footprintBytes).toBe(4 * (stored + biases));
    expect(structure.recurrent).toBe(true);
    expect(() => toSpikingNetwork(net)).toThrow(ROUTED_FEEDBACK);
    trained.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(params));
  });

  it('effective MACs of one step equal hand counts: nonzero units read × their fan-out', () => {
    const system = equilibriumPropConv({ ...options, inputSize: 28 });
    const params = system.initParams(makeRng(3)) as Record<string, tf.Tensor>;
    const before = tf.memory().numTensors;
    const withOnes = (shape: number[], ones: number) => {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < ones; i++) values[(i * 7919) % values.length] = 0.5;
      return tf.tensor(values, shape);
    };
    const counts = tf.tidy(() => {
      const x = withOnes([1, 28, 28, 1], 100) as tf.Tensor4D;
      const previous = { layers: [withOnes([1, 12, 12, 2], 7), withOnes([1, 4, 4, 4], 3), withOnes([1, 10], 2)] };
      const next = system.step(previous, { x }, params, 0);
      const c = system.counts!(previous, next, { x }, params);
      return Object.fromEntries(Object.entries(c).map(([layer, v]) => [layer, v.effective_macs!.dataSync()[0]!]));
    });
    expect(counts).toEqual({ layer1: 100 * 25 * 2 + 3 * 25 * 2, layer2: 7 * 25 * 4 + 2 * 64, layer3: 3 * 10 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(params));
  });

  it('refuses an untrained spec and a P_CNN too large to expand, naming the size', () => {
    const model: ModelSource = { origin: 'test', system: { kind: 'equilibrium-prop-conv', ...options }, run: { maxSteps: steps }, data };
    expect(() => hardwareAdapters.get('equilibrium-prop-conv').build({ source: model, rng: makeRng(1), count })).toThrow(/ep-train/);
    const system = equilibriumPropConv({ inputSize: 28, channels: [32, 64] });
    const params = system.initParams(makeRng(3)) as Record<string, tf.Tensor>;
    const big: ModelSource = { origin: 'test', system: { kind: 'equilibrium-prop-conv', channels: [32, 64] }, run: { maxSteps: 2 }, data, trained: { params, trainedBy: 'test' } };
    expect(() => hardwareAdapters.get('equilibrium-prop-conv').build({ source: big, rng: makeRng(1), count })).toThrow(/dense expansion would be 18432×4608/);
    tf.dispose(Object.values(params));
  });
});
