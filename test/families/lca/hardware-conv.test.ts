/**
 * The LCANet's hardware network: the dense expansions equal tfjs's convolution and max-pool on random
 * inputs, the network's front end is the relaxation's drive and inhibition, its head reproduces the head's
 * logits on the relaxed code, the counts equal hand counts, and nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeRng, normalArray } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { loadDataset, subset, toTensors } from '../../../src/data/index.js';
import '../../../src/families/index.js';
import { hardwareAdapters } from '../../../src/hardware/adapter.js';
import { denseConvolution, poolSelector } from '../../../src/hardware/dense-conv.js';
import { structureOf } from '../../../src/hardware/network.js';
import { toSpikingNetwork } from '../../../src/hardware/quantize.js';
import { headLogits, initHead, type HeadSpec } from '../../../src/families/lca/lcanet-head.js';
import { normalizeSamples, randomDictionary } from '../../../src/families/lca/system-common.js';
import { lcaConv } from '../../../src/families/lca/system-conv.js';
import type { ModelSource } from '../../../src/runs/model-source.js';

vi.setConfig({ testTimeout: 300_000 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** x [rows] times a dense [rows, cols] matrix, in plain JS. */
function times(x: Float32Array, dense: Float32Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const v = x[r]!;
    if (v === 0) continue;
    for (let c = 0; c < cols; c++) y[c]! += v * dense[r * cols + c]!;
  }
  return y;
}

