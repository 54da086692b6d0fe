import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng, normalArray } from '../../src/base/rng.js';
import { loadDataset, subset, toTensors } from '../../src/data/index.js';
import { emulate } from '../../src/hardware/emulate.js';
import { tfjsEngine } from '../../src/hardware/emulate-tfjs.js';
import '../../src/families/index.js';
import { argmaxAccuracy, hardwareAdapters, type TrainedNetwork } from '../../src/hardware/adapter.js';
import type { ModelSource } from '../../src/runs/model-source.js';
import type { ResolvedSpec } from '../../src/spec/schema.js';
import type { Split } from '../../src/data/index.js';
import { toSpikingNetwork } from '../../src/hardware/quantize.js';
import { settlingNote, settlingRecord } from '../../src/core/settling.js';
import { validateSpec } from '../../src/spec/parse.js';
import { normalizeSamples, randomDictionary } from '../../src/families/lca/system-common.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = loadDataset('mnist-embedded');

/** A spec's sections (and trained parameters, if given) as the hardware adapters take them. */
function modelSource(spec: ResolvedSpec, split: Split, params?: Record<string, tf.Tensor>): ModelSource {
  return { origin: 'test', system: spec.system, run: spec.run, data: split, ...(params ? { trained: { params, trainedBy: 'test' } } : {}) };
}
const count = 40;
const n = 784;

