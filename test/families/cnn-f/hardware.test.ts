/**
 * CNN-F's counts and hardware network. Oracle: a plain-JS CNN-F on a tiny net (2×2 image, a 3×3 'same'
 * convolution 1→2 with a zero tap, AdaReLU, a 8→3 linear layer with a zero row and a zero entry, ind 0),
 * written here from the paper's equations with loops, which counts by hand the dense MACs, the effective
 * MACs (nonzero input × nonzero weight over the taps inside the border), the nonzero inputs as events and
 * the neuron updates of the first pass and of one cycle; the system's `countsOfPass` (through simulate's
 * countEvents) and the adapter's per-inference total must equal them. The adapter's network: the
 * populations and projections a chip must hold (feedback twins with no stored weights), the footprint
 * counting each tied tensor once, the spiking emulation refused naming the gates, and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeRng } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { loadDataset } from '../../../src/data/index.js';
import '../../../src/families/index.js';
import { countsOfFirstPass, GATED_FEEDBACK } from '../../../src/families/cnn-f/hardware.js';
import { cnnf } from '../../../src/families/cnn-f/system.js';
import type { LayerSpec } from '../../../src/families/cnn-f/system-layers.js';
import { hardwareAdapters } from '../../../src/hardware/adapter.js';
import { normalizeCounts } from '../../../src/hardware/counts.js';
import { structureOf } from '../../../src/hardware/network.js';
import { toSpikingNetwork } from '../../../src/hardware/quantize.js';
import type { ModelSource } from '../../../src/runs/model-source.js';

vi.setConfig({ testTimeout: 300_000 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: LayerSpec[] = [{ type: 'conv', channels: 2, kernel: 3 }, { type: 'adarelu' }, { type: 'flatten' }, { type: 'linear', units: 3 }];
// Kernel [3, 3, 1, 2] row-major (di, dj, c=0, f): the tap (0, 1) of feature 1 is zero.
const W0 = [0.5, -0.3, 0.2, 0, -0.4, 0.6, 0.3, 0.1, 0.7, -0.2, 0.1, 0.4, -0.6, 0.2, 0.3, -0.5, 0.2, 0.3];
// [8, 3]: row 2 is zero (unit 2 sends nothing), and W1[5][1] = 0.
const W1 = [0.4, -0.2, 0.3, -0.5, 0.6, 0.1, 0, 0, 0, 0.2, 0.3, -0.4, -0.3, 0.5, 0.2, 0.6, 0, -0.3, 0.1, -0.6, 0.5, -0.2, 0.4, 0.3];
const B1 = [0.05, -0.1, 0.02];
// One pixel at 0.5 maps to x̃ = 0: a zero input.
const X = [0.9, 0.5, 0.1, 0.7];

type Counts = Record<string, Record<string, number>>;

/** The tiny CNN-F by hand: the first pass and one cycle, with its counts. NHWC: unit (p·2 + q)·2 + f. */
function handCounts(): { first: Counts; cycle: Counts } {
  const nz = (v: number) => (v !== 0 ? 1 : 0);
  const w0 = (di: number, dj: number, f: number) => W0[(di * 3 + dj) * 2 + f]!;
  const conv = (img: number[]) => {
    const y = new Array<number>(8).fill(0);
    let effective = 0;
    for (let p = 0; p < 2; p++) for (let q = 0; q < 2; q++) for (let f = 0; f < 2; f++) {
      for (let di = 0; di < 3; di++) for (let dj = 0; dj < 3; dj++) {
        const i = p + di - 1;
        const j = q + dj - 1;
        if (i < 0 || i > 1 || j < 0 || j > 1) continue;
        y[(p * 2 + q) * 2 + f]! += img[i * 2 + j]! * w0(di, dj, f);
        effective += nz(img[i * 2 + j]!) * nz(w0(di, dj, f));
      }
    }
    return { y, effective };
  };
  const convT = (g: number[]) => {
    const r = new Array<number>(4).fill(0);
    let effective = 0;
    for (let p = 0; p < 2; p++) for (let q = 0; q < 2; q++) for (let f = 0; f < 2; f++) {
      for (let di = 0; di < 3; di++) for (let dj = 0; dj < 3; dj++) {
        const i = p + di - 1;
        const j = q + dj - 1;
        if (i < 0 || i > 1 || j < 0 || j > 1) continue;
        r[i * 2 + j]! += g[(p * 2 + q) * 2 + f]! * w0(di, dj, f);
        effective += nz(g[(p * 2 + q) * 2 + f]!) * nz(w0(di, dj, f));
      }
    }
    return { r, effective };
  };
  const linear = (a: number[]) => {
    const out = [...B1];
    let effective = 0;
    for (let j = 0; j < 8; j++) for (let k = 0; k < 3; k++) {
      out[k]! += a[j]! * W1[j * 3 + k]!;
      effective += nz(a[j]!) * nz(W1[j * 3 + k]!);
    }
    return { out, effective };
  };
  const linearT = (g: number[]) => {
    const out = new Array<number>(8).fill(0);
    let effective = 0;
    for (let j = 0; j < 8; j++) for (let k = 0; k < 3; k++) {
      out[j]! += g[k]! * W1[j * 3 + k]!;
      effective += nz(g[k]!) * nz(W1[j * 3 + k]!);
    }
    return { out, effective };
  };
  const count = (v: number[]) => v.filter((e) => e !== 0).length;

  const h0 = X.map((v) => 2 * v - 1);
  const c0 = conv(h0);
  const z0 = c0.y.map((v) => (v > 0 ? 1 : 0));
  const a0 = c0.y.map((v, u) => v * z0[u]!);
  const l0 = linear(a0);
  const first: Counts = {
    conv0: { macs: 4 * 9 * 2, effective_macs: c0.effective, events: count(h0), neuron_updates: 8 },
    adarelu1: { neuron_updates: 8 },
    linear3: { macs: 24, effective_macs: l0.effective, events: count(a0), neuron_updates: 3 },
  };
  // One cycle (η = 0.1): feedback from the logits, h moves toward the reconstruction, AdaReLU forward.
  const g3 = linearT(l0.out);
  const g1 = g3.out;
  const down = g1.map((v, u) => v * z0[u]!);
  const r = convT(down);
  const h1 = h0.map((v, i) => v + 0.1 * (r.r[i]! - v));
  const c1 = conv(h1);
  const blended = c1.y.map((v, u) => v + 0.1 * (g1[u]! - v));
  const z1 = blended.map((v, u) => (v * g1[u]! > 0 ? 1 : 0));
  const a1 = blended.map((v, u) => v * z1[u]!);
  const l1 = linear(a1);
  const cycle: Counts = {
    conv0: { macs: 2 * 4 * 9 * 2, effective_macs: c1.effective + r.effective, events: count(h1) + count(down), neuron_updates: 8 + 4 },
    adarelu1: { neuron_updates: 16 },
    linear3: { macs: 48, effective_macs: l1.effective + g3.effective, events: count(a1) + count(l0.out), neuron_updates: 3 + 8 },
  };
  return { first, cycle };
}