describe('dense expansion of convolutions and pooling', () => {
  for (const [stride, padding] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const) {
    it(`x D equals conv2d(x, kernel) on random inputs (stride ${stride}, ${padding})`, () => {
      const [H, W, C, k, K] = [9, 8, 2, 3, 3];
      const rng = makeRng(stride * 10 + (padding === 'same' ? 1 : 2));
      const kernel = Float32Array.from(normalArray(rng.split('kernel'), k * k * C * K, 1));
      const x = Float32Array.from(normalArray(rng.split('x'), H * W * C, 1));
      const half = padding === 'same' ? 1 : 0;
      const pad = padding === 'same' ? ([[0, 0], [1, 1], [1, 1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]) : 'valid';
      const expected = tf.tidy(() => tf.conv2d(tf.tensor4d(x, [1, H, W, C]), tf.tensor4d(kernel, [k, k, C, K]), stride, pad));
      const [, outH, outW] = expected.shape;
      const dense = denseConvolution(kernel, { height: H, width: W, channels: C, kernelSize: k, features: K, stride, padTop: half, padLeft: half, outHeight: outH!, outWidth: outW! });
      const got = times(x, dense, H * W * C, outH! * outW! * K);
      const want = expected.dataSync();
      expect(got.length).toBe(want.length);
      want.forEach((v, i) => expect(got[i]!).toBeCloseTo(v, 4));
      expected.dispose();
    });
  }

  it('the max over each selector column equals maxPool 2×2', () => {
    const [H, W, C] = [6, 6, 3];
    const x = Float32Array.from(normalArray(makeRng(7), H * W * C, 1));
    const selector = poolSelector(H, W, C, 2);
    const cols = 3 * 3 * C;
    const want = tf.tidy(() => tf.maxPool(tf.tensor4d(x, [1, H, W, C]), 2, 2, 'valid').dataSync());
    for (let c = 0; c < cols; c++) {
      let best = Number.NEGATIVE_INFINITY;
      let members = 0;
      for (let r = 0; r < H * W * C; r++) if (selector[r * cols + c] !== 0) {
        best = Math.max(best, x[r]!);
        members++;
      }
      expect(members).toBe(4);
      expect(best).toBe(want[c]);
    }
  });
});

describe('lca-conv hardware adapter (LCANet)', () => {
  const data = loadDataset('mnist-embedded');
  const count = 12;
  const steps = 15;
  const options = { features: 4, inputChannels: 1, kernelSize: 5, stride: 2, padding: 'same', lambda: 0.1, tau: 5, threshold: 'soft', nonnegative: true, normalizeInput: true } as const;
  const m = 14 * 14 * 4;

  function source(head: HeadSpec) {
    const system = lcaConv(options as never);
    const dictionary = randomDictionary(system.dictionaryShape(), makeRng(1));
    const headParams = initHead(head, makeRng(2)) as Record<string, tf.Tensor>;
    const model: ModelSource = { origin: 'test', system: { kind: 'lca-conv', ...options }, run: { maxSteps: steps }, data, trained: { params: { 'lca.dictionary': dictionary, ...headParams }, trainedBy: 'test', meta: { head } } };
    return { system, dictionary, headParams, model };
  }

  for (const kind of ['mlp', 'cnn'] as const) {
    it(`${kind} head: the network's head reproduces the head's logits on the relaxed code; counts equal hand counts; no leaks`, () => {
      const head: HeadSpec = { kind, inputShape: [14, 14, 4], classes: 10, hidden: 12, channels: 3 };
      const { system, dictionary, headParams, model } = source(head);
      const before = tf.memory().numTensors;
      const trained = hardwareAdapters.get('lca-conv').build({ source: model, rng: makeRng(1), count });
      const net = trained.network;
      // The model's own computation: relax, then the head.
      const test = toTensors(subset(data.test, 0, count), { layout: 'nhwc' });
      const own = simulate({ system, params: { dictionary }, input: { x: test.x }, maxSteps: steps });
      const code = Float32Array.from((own.state as { a: tf.Tensor }).a.dataSync() as Float32Array);
      const logits = tf.tidy(() => headLogits(head, headParams, (own.state as { a: tf.Tensor }).a).dataSync() as Float32Array);
      own.dispose();
      tf.dispose([test.x, test.y]);
      // Independent: the network's dense head, in plain JS, on that code.
      const chain = kind === 'mlp' ? ['hidden', 'readout'] : ['conv', 'pool', 'readout'];
      for (let e = 0; e < count; e++) {
        let x = code.slice(e * m, (e + 1) * m);
        let from = 'a';
        for (const name of chain) {
          const p = net.populations.find((q) => q.name === name)!;
          const j = net.projections.find((q) => q.from === from && q.to === name)!;
          const rows = x.length;
          const y = new Float32Array(p.size);
          if (p.activation === 'max-pool') {
            for (let c = 0; c < p.size; c++) {
              let best = Number.NEGATIVE_INFINITY;
              for (let r = 0; r < rows; r++) if (j.weight[r * p.size + c] !== 0) best = Math.max(best, x[r]! * j.weight[r * p.size + c]!);
              y[c] = best;
            }
          } else {
            const z = times(x, j.weight, rows, p.size);
            for (let c = 0; c < p.size; c++) y[c] = name === 'readout' ? z[c]! + p.bias![c]! : Math.max(0, z[c]! + p.bias![c]!);
          }
          x = y;
          from = name;
        }
        for (let c = 0; c < 10; c++) expect(x[c]!).toBeCloseTo(logits[e * 10 + c]!, 3);
      }
      // The front end: drive [s⁺, s⁻] [D; −D]·S = conv(s, Φ) = Φᵀs, the relaxation's drive.
      const drive = net.projections.find((p) => p.name === 'D')!.weight;
      const hostDrive = tf.tidy(() => {
        const x = toTensors(subset(data.test, 0, 1), { layout: 'nhwc' });
        return system.operator.project(normalizeSamples(x.x), dictionary).dataSync();
      });
      const chipDrive = times(trained.inputs.slice(0, 2 * 784), drive, 2 * 784, m);
      hostDrive.forEach((v, i) => expect(chipDrive[i]!).toBeCloseTo(v, 3));
      // Counts: the LCA's per step (2 convolutions over every code position), the head's once per inference.
      const measured = trained.measure();
      const layers = measured.activity.layers;
      expect(measured.activity.stepsPerInference).toBe(steps);
      expect(layers.lca!.dense_macs).toBe(steps * 2 * count * m * 25);
      expect(layers.lca!.neuron_updates).toBe(steps * count * m);
      if (kind === 'mlp') {
        expect(layers.hidden!.dense_macs).toBe(count * m * 12);
        expect(layers.readout!.dense_macs).toBe(count * 12 * 10);
      } else {
        expect(layers.conv!.dense_macs).toBe(count * m * 14 * 14 * 3);
        expect(layers.pool!.neuron_updates).toBe(count * 7 * 7 * 3);
      }
      expect(measured.accuracy).toBe((() => {
        let hits = 0;
        for (let e = 0; e < count; e++) {
          const row = Array.from(logits.slice(e * 10, e * 10 + 10));
          if (row.indexOf(Math.max(...row)) === trained.labels[e]) hits++;
        }
        return hits / count;
      })());
      // Footprint: the stored kernels and the biases, not the dense expansion.
      const stored = 25 * 4 + (kind === 'mlp' ? m * 12 + 12 * 10 : 9 * 4 * 3 + 7 * 7 * 3 * 10);
      const biases = m + (kind === 'mlp' ? 12 + 10 : 14 * 14 * 3 + 10);
      expect(structureOf(net).footprintBytes).toBe(4 * (stored + biases));
      if (kind === 'cnn') expect(() => toSpikingNetwork(net)).toThrow(/max-pool/);
      else expect(toSpikingNetwork(net).populations.map((p) => p.name)).toEqual(['a', 'hidden', 'readout']);
      trained.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([dictionary, ...Object.values(headParams)]);
    });
  }

  it('refuses a run folder without a trained LCANet, and a configuration too large to expand', () => {
    const { model, dictionary, headParams } = source({ kind: 'mlp', inputShape: [14, 14, 4], classes: 10, hidden: 12 });
    expect(() => hardwareAdapters.get('lca-conv').build({ source: { ...model, trained: undefined } as never, rng: makeRng(1), count })).toThrow(/lcanet job/);
    tf.dispose([dictionary, ...Object.values(headParams)]);
    const big = { ...options, features: 64, stride: 1, kernelSize: 7 };
    const bigDictionary = randomDictionary([7, 7, 1, 64], makeRng(3));
    const bigHead = { kind: 'mlp' as const, inputShape: [28, 28, 64] as [number, number, number], classes: 10, hidden: 4 };
    const bigModel: ModelSource = { origin: 'test', system: { kind: 'lca-conv', ...big }, run: { maxSteps: 2 }, data, trained: { params: { 'lca.dictionary': bigDictionary }, trainedBy: 'test', meta: { head: bigHead } } };
    expect(() => hardwareAdapters.get('lca-conv').build({ source: bigModel, rng: makeRng(1), count })).toThrow(/dense expansion would be 50176×50176/);
    bigDictionary.dispose();
  });
});