describe('equilibrium-prop adapter', () => {
  const hidden = 24;
  const steps = 15;
  const spec = validateSpec({
    name: 'ep-adapter-test',
    seed: 1,
    data: { name: 'mnist-embedded' },
    system: { kind: 'equilibrium-prop', layers: [hidden, 10], activation: 'hard-sigmoid', output: 'softmax-ce', dynamics: 'primitive-map' },
    run: { maxSteps: steps },
    job: { kind: 'ep-train', nudgedSteps: 4, beta: 1, epochs: 1, optimizer: { kind: 'sgd', lr: [0.05, 0.02] } },
  });
  const rng = makeRng(5);
  let params: Record<string, tf.Tensor>;
  const makeParams = () => ({
    W1: tf.tensor2d(normalArray(rng, n * hidden, 0.08), [n, hidden]),
    b1: tf.tensor1d(normalArray(rng, hidden, 0.1)),
    W2: tf.tensor2d(normalArray(rng, hidden * 10, 0.5), [hidden, 10]),
    b2: tf.tensor1d(normalArray(rng, 10, 0.1)),
  });
  let trained: TrainedNetwork;
  let before = 0;
  beforeAll(() => {
    params = makeParams();
    before = tf.memory().numTensors;
    trained = hardwareAdapters.get('equilibrium-prop').build({ source: modelSource(spec, data, params), rng: makeRng(1), count });
  });
  afterAll(() => tf.dispose(Object.values(params)));

  it('describes the free phase as the fixed point s1 = clip(x W1 + b1, 0, 1) with a readout s1 W2 + b2: iterating that form gives the relaxation’s predictions', () => {
    // Independent oracle: Jacobi iteration of the LayeredNetwork form, in plain JS, from rest.
    const net = trained.network;
    expect(net.populations.map((p) => [p.name, p.activation, p.size])).toEqual([['layer1', 'hard-sigmoid', hidden], ['readout2', 'relu', 10]]);
    const w1 = net.projections.find((p) => p.name === 'W1')!.weight;
    const w2 = net.projections.find((p) => p.name === 'W2')!.weight;
    const b1 = net.populations[0]!.bias!;
    const b2 = net.populations[1]!.bias!;
    const logits = new Float32Array(count * 10);
    for (let e = 0; e < count; e++) {
      const s = new Float32Array(hidden);
      for (let j = 0; j < hidden; j++) {
        let z = b1[j]!;
        for (let i = 0; i < n; i++) z += trained.inputs[e * n + i]! * w1[i * hidden + j]!;
        s[j] = Math.min(1, Math.max(0, z));
      }
      for (let c = 0; c < 10; c++) {
        let z = b2[c]!;
        for (let j = 0; j < hidden; j++) z += s[j]! * w2[j * 10 + c]!;
        logits[e * 10 + c] = z;
      }
    }
    const measured = trained.measure();
    expect(measured.accuracy).toBe(argmaxAccuracy(logits, trained.labels, 10));
    // Counts from the run: dense MACs are batch × steps × fan-in × width (hand computed).
    expect(measured.activity.stepsPerInference).toBe(steps);
    expect(measured.activity.layers.layer1!.dense_macs).toBe(count * steps * n * hidden);
    expect(measured.activity.layers.readout2!.dense_macs).toBe(count * steps * hidden * 10);
    const events = measured.activity.layers.layer1!.graded_events;
    expect(events).toBeGreaterThan(0);
    expect(events).toBeLessThanOrEqual(count * steps * hidden);
    // One free layer and nothing feeding back into it: the fixed point is reached after the first step
    // (the analytic form above), and the summary says the net is feed-forward and prices 15 repeats.
    expect(measured.settling).toMatchObject({ settledAfterSteps: 1, settledInOneStep: true, pricedSteps: steps });
    expect(settlingNote(measured.settling!)).toMatch(/settles in one step.*feed-forward.*15 priced steps/);
    expect(settlingRecord(measured.settling!, 64)).toMatchObject({ settled_in_one_step: true, settled_after_steps: 1, priced_steps: 64 });
  });

  it('two free layers feed back into each other: the relaxation does not settle in one step, and a settled step below the priced ones is recorded next to them', () => {
    const sizes = [16, 12];
    const spec2 = validateSpec({ ...spec, name: 'ep-adapter-two-layers', system: { ...spec.system, layers: [...sizes, 10] }, run: { maxSteps: 60 }, job: { ...spec.job, optimizer: { kind: 'sgd', lr: [0.05, 0.05, 0.02] } } } as unknown as Parameters<typeof validateSpec>[0]);
    const r = makeRng(9);
    const p2 = {
      W1: tf.tensor2d(normalArray(r, n * 16, 0.08), [n, 16]),
      b1: tf.tensor1d(normalArray(r, 16, 0.1)),
      W2: tf.tensor2d(normalArray(r, 16 * 12, 0.1), [16, 12]),
      b2: tf.tensor1d(normalArray(r, 12, 0.1)),
      W3: tf.tensor2d(normalArray(r, 12 * 10, 0.5), [12, 10]),
      b3: tf.tensor1d(normalArray(r, 10, 0.1)),
    };
    const t2 = hardwareAdapters.get('equilibrium-prop').build({ source: modelSource(spec2, data, p2), rng: makeRng(1), count });
    const s = t2.measure().settling!;
    t2.dispose();
    tf.dispose(Object.values(p2));
    expect(s.settledInOneStep).toBe(false);
    expect(s.pricedSteps).toBe(60);
    // Small feedback weights contract: the relaxation settles, after more than one step and well before 60.
    expect(s.settledAfterSteps).toBeGreaterThan(1);
    expect(s.settledAfterSteps).toBeLessThan(60);
    expect(settlingNote(s)).toMatch(new RegExp(`settled after ${s.settledAfterSteps} steps .*; 60 steps are priced`));
    expect(settlingNote({ ...s, settledAfterSteps: 60 })).toBeUndefined();
  }, 20000);

  it('the spiking emulation (8-bit weights) reaches the float predictions with enough steps', () => {
    const spiking = toSpikingNetwork(trained.network, { weightBits: 8, stateBits: 24 });
    const engine = tfjsEngine();
    const result = emulate(spiking, engine, trained.inputs, count, { steps: 64 });
    engine.dispose();
    const floatAccuracy = trained.measure().accuracy;
    expect(Math.abs(trained.score(result.readout.get(64)!) - floatAccuracy)).toBeLessThanOrEqual(0.1);
    expect(result.activity.layers.layer1!.spikes).toBeGreaterThan(0);
    trained.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 20000);

  it('refuses a run folder without a model, naming what is needed', () => {
    expect(() => hardwareAdapters.get('equilibrium-prop').build({ source: modelSource(spec, data), rng: makeRng(1), count })).toThrow(/ep-train/);
  });
});

describe('lca adapter', () => {
  const k = 30;
  const spec = validateSpec({
    name: 'lca-adapter-test',
    seed: 1,
    data: { name: 'mnist-embedded' },
    system: { kind: 'lca', features: k, form: 'gram', lambda: 0.25, tau: 10 },
    run: { maxSteps: 60 },
    job: { kind: 'lca-dictionary', epochs: 1 },
  });
  let dictionary: tf.Tensor;
  const makeDictionary = () => tf.tidy(() => {
    const d = randomDictionary([n, k], makeRng(9));
    return tf.div(d, tf.norm(d, 'euclidean', 0, true));
  });
  let trained: TrainedNetwork;
  let before = 0;
  beforeAll(() => {
    dictionary = makeDictionary();
    before = tf.memory().numTensors;
    trained = hardwareAdapters.get('lca').build({ source: modelSource(spec, data, { dictionary }), rng: makeRng(1), count });
  });
  afterAll(() => dictionary.dispose());

  it('hands the chip the signed signal as two non-negative channels whose drive is exactly sΦ; the input scale S is calibrated', () => {
    const net = trained.network;
    const phiIn = net.projections.find((p) => p.name === 'Phi')!.weight;
    expect(Math.min(...trained.inputs)).toBeGreaterThanOrEqual(0);
    // S is the largest |s| over the first 100 test images, which hold the 40 evaluated here.
    expect(Math.max(...trained.inputs)).toBeLessThanOrEqual(net.input.spikeValue!);
    expect(trained.documentation.calibration).toMatch(/first 100 test images/);
    const chipDrive = tf.tidy(() => tf.matMul(tf.tensor2d(trained.inputs, [count, 2 * n]), tf.tensor2d(phiIn, [2 * n, k])).dataSync());
    const hostDrive = tf.tidy(() => {
      const x = toTensors(subset(data.test, 0, count), { layout: 'flat' });
      const drive = tf.matMul(normalizeSamples(x.x), dictionary).dataSync();
      tf.dispose([x.x, x.y]);
      return drive;
    });
    for (let i = 0; i < hostDrive.length; i++) expect(chipDrive[i]!).toBeCloseTo(hostDrive[i]!, 3);
    // Lateral weights −(ΦᵀΦ − I): symmetric, zero diagonal, −⟨φ0, φ1⟩ off it.
    const lateral = net.projections.find((p) => p.name === 'minus_G')!.weight;
    const phi = dictionary.dataSync();
    let g01 = 0;
    for (let i = 0; i < n; i++) g01 += phi[i * k]! * phi[i * k + 1]!;
    expect(lateral[0]).toBe(0);
    expect(lateral[1]).toBeCloseTo(-g01, 5);
    expect(lateral[k]).toBeCloseTo(lateral[1]!, 6);
  });

  it('scores the float code by reconstruction and counts k² dense MACs per example and step (gram form)', () => {
    const measured = trained.measure();
    expect(measured.activity.layers.lca!.dense_macs).toBe(count * 60 * k * k);
    expect(measured.activity.layers.lca!.graded_synaptic_ops).toBe(measured.activity.layers.lca!.graded_events * k);
    expect(measured.accuracy).toBeGreaterThan(0);
    expect(measured.accuracy).toBeLessThan(1);
    // A zero code reconstructs nothing: quality 0.
    expect(trained.score(new Float32Array(count * k))).toBeCloseTo(0, 6);
  });

  it('the spiking emulation’s code approaches the float code’s reconstruction quality', () => {
    const float = trained.measure().accuracy;
    const engine = tfjsEngine();
    const result = emulate(toSpikingNetwork(trained.network, {}), engine, trained.inputs, count, { steps: 128 });
    engine.dispose();
    expect(Math.abs(trained.score(result.readout.get(128)!) - float)).toBeLessThan(0.05);
    trained.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60000);

  it('refuses the signed threshold, naming the option', () => {
    const signed = validateSpec({ ...spec, system: { ...spec.system, nonnegative: false } });
    expect(() => hardwareAdapters.get('lca').build({ source: modelSource(signed, data, { dictionary }), rng: makeRng(1), count })).toThrow(/system\.nonnegative/);
  });
});

describe('hopfield adapter', () => {
  it('the spiking emulation recalls the cues it is started from (it fires: v(0) is above the threshold)', () => {
    const spec = validateSpec(JSON.parse(fs.readFileSync('sims/hopfield-recall.json', 'utf8')));
    const before = tf.memory().numTensors;
    const trained = hardwareAdapters.get('hopfield').build({ source: modelSource(spec, data), rng: makeRng(1), count: 20 });
    try {
      const spiking = toSpikingNetwork(trained.network, { weightBits: 8, stateBits: 24 });
      const engine = tfjsEngine();
      const result = emulate(spiking, engine, trained.inputs, trained.count, { steps: 32 });
      engine.dispose();
      expect(result.activity.layers.u!.spikes).toBeGreaterThan(0);
      // 10 classes: chance is 0.1; the float relaxation recalls every cue of this set.
      const measured = trained.measure();
      expect(measured.accuracy).toBe(1);
      // The settling is reported against the steps the float relaxation ran (it stops on the spec's own tolerance).
      expect(measured.settling!.pricedSteps).toBe(measured.activity.stepsPerInference);
      expect(measured.settling!.settledInOneStep).toBe(false);
      expect(trained.score(result.readout.get(32)!)).toBeGreaterThanOrEqual(0.9);
    } finally {
      trained.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
