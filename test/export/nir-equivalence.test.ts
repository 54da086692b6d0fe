/**
 * The exported NIR graph runs the same as the emulation that `energy` prices: for every family that
 * exports a spiking network, the written .nir file is read back and run by an independent interpreter of
 * NIR's equations (nir-interpreter.ts) on real test digits, and its spikes are compared with the
 * emulation's, population by population and step by step, for each reset mode and with and without a
 * profile's quantization; the readouts' accuracy is compared too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng, normalArray } from '../../src/base/rng.js';
import { loadDataset } from '../../src/data/index.js';
import '../../src/families/index.js';
import { randomDictionary } from '../../src/families/lca/system-common.js';
import { hardwareAdapters, type TrainedNetwork } from '../../src/hardware/adapter.js';
import { emulate } from '../../src/hardware/emulate.js';
import { gpuJsEngine } from '../../src/hardware/emulate-gpujs.js';
import { tfjsEngine } from '../../src/hardware/emulate-tfjs.js';
import { toSpikingNetwork, type Precision, type ResetMode } from '../../src/hardware/quantize.js';
import { spikeNode, spikingNetworkToNir } from '../../src/hardware/spiking-nir.js';
import { writeNir } from '../../src/export/nir.js';
import type { ModelSource } from '../../src/runs/model-source.js';
import { validateSpec } from '../../src/spec/parse.js';
import { loadNirFile, runNir } from './nir-interpreter.js';
import { loadTrainedNetwork } from '../../src/app/model-source.js';
import { loadProfile } from '../../src/hardware/profiles.js';
import { profilePrecision } from '../../src/hardware/estimate.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nir-eq-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const data = loadDataset('mnist-embedded');
const n = 784;
const count = 24;
const steps = 24;

function source(spec: ReturnType<typeof validateSpec>, params: Record<string, tf.Tensor>): ModelSource {
  return { origin: 'test', system: spec.system, run: spec.run, data, trained: { params, trainedBy: 'test' } };
}

interface Comparison {
  readonly identical: number;
  readonly total: number;
  readonly emulationAccuracy: number;
  readonly graphAccuracy: number;
  readonly largestPotential: number;
}

/** Emulates `trained` and runs its exported graph; counts identical spikes over every population, step and example. */
async function compare(trained: TrainedNetwork, precision: Precision, reset: ResetMode, engineName: 'tfjs' | 'gpujs' = 'tfjs', T = steps): Promise<Comparison> {
  const steps = T;
  const network = toSpikingNetwork(trained.network, precision, reset);
  const names = [network.inputName, ...network.populations.map((p) => p.name)];
  const raster = names.map(() => [] as Float32Array[]);
  const engine = engineName === 'tfjs' ? tfjsEngine() : gpuJsEngine();
  const result = emulate(network, engine, trained.inputs, trained.count, {
    steps,
    checkpoints: [steps],
    batchSize: trained.count,
    onStep: (_first, valid, t, spikes) => names.forEach((name, i) => (raster[i]![t - 1] = spikes.get(name)!.slice(0, valid * (spikes.get(name)!.length / trained.count)))),
  });
  engine.dispose();
  const file = path.join(dir, `${trained.family}-${reset}-${precision.weightBits ?? 'float'}.nir`);
  await writeNir(file, spikingNetworkToNir(network, trained.documentation));
  const graph = await loadNirFile(file);
  const signed = new Set(network.populations.filter((p) => p.signed).map((p) => p.name));
  const record = [...names.map((name) => spikeNode(network, name)), ...[...signed].map((name) => `${name}_spike_neg`), 'output'];
  const run = runNir(graph, trained.inputs, trained.count, steps, record);
  let identical = 0;
  let total = 0;
  names.forEach((name, i) => {
    // Equality of silent populations would prove nothing: every population fires.
    expect(raster[i]!.reduce((a, r) => a + r.reduce((x, y) => x + Math.abs(y), 0), 0), `${name} spikes`).toBeGreaterThan(0);
    for (let t = 0; t < steps; t++) {
      const a = raster[i]![t]!;
      const positive = run.recorded[t]!.get(spikeNode(network, name))!;
      // A signed neuron's spike is its positive Threshold's minus its negative one's.
      const b = signed.has(name) ? positive.map((z, k) => z - run.recorded[t]!.get(`${name}_spike_neg`)![k]!) : positive;
      expect(b.length, `${name} at step ${t + 1}`).toBe(a.length);
      for (let k = 0; k < a.length; k++) if (a[k] === b[k]) identical++;
      total += a.length;
    }
  });
  const readout = network.populations.find((p) => p.name === network.readout)!;
  const counts = new Float32Array(trained.count * readout.size);
  for (const step of run.recorded) step.get('output')!.forEach((z, k) => (counts[k]! += z));
  const graphReadout = counts.map((c) => (c / steps) * readout.spikeValue);
  return { identical, total, emulationAccuracy: trained.score(result.readout.get(steps)!), graphAccuracy: trained.score(graphReadout), largestPotential: run.largestPotential };
}

