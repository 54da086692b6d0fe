import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { emulate } from '../../src/hardware/emulate.js';
import { gpuJsEngine } from '../../src/hardware/emulate-gpujs.js';
import { tfjsEngine } from '../../src/hardware/emulate-tfjs.js';
import { structureOf, type LayeredNetwork } from '../../src/hardware/network.js';
import { toSpikingNetwork } from '../../src/hardware/quantize.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const rng = makeRng(7);
const uniform = (n: number, s: number) => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
const sizes = [40, 24, 6];
const layered: LayeredNetwork = {
  family: 'test',
  input: { name: 'x', size: sizes[0]! },
  populations: [
    { name: 'h', size: sizes[1]!, activation: 'hard-sigmoid', bias: uniform(sizes[1]!, 0.2) },
    { name: 'o', size: sizes[2]!, activation: 'hard-sigmoid', bias: uniform(sizes[2]!, 0.2) },
  ],
  projections: [
    { name: 'w1', from: 'x', to: 'h', weight: uniform(sizes[0]! * sizes[1]!, 0.3), role: 'feedforward' },
    { name: 'w2', from: 'h', to: 'o', weight: uniform(sizes[1]! * sizes[2]!, 0.6), role: 'feedforward' },
  ],
  readout: 'o',
};
const count = 20;
const inputs = Float32Array.from({ length: count * sizes[0]! }, () => rng.uniform());

/** The rate model the emulation approximates: a = clip(aW + b, 0, 1), layer by layer. */
function floatForward(): Float32Array {
  let a = inputs;
  let width = sizes[0]!;
  for (const [l, p] of layered.populations.entries()) {
    const w = layered.projections[l]!.weight;
    const out = new Float32Array(count * p.size);
    for (let b = 0; b < count; b++) {
      for (let i = 0; i < p.size; i++) {
        let z = p.bias![i]!;
        for (let j = 0; j < width; j++) z += a[b * width + j]! * w[j * p.size + i]!;
        out[b * p.size + i] = Math.min(1, Math.max(0, z));
      }
    }
    a = out;
    width = p.size;
  }
  return a;
}

describe('spiking emulation', () => {
  it('an integrate-and-fire neuron driven by a constant bias b fires ⌈t·b⌉ − 1 times in t steps (fires on v > θ as NIR does, reset by subtraction)', () => {
    const single: LayeredNetwork = { family: 't', input: { name: 'x', size: 1 }, populations: [{ name: 'n', size: 3, activation: 'hard-sigmoid', bias: Float32Array.from([0.25, 0.5, 0.875]) }], projections: [], readout: 'n' };
    const engine = gpuJsEngine();
    const r = emulate(toSpikingNetwork(single), engine, new Float32Array(1), 1, { steps: 40, checkpoints: [40] });
    engine.dispose();
    // v(t) = t·b before its n-th spike's subtraction: the n-th spike comes at the first t with t·b > n.
    expect(Array.from(r.readout.get(40)!).map((a) => Math.round(a * 40))).toEqual([9, 19, 34]);
  });

  it('reset to zero (NIR IF) loses the residual: with b = 0.4 it fires every third step (v = 0.4, 0.8, 1.2 > 1 → 0)', () => {
    const single: LayeredNetwork = { family: 't', input: { name: 'x', size: 1 }, populations: [{ name: 'n', size: 2, activation: 'hard-sigmoid', bias: Float32Array.from([0.4, 0.75]) }], projections: [], readout: 'n' };
    for (const engine of [gpuJsEngine(), tfjsEngine()]) {
      const r = emulate(toSpikingNetwork(single, {}, 'zero'), engine, new Float32Array(1), 1, { steps: 30, checkpoints: [30] });
      engine.dispose();
      // 0.75: 0.75, 1.5 → 0: every second step. By subtraction they would fire 11 and 22 times.
      expect(Array.from(r.readout.get(30)!).map((a) => Math.round(a * 30))).toEqual([10, 15]);
    }
  });

  it('gpu.js and tfjs engines give identical spikes, counts and readouts on an 8-bit network', () => {
    const network = toSpikingNetwork(layered, { weightBits: 8, stateBits: 16 });
    const before = tf.memory().numTensors;
    const results = [gpuJsEngine(), tfjsEngine()].map((engine) => {
      const r = emulate(network, engine, inputs, count, { steps: 32, batchSize: 8 });
      engine.dispose();
      return r;
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const t of [1, 2, 4, 8, 16, 32]) expect(Array.from(results[1]!.readout.get(t)!)).toEqual(Array.from(results[0]!.readout.get(t)!));
    for (const layer of ['x', 'h', 'o']) {
      for (const c of ['spikes', 'effective_acs', 'neuron_updates', 'dense_macs'] as const) expect(results[1]!.activity.layers[layer]![c]).toBe(results[0]!.activity.layers[layer]![c]);
    }
    expect(results[0]!.activity.layers.o!.neuron_updates).toBe(count * 6 * 32);
    expect(results[0]!.activity.layers.o!.dense_macs).toBe(count * 24 * 6 * 32);
  });

  it('quantized weights are integers within the weight bits, and the threshold fits the state bits', () => {
    const network = toSpikingNetwork(layered, { weightBits: 4, stateBits: 12 });
    for (const p of network.populations) {
      for (const w of p.weight) {
        expect(Number.isInteger(w)).toBe(true);
        expect(Math.abs(w)).toBeLessThanOrEqual(7);
      }
      expect(p.threshold).toBeLessThanOrEqual(p.stateLimit);
    }
    expect(() => toSpikingNetwork(layered, { weightBits: 16, stateBits: 8 })).toThrow(/precision\.stateBits: 8 state bits hold at most 127/);
  });

  it('the readout rates converge to the float rate model as the emulation runs longer', () => {
    const float = floatForward();
    const engine = gpuJsEngine();
    const r = emulate(toSpikingNetwork(layered), engine, inputs, count, { steps: 512, checkpoints: [16, 512] });
    engine.dispose();
    const error = (t: number) => Math.max(...Array.from(r.readout.get(t)!, (a, k) => Math.abs(a - float[k]!)));
    // Reset by subtraction: the rate error after T steps is O(layers / T) (start-up delay plus one residual).
    expect(error(512)).toBeLessThan(0.03);
    expect(error(512)).toBeLessThan(error(16));
  });

  it('structure: synapses, zeros, fan-in and fan-out of a network', () => {
    const s = structureOf(layered);
    expect(s.synapses).toBe(40 * 24 + 24 * 6);
    expect(s.populations[0]!.maxFanIn).toBeLessThanOrEqual(40);
    expect(s.recurrent).toBe(false);
  });
});