describe('cnn-f counts and hardware network', () => {
  const system = cnnf({ layers: TINY, ind: 0, eta: 0.1, inputShape: [2, 2, 1] });
  const makeParams = () => ({ W0: tf.tensor4d(W0, [3, 3, 1, 2]), W3: tf.tensor2d(W1, [8, 3]), b3: tf.tensor1d(B1) });

  it('the first pass and a cycle count what a hand count on a tiny net gives (dense and effective MACs, events, updates)', () => {
    const hand = handCounts();
    // The hand count sees the zeros it should: x̃ has one, the zero row of W1 and the zero tap cut effective MACs.
    expect(hand.first.conv0!.events).toBe(3);
    expect(hand.first.conv0!.effective_macs).toBeLessThan(hand.first.conv0!.macs!);
    const params = makeParams();
    const x = tf.tensor4d(X, [1, 2, 2, 1]);
    const first = countsOfFirstPass(system, params, x);
    expect(first).toEqual(hand.first);
    const sol = simulate({ system, params, input: { x }, maxSteps: 1, countEvents: true });
    expect(sol.events!.perStep[0]).toEqual(hand.cycle);
    sol.dispose();
    tf.dispose([x, ...Object.values(params)]);
  });

  it('the adapter: one population per weighted layer and pool, tied feedback twins, per-inference counts = first pass + cycles, spiking refused, no leaks', () => {
    const data = loadDataset('mnist-embedded');
    const layers: LayerSpec[] = [
      { type: 'conv', channels: 2, kernel: 3 },
      { type: 'norm' },
      { type: 'adarelu' },
      { type: 'adapool' },
      { type: 'conv', channels: 3, kernel: 3 },
      { type: 'norm' },
      { type: 'adarelu' },
      { type: 'adapool' },
      { type: 'flatten' },
      { type: 'linear', units: 10 },
    ];
    const spec = { kind: 'cnn-f', architecture: layers, ind: 4, eta: 0.1, readout: 'average' };
    const sys = cnnf({ layers, ind: 4, inputShape: [28, 28, 1] });
    const params = sys.initParams(makeRng(2)) as Record<string, tf.Tensor>;
    const source: ModelSource = { origin: 'test', system: spec, run: { maxSteps: 3 }, data, trained: { params, trainedBy: 'test', meta: { cycles: 3 } } };
    const before = tf.memory().numTensors;
    const trained = hardwareAdapters.get('cnn-f').build({ source, rng: makeRng(1), count: 6 });
    const net = trained.network;
    expect(net.populations.map((p) => [p.name, p.activation, p.size])).toEqual([
      ['conv0', 'relu', 28 * 28 * 2],
      ['adapool3', 'max-pool', 14 * 14 * 2],
      ['conv4', 'relu', 14 * 14 * 3],
      ['adapool7', 'max-pool', 7 * 7 * 3],
      ['linear9', 'linear', 10],
    ]);
    // Feedback from ind = 4 up only, each the transpose of its forward twin, with no weights of its own.
    expect(net.projections.map((p) => [p.name, p.from, p.to, p.role, p.storedWeights])).toEqual([
      ['to_conv0', 'x', 'conv0', 'feedforward', 18],
      ['to_adapool3', 'conv0', 'adapool3', 'feedforward', 0],
      ['to_conv4', 'adapool3', 'conv4', 'feedforward', 54],
      ['conv4_feedback', 'conv4', 'adapool3', 'feedback', 0],
      ['to_adapool7', 'conv4', 'adapool7', 'feedforward', 0],
      ['adapool7_feedback', 'adapool7', 'conv4', 'feedback', 0],
      ['to_linear9', 'adapool7', 'linear9', 'feedforward', 1470],
      ['linear9_feedback', 'linear9', 'adapool7', 'feedback', 0],
    ]);
    const forward = net.projections.find((p) => p.name === 'to_conv4')!.weight;
    const back = net.projections.find((p) => p.name === 'conv4_feedback')!.weight;
    const [rows, cols] = [14 * 14 * 2, 14 * 14 * 3];
    for (const [r, c] of [[0, 0], [5, 7], [391, 587], [200, 13]] as const) expect(back[c * rows + r]).toBe(forward[r * cols + c]);
    // Footprint: the kernels, the linear weight and the biases (norm β tiled per position), each tensor once.
    const structure = structureOf(net);
    expect(structure.recurrent).toBe(true);
    expect(structure.footprintBytes).toBe(4 * (18 + 54 + 1470 + 28 * 28 * 2 + 14 * 14 * 3 + 10));
    // Per inference: the first pass plus three cycles counted by simulate.
    const m = trained.measure();
    const x = tf.tensor4d(trained.inputs, [6, 28, 28, 1]);
    const first = countsOfFirstPass(sys, params, x);
    const sol = simulate({ system: sys, params, input: { x }, maxSteps: 3, countEvents: true });
    const expected = normalizeCounts(Object.fromEntries(Object.entries(first).map(([layer, c]) => [layer, Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v + (sol.events!.total[layer]?.[k] ?? 0)]))])));
    expect(m.activity.layers).toEqual(expected);
    expect(m.activity.stepsPerInference).toBe(4);
    expect(m.activity.layers.conv4!.dense_macs).toBe(6 * 14 * 14 * 9 * 2 * 3 * (1 + 2 * 3));
    expect(m.activity.layers.conv0!.dense_macs).toBe(6 * 28 * 28 * 9 * 2);
    sol.dispose();
    x.dispose();
    expect(() => toSpikingNetwork(net, {})).toThrow(/AdaReLU/);
    expect(GATED_FEEDBACK).toMatch(/AdaPool/);
    trained.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(params));
  });
});