const cases: { precision: Precision; reset: ResetMode; label: string }[] = [
  { precision: { weightBits: 8, stateBits: 24 }, reset: 'subtract', label: '8-bit weights, reset by subtraction' },
  { precision: { weightBits: 8, stateBits: 24 }, reset: 'zero', label: '8-bit weights, reset to zero (IF)' },
  { precision: { weightBits: 4, stateBits: 24 }, reset: 'subtract', label: '4-bit weights, reset by subtraction' },
];

function check(c: Comparison, precision: Precision, label: string, family: string) {
  // The numbers the report quotes.
  console.info(`[nir-equivalence] ${family}, ${label}: ${c.identical}/${c.total} spikes identical (${((100 * c.identical) / c.total).toFixed(3)}%), accuracy emulation ${c.emulationAccuracy.toFixed(4)} vs graph ${c.graphAccuracy.toFixed(4)}`);
  // The state limit would make the emulation saturate where the graph does not: it must not have bound.
  if (precision.stateBits !== undefined) expect(c.largestPotential).toBeLessThan(2 ** (precision.stateBits - 1) - 1);
  expect(c.identical).toBe(c.total);
  expect(c.graphAccuracy).toBe(c.emulationAccuracy);
}

describe('exported NIR graph = emulation, spike for spike (independent interpreter)', () => {
  it('equilibrium-prop 784-24-16-10 (feedback W2ᵀ, softmax readout): every reset mode and precision', async () => {
    const spec = validateSpec({
      name: 'ep-nir-eq',
      seed: 1,
      data: { name: 'mnist-embedded' },
      system: { kind: 'equilibrium-prop', layers: [24, 16, 10], activation: 'hard-sigmoid', output: 'softmax-ce', dynamics: 'primitive-map' },
      run: { maxSteps: 12 },
      job: { kind: 'ep-train', nudgedSteps: 4, beta: 1, epochs: 1, optimizer: { kind: 'sgd', lr: [0.05, 0.02, 0.01] } },
    });
    const rng = makeRng(5);
    const params = {
      W1: tf.tensor2d(normalArray(rng, n * 24, 0.08), [n, 24]),
      b1: tf.tensor1d(normalArray(rng, 24, 0.1)),
      W2: tf.tensor2d(normalArray(rng, 24 * 16, 0.3), [24, 16]),
      b2: tf.tensor1d(normalArray(rng, 16, 0.1)),
      W3: tf.tensor2d(normalArray(rng, 16 * 10, 0.5), [16, 10]),
      b3: tf.tensor1d(normalArray(rng, 10, 0.1)),
    };
    const trained = hardwareAdapters.get('equilibrium-prop').build({ source: source(spec, params), rng: makeRng(1), count, calibration: 40 });
    tf.dispose(Object.values(params));
    try {
      expect(trained.network.projections.map((p) => p.name)).toContain('W2T');
      for (const c of cases) check(await compare(trained, c.precision, c.reset), c.precision, c.label, 'equilibrium-prop');
      // The gpu.js engine computes the same step.
      check(await compare(trained, cases[0]!.precision, 'subtract', 'gpujs'), cases[0]!.precision, `${cases[0]!.label}, gpu.js engine`, 'equilibrium-prop');
    } finally {
      trained.dispose();
    }
  }, 120_000);

  it('lca 30 atoms (lateral inhibition, two-channel input, calibrated input scale): every reset mode and precision', async () => {
    const spec = validateSpec({
      name: 'lca-nir-eq',
      seed: 1,
      data: { name: 'mnist-embedded' },
      system: { kind: 'lca', features: 30, form: 'gram', lambda: 0.1, tau: 10 },
      run: { maxSteps: 40 },
      job: { kind: 'lca-dictionary', epochs: 1 },
    });
    const dictionary = tf.tidy(() => {
      const d = randomDictionary([n, 30], makeRng(9));
      return tf.div(d, tf.norm(d, 'euclidean', 0, true));
    });
    const trained = hardwareAdapters.get('lca').build({ source: source(spec, { dictionary }), rng: makeRng(1), count, calibration: 40 });
    dictionary.dispose();
    try {
      // The input scale is the encoder's threshold, a field of the graph (not metadata).
      expect(trained.network.input.spikeValue).toBeGreaterThan(0.05);
      for (const c of cases) check(await compare(trained, c.precision, c.reset), c.precision, c.label, 'lca');
    } finally {
      trained.dispose();
    }
  }, 120_000);

  it('hopfield (signed tanh units as two Thresholds, start from the cue as a one-step pulse), reset by subtraction', async () => {
    const spec = validateSpec(JSON.parse(fs.readFileSync('sims/hopfield-recall.json', 'utf8')));
    const hopfieldData = loadDataset(spec.data.name);
    const trained = hardwareAdapters.get('hopfield').build({ source: { origin: 'test', system: spec.system, run: spec.run, data: hopfieldData }, rng: makeRng(1), count: 6 });
    try {
      // The adapter starts from v(0) = 1.5·θ·cue, above the threshold, so the network fires (at 0.9·θ it
      // never did; check() requires every population to fire).
      expect(trained.network.populations[0]!.initialFromInput).toBe(1.5);
      for (const c of cases.filter((x) => x.reset === 'subtract')) check(await compare(trained, c.precision, c.reset, 'tfjs', 16), c.precision, `${c.label}, v(0) = 1.5·θ·cue`, 'hopfield');
    } finally {
      trained.dispose();
    }
  }, 300_000);

  it('float (unquantized) weights: the graph and the emulation agree up to float32 summation order', async () => {
    const spec = validateSpec({
      name: 'ep-nir-float',
      seed: 1,
      data: { name: 'mnist-embedded' },
      system: { kind: 'equilibrium-prop', layers: [24, 10], activation: 'hard-sigmoid', output: 'mse', dynamics: 'primitive-map' },
      run: { maxSteps: 12 },
      job: { kind: 'ep-train', nudgedSteps: 4, beta: 1, epochs: 1, optimizer: { kind: 'sgd', lr: [0.05, 0.02] } },
    });
    const rng = makeRng(6);
    const params = {
      W1: tf.tensor2d(normalArray(rng, n * 24, 0.08), [n, 24]),
      b1: tf.tensor1d(normalArray(rng, 24, 0.1)),
      W2: tf.tensor2d(normalArray(rng, 24 * 10, 0.5), [24, 10]),
      b2: tf.tensor1d(normalArray(rng, 10, 0.1)),
    };
    const trained = hardwareAdapters.get('equilibrium-prop').build({ source: source(spec, params), rng: makeRng(1), count });
    tf.dispose(Object.values(params));
    try {
      const c = await compare(trained, {}, 'subtract');
      console.info(`[nir-equivalence] equilibrium-prop 784-24-10, float weights: ${c.identical}/${c.total} spikes identical (${((100 * c.identical) / c.total).toFixed(3)}%), accuracy emulation ${c.emulationAccuracy.toFixed(4)} vs graph ${c.graphAccuracy.toFixed(4)}`);
      // The input encoder is elementwise and exact; weighted sums of spikes may round differently.
      expect(c.identical / c.total).toBeGreaterThan(0.999);
    } finally {
      trained.dispose();
    }
  }, 60_000);
});

/**
 * Trained run folders, where given (NEURODYN_NIR_RUNS=dir1,dir2; T from NEURODYN_NIR_STEPS, default 32):
 * the numbers the README and the report quote, on the first 100 test images at Loihi 2's precision.
 */
const runs = (process.env.NEURODYN_NIR_RUNS ?? '').split(',').filter((d) => d !== '');
describe.runIf(runs.length > 0)('trained run folders: exported graph = emulation', () => {
  for (const runDir of runs) {
    it(runDir, async () => {
      const T = Number(process.env.NEURODYN_NIR_STEPS ?? 32);
      const { trained } = await loadTrainedNetwork(runDir, 100);
      try {
        const precision = profilePrecision(loadProfile('loihi2'));
        for (const reset of ['subtract', 'zero'] as const) check(await compare(trained, precision, reset, 'tfjs', T), precision, `${runDir}, loihi2 precision, reset ${reset}, T = ${T}, 100 test images`, trained.family);
      } finally {
        trained.dispose();
      }
    }, 1_200_000);
  }
});
