/**
 * Hardware estimates for the issue-7 report (run: npx vite-node bench/hardware-estimates.ts > out.txt):
 *  1. the cost of event counting in simulate() (quickstart Hopfield relaxation, with and without counts);
 *  2. a hand-built layered network (784-100-10, hard-sigmoid, trained by backprop for 3 epochs on the
 *     embedded MNIST), and the Hopfield reference network of sims/quickstart.json: float counts and, for
 *     the layered net, the spiking emulation at each profile's weight/state bits, priced on every profile;
 *  3. emulation accuracy against time steps; 4. gpu.js (webasm) against tfjs (wasm) emulation time;
 *  5. with `--ep <run-folder> --lca <run-folder>`: a trained EP network and a learned LCA dictionary, built by
 *     their family adapters, priced on every profile (float counts from their own relaxations, and the spiking
 *     emulation at each neuromorphic profile's bits), and the counting overhead of their relaxations.
 *     The run folders of bench/hardware-estimates.output.txt:
 *       node dist/src/cli/main.js run sims/ep-mnist-quick.json --out /tmp/hw/ep12
 *       node dist/src/cli/main.js run sims/lca-dictionary-mnist.json --out /tmp/hw/lca400
 *     then: npx vite-node bench/hardware-estimates.ts -- --ep /tmp/hw/ep12 --lca /tmp/hw/lca400
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeRng, normalArray } from '../src/base/rng.js';
import { simulate } from '../src/core/simulate.js';
import { integrators } from '../src/core/integrators/index.js';
import { loadDataset, subset, toTensors } from '../src/data/index.js';
import { estimateCost } from '../src/hardware/cost.js';
import { normalizeCounts, type ActivityRecord } from '../src/hardware/counts.js';
import { emulate } from '../src/hardware/emulate.js';
import { gpuJsEngine } from '../src/hardware/emulate-gpujs.js';
import { tfjsEngine } from '../src/hardware/emulate-tfjs.js';
import { loadTrainedNetwork } from '../src/app/model-source.js';
import { DEFAULT_ENGINE, estimateOnProfiles, type ProfileEstimate } from '../src/hardware/estimate.js';
import { argmaxAccuracy } from '../src/hardware/adapter.js';
import { structureOf, type LayeredNetwork } from '../src/hardware/network.js';
import { listProfiles } from '../src/hardware/profiles.js';
import { toSpikingNetwork } from '../src/hardware/quantize.js';
import { useBackend } from '../src/tensor/index.js';
import { storePatterns, hopfield } from '../src/families/hopfield/system.js';
import type { EquilibriumPropSystem } from '../src/families/equilibrium-prop/system.js';
import type { LcaSystem } from '../src/families/lca/system.js';
import { systems } from '../src/families/index.js';
import { loadModel } from '../src/runs/model-store.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const argument = (flag: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
/** Median wall time of `run(false)` and `run(true)` (interleaved, after one warm-up each). */
function countingOverhead(label: string, run: (countEvents: boolean) => void, repeats = 5) {
  const time = (countEvents: boolean) => {
    const t0 = performance.now();
    run(countEvents);
    return performance.now() - t0;
  };
  time(false);
  time(true);
  const plain: number[] = [];
  const counted: number[] = [];
  for (let r = 0; r < repeats; r++) {
    plain.push(time(false));
    counted.push(time(true));
  }
  say(`counting overhead (${label}, wasm, median of ${repeats}): without ${median(plain).toFixed(0)} ms, with ${median(counted).toFixed(0)} ms, +${((100 * (median(counted) - median(plain))) / median(plain)).toFixed(1)}%`);
}
await useBackend('wasm');
const profiles = listProfiles();

// 1. Counting overhead on the quickstart relaxation (784 neurons, 200 cues, euler dt 0.2, 150 steps, no convergence stop).
{
  const data = loadDataset('mnist-embedded');
  const n = 784;
  const { x } = toTensors(subset(data.train, 0, 200), { layout: 'flat' });
  const cue = tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greater(x, 0.5), 'float32'), 2), 1)) as tf.Tensor2D;
  const patterns = tf.tidy(() => tf.sign(tf.sub(tf.tensor2d(normalArray(makeRng(3), 10 * n), [10, n]), 0.01))) as tf.Tensor2D;
  const params = storePatterns(patterns, 'projection');
  const system = hopfield({ size: n, gain: 4 });
  countingOverhead('hopfield 784 units, 200 cues, 150 euler steps', (countEvents) => simulate({ system, params, input: { cue }, integrator: integrators.get('euler'), dt: 0.2, maxSteps: 150, countEvents }).dispose());
  tf.dispose([x, cue, patterns, params.weights, params.bias]);
}

// 2. The hand-built layered network: 784-100-10, hard-sigmoid hidden and output, MSE on one-hot, Adam.
const data = loadDataset('mnist-embedded');
const rng = makeRng(11);
const sizes = [784, 100, 10];
const glorot = (a: number, b: number) => tf.variable(tf.tensor2d(normalArray(rng, a * b, Math.sqrt(2 / (a + b))), [a, b]));
const W1 = glorot(784, 100);
const b1 = tf.variable(tf.zeros([100]));
const W2 = glorot(100, 10);
const b2 = tf.variable(tf.zeros([10]));
const hs = (z: tf.Tensor) => tf.clipByValue(z, 0, 1);
const forward = (xb: tf.Tensor) => hs(tf.add(tf.matMul(hs(tf.add(tf.matMul(xb, W1), b1)), W2), b2));
{
  const optimizer = tf.train.adam(0.002);
  const { x, y } = toTensors(data.train, { layout: 'flat' });
  const t0 = performance.now();
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let start = 0; start + 100 <= data.train.count; start += 100) {
      optimizer.minimize(() => tf.tidy(() => tf.mean(tf.square(tf.sub(forward(tf.slice(x, [start, 0], [100, 784])), tf.oneHot(tf.slice(y, [start], [100]), 10))))) as tf.Scalar);
    }
  }
  say(`layered 784-100-10 trained in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  tf.dispose([x, y]);
  optimizer.dispose();
}
const count = 500;
const test = toTensors(subset(data.test, 0, count), { layout: 'flat' });
const labels = test.y.dataSync() as Int32Array;
const testX = test.x.dataSync() as Float32Array;
const floatOut = tf.tidy(() => forward(test.x)).dataSync() as Float32Array;
const floatAccuracy = argmaxAccuracy(floatOut, labels, 10);
const layered: LayeredNetwork = {
  family: 'layered-784-100-10',
  input: { name: 'x', size: 784 },
  populations: [
    { name: 'hidden', size: 100, activation: 'hard-sigmoid', bias: b1.dataSync() as Float32Array },
    { name: 'output', size: 10, activation: 'hard-sigmoid', bias: b2.dataSync() as Float32Array },
  ],
  projections: [
    { name: 'W1', from: 'x', to: 'hidden', weight: W1.dataSync() as Float32Array, role: 'feedforward' },
    { name: 'W2', from: 'hidden', to: 'output', weight: W2.dataSync() as Float32Array, role: 'feedforward' },
  ],
  readout: 'output',
};
// Float counts of the layered net: one pass, graded activations (measured from the actual activity).
const layeredFloat: ActivityRecord = (() => {
  const [h, o] = tf.tidy(() => {
    const hidden = hs(tf.add(tf.matMul(test.x, W1), b1));
    return [hidden.dataSync() as Float32Array, forward(test.x).dataSync() as Float32Array];
  });
  const nz = (a: Float32Array) => a.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0);
  const nnzRows = (w: Float32Array, rows: number, cols: number) => Array.from({ length: rows }, (_, r) => { let c = 0; for (let k = 0; k < cols; k++) if (w[r * cols + k] !== 0) c++; return c; });
  const fan1 = nnzRows(layered.projections[0]!.weight, 784, 100);
  const fan2 = nnzRows(layered.projections[1]!.weight, 100, 10);
  let eff1 = 0;
  for (let i = 0; i < count * 784; i++) if (testX[i] !== 0) eff1 += fan1[i % 784]!;
  let eff2 = 0;
  for (let i = 0; i < count * 100; i++) if (h[i] !== 0) eff2 += fan2[i % 100]!;
  return {
    family: layered.family, inferences: count, stepsPerInference: 1, origin: 'float forward pass (graded activity)',
    layers: normalizeCounts({
      hidden: { macs: count * 784 * 100, effective_macs: eff1, events: nz(h), neuron_updates: count * 100 },
      output: { macs: count * 100 * 10, effective_macs: eff2, events: nz(o), neuron_updates: count * 10 },
    }),
  };
})();
say(`layered float accuracy on ${count} test digits: ${(100 * floatAccuracy).toFixed(1)}%`);

// 3 + 4. Emulation accuracy against time steps and engine timing (float weights, then 8-bit/24-bit as Loihi).
const steps = 128;
for (const precision of [{}, { weightBits: 8, stateBits: 24 }, { weightBits: 4, stateBits: 16 }]) {
  const spiking = toSpikingNetwork(layered, precision);
  const line: string[] = [];
  for (const [name, make] of [['gpujs', gpuJsEngine], ['tfjs', tfjsEngine]] as const) {
    const engine = make();
    emulate(spiking, engine, testX.subarray(0, 64 * 784), 64, { steps: 4, batchSize: 64 }); // warm-up (kernel compile)
    const r = emulate(spiking, engine, testX, count, { steps, batchSize: 100 });
    engine.dispose();
    const acc = [...r.readout].map(([t, out]) => `T=${t}: ${(100 * argmaxAccuracy(out, labels, 10)).toFixed(1)}%`).join(', ');
    line.push(`${name} ${r.seconds.toFixed(2)} s`);
    if (name === 'gpujs') say(`emulation ${JSON.stringify(precision)}: ${acc} (float ${(100 * floatAccuracy).toFixed(1)}%)`);
  }
  say(`  engine time, ${count} digits × ${steps} steps: ${line.join(', ')}`);
}

// Estimates on every profile.
const layeredStructure = structureOf(layered);
const { trained: hop } = await loadTrainedNetwork('sims/quickstart.json', 100);
const hopMeasured = hop.measure();
const hopStructure = structureOf(hop.network);
say(`\nhopfield reference (quickstart, 100 cues with 20% flips): recall ${(100 * hopMeasured.accuracy).toFixed(1)}%, ${hopMeasured.activity.stepsPerInference} steps`);
const fmt = (v: number | null) => (v === null ? 'n/a' : v.toExponential(2));
say('\n| profile | network | counts | energy/inf (J) | dynamic | static | latency (s) | SOP/s | fits (cores, chips) | accuracy | % energy from estimates |');
say('|---|---|---|---|---|---|---|---|---|---|---|');
for (const profile of profiles) {
  const rows: [string, string, ActivityRecord, typeof layeredStructure, number][] = [
    ['hopfield-784', 'float', hopMeasured.activity, hopStructure, hopMeasured.accuracy],
    ['layered-784-100-10', 'float', layeredFloat, layeredStructure, floatAccuracy],
  ];
  if (profile.energyModel !== 'dense') {
    const spiking = toSpikingNetwork(layered, { ...(profile.capacity.weightBits ? { weightBits: profile.capacity.weightBits.si } : {}), ...(profile.capacity.stateBits ? { stateBits: profile.capacity.stateBits.si } : {}) });
    const engine = gpuJsEngine();
    const r = emulate(spiking, engine, testX, count, { steps: 64, batchSize: 100 });
    engine.dispose();
    rows.push(['layered-784-100-10', `spiking T=64, ${spiking.precision.weightBits ?? 'f'}b w`, r.activity, layeredStructure, argmaxAccuracy(r.readout.get(64)!, labels, 10)]);
  }
  for (const [net, counts, record, structure, accuracy] of rows) {
    const c = estimateCost(record, structure, profile);
    say(`| ${profile.id} | ${net} | ${counts} | ${fmt(c.energy.totalJ)} | ${fmt(c.energy.dynamicJ)} | ${fmt(c.energy.staticJ)} | ${fmt(c.latencyS)} | ${fmt(c.synapticOpsPerSecond)} | ${c.fit.fits ? 'yes' : 'no'} (${c.fit.coresNeeded}, ${c.fit.chipsNeeded}) | ${(100 * accuracy).toFixed(1)}% | ${(100 * c.energy.estimateShare).toFixed(0)}% |`);
  }
}
hop.dispose();
tf.dispose([W1, b1, W2, b2, test.x, test.y]);

// 5. A trained EP network and a learned LCA dictionary (run folders given with --ep and --lca).
const familyRuns = [['equilibrium-prop', argument('--ep'), 500], ['lca', argument('--lca'), 200]] as const;
if (familyRuns.every(([, dir]) => dir === undefined)) say('\n(no --ep / --lca run folders given: the EP and LCA estimates are skipped)');
for (const [family, dir, inferences] of familyRuns) {
  if (dir === undefined) continue;
  const { trained, spec } = await loadTrainedNetwork(dir, inferences, 'wasm');
  // Counting overhead of the family's own relaxation, on the same inputs the estimates use.
  {
    const model = loadModel(dir);
    const system = systems.get(family).create(spec.system, { inputSize: 784 }) as EquilibriumPropSystem & LcaSystem;
    const x = tf.tensor2d(family === 'lca' ? rawTestImages(trained.count) : trained.inputs, [trained.count, 784]);
    const input = tf.tidy(() => (family === 'lca' ? system.prepare({ x }, model.params as never) : system.prepare({ x }, model.params)));
    countingOverhead(`${family} ${structureOf(trained.network).populations.map((p) => p.neurons).join('-')} units, ${trained.count} inputs, ${spec.run.maxSteps} steps`, (countEvents) => simulate({ system, params: model.params as never, input, maxSteps: spec.run.maxSteps, countEvents }).dispose());
    tf.dispose([...Object.values(input as Record<string, tf.Tensor>), ...Object.values(model.params)]);
  }
  const float = estimateOnProfiles(trained, profiles);
  const spikingProfiles = profiles.filter((p) => p.energyModel !== 'dense');
  const t0 = performance.now();
  const spiking = estimateOnProfiles(trained, spikingProfiles, { steps: 64, engine: DEFAULT_ENGINE });
  const quality = family === 'lca' ? 'reconstruction quality 1 − ‖s − ŝ‖/‖s‖' : 'test accuracy';
  say(`\n${family} from ${dir} (${spec.name}): ${trained.count} test digits, ${quality} of the float model ${(100 * float.float.accuracy).toFixed(1)}%, ${float.float.activity.stepsPerInference} relaxation steps; spiking emulation (${DEFAULT_ENGINE}) on ${spikingProfiles.length} profiles in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  say(`emulation ${quality} against time steps, quantized to each profile's weight/state bits (float model ${(100 * float.float.accuracy).toFixed(1)}%):`);
  for (const profile of spikingProfiles) {
    const e = spiking.perProfile[profile.id]!;
    say(`  ${profile.id} (${profile.capacity.weightBits?.si ?? 'float'}-bit weights, ${profile.capacity.stateBits?.si ?? 'float'}-bit state): ${Object.entries(e.emulation!.accuracyByStep).map(([t, a]) => `T=${t}: ${(100 * a).toFixed(1)}%`).join(', ')}`);
  }
  say(`\n| profile | network | counts | energy/inf (J) | dynamic | static | latency (s) | SOP/s | fits (cores, chips) | ${family === 'lca' ? 'recon. quality' : 'accuracy'} | % energy from estimates |`);
  say('|---|---|---|---|---|---|---|---|---|---|---|');
  const name = `${family} ${structureOf(trained.network).populations.map((p) => p.neurons).join('-')}`;
  for (const profile of profiles) {
    const rows: [string, ProfileEstimate][] = [[`float, ${float.float.activity.stepsPerInference} steps`, float.perProfile[profile.id]!]];
    const s = spiking.perProfile[profile.id];
    if (s) rows.push([`spiking T=64, ${profile.capacity.weightBits?.si ?? 'f'}b w`, s]);
    for (const [counts, e] of rows) {
      const c = e.cost;
      say(`| ${profile.id} | ${name} | ${counts} | ${fmt(c.energy.totalJ)} | ${fmt(c.energy.dynamicJ)} | ${fmt(c.energy.staticJ)} | ${fmt(c.latencyS)} | ${fmt(c.synapticOpsPerSecond)} | ${c.fit.fits ? 'yes' : 'no'} (${c.fit.coresNeeded}, ${c.fit.chipsNeeded}) | ${(100 * e.accuracy).toFixed(1)}% | ${(100 * c.energy.estimateShare).toFixed(0)}% |`);
    }
  }
  trained.dispose();
}

/** The first `count` embedded-MNIST test images, unnormalised (the LCA system normalises them itself). */
function rawTestImages(count: number): Float32Array {
  const t = toTensors(subset(loadDataset('mnist-embedded').test, 0, count), { layout: 'flat' });
  const values = Float32Array.from(t.x.dataSync() as Float32Array);
  tf.dispose([t.x, t.y]);
  return values;
}
