/**
 * CNN-F's hardware network, for `neurodyn energy`: from a `cnnf-train` run folder (model/: W<i>, b<i>,
 * beta<i>, `cycles` in its meta). Its activity is the model's own: the first pass (countsOfFirstPass) plus
 * `cycles` cycles run by simulate(countEvents), which reads the system's `counts` every cycle (system.ts
 * `countsOfPass`: dense and effective MACs of the forward and the tied feedback maps, nonzero inputs as
 * graded events, neuron updates), on the first `count` test images. Steps per inference: cycles + 1 passes.
 *
 * Form: one population per weighted layer and per pool, in layer order. A conv or linear layer with the
 * norm and AdaReLU that follow it is one population named after the weighted layer (`conv0`, `linear9`;
 * the norm's β tiled over positions as its bias; 'relu' where an AdaReLU follows, 'linear' otherwise); an
 * AdaPool is a `max-pool` population (`adapool3`) over 2×2 windows; flatten is only the NHWC order, which
 * is already the dense index order. Convolutions are expanded into dense projections ('same' padding;
 * hardware/dense-conv.ts; `storedWeights` keeps the kernel's size for the footprint). From layer `ind` up,
 * every projection has its feedback twin: the transposed matrix in the other direction, `storedWeights` 0
 * because the feedback uses the same tensor (tied weights), the unpooling as the selector's transpose.
 *
 * What the rate form cannot say, hence `structureOnly` (GATED_FEEDBACK): AdaReLU passes a unit where its
 * input and the stored feedback agree in sign, negative values included; AdaPool switches each window
 * between max and min by the sign of the feedback; the RMS instance norm divides by a per-sample,
 * per-channel statistic. The network therefore serves the fit, fan-in/fan-out, connection sparsity and
 * footprint, and the energy is priced from the float model's counts; the spiking emulation refuses it with
 * that reason. The dense expansion limits this to small networks (the fashion-cpu net fits; the official
 * net's 3136 × 1000 linear layer does too, but its 28×28×16 → 28×28×32 convolution is above DENSE_LIMIT and
 * is refused with the size).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { subset, toTensors } from '../../data/index.js';
import { argmaxAccuracy, type BuildRequest, type HardwareAdapter, type TrainedNetwork } from '../../hardware/adapter.js';
import { normalizeCounts } from '../../hardware/counts.js';
import { denseConvolution, poolSelector, transposeDense, tileDense } from '../../hardware/dense-conv.js';
import { checkNetwork, type LayeredNetwork, type Population, type Projection } from '../../hardware/network.js';
import { createCnnf, type CnnfSpecOptions } from './options.js';
import { countsOfPass, type CnnfParams, type CnnfSystem } from './system.js';

export const GATED_FEEDBACK =
  "CNN-F's AdaReLU passes a unit where its input and the stored feedback agree in sign (negative values included) and its AdaPool switches each window between max and min by the feedback's sign: state-dependent gates that the rate populations cannot express, and the RMS instance norm divides by a per-sample statistic; the network is priced from the float model's counts";

/** The LayeredNetwork of a CNN-F with `params` (read, not kept). */
export function cnnfNetwork(system: CnnfSystem, params: CnnfParams): LayeredNetwork {
  const values = (name: string) => Float32Array.from(params[name]!.dataSync() as Float32Array);
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const { resolved, options } = system;
  const populations: Population[] = [];
  const projections: Projection[] = [];
  let source = 'x';
  let sourceSize = size(options.inputShape);
  for (let n = 0; n < resolved.length; n++) {
    const layer = resolved[n]!;
    const s = layer.spec;
    const i = layer.index;
    if (s.type !== 'conv' && s.type !== 'linear' && s.type !== 'adapool') continue;
    const name = `${s.type}${i}`;
    const units = size(layer.outShape);
    let weight: Float32Array;
    let storedWeights: number;
    if (s.type === 'adapool') {
      const [h, w, c] = layer.inShape as [number, number, number];
      weight = poolSelector(h, w, c, 2, `system.layers[${i}]`);
      storedWeights = 0;
      populations.push({ name, size: units, activation: 'max-pool' });
    } else {
      const kernel = values(`W${i}`);
      if (s.type === 'conv') {
        const [h, w, c] = layer.inShape as [number, number, number];
        const k = s.kernel ?? 3;
        const half = (k - 1) / 2;
        weight = denseConvolution(kernel, { height: h, width: w, channels: c, kernelSize: k, features: s.channels, stride: 1, padTop: half, padLeft: half, outHeight: h, outWidth: w }, `system.layers[${i}]`);
      } else weight = kernel;
      storedWeights = kernel.length;
      // The norm and AdaReLU that follow act on this population's units.
      const next = resolved[n + 1]?.spec.type === 'norm' ? resolved[n + 2] : resolved[n + 1];
      const norm = resolved[n + 1]?.spec.type === 'norm' ? resolved[n + 1] : undefined;
      const positions = s.type === 'conv' ? layer.outShape[0]! * layer.outShape[1]! : 1;
      const bias = norm ? tileDense(values(`beta${norm.index}`), positions) : params[`b${i}`] ? values(`b${i}`) : undefined;
      populations.push({ name, size: units, activation: next?.spec.type === 'adarelu' ? 'relu' : 'linear', ...(bias ? { bias } : {}) });
    }
    projections.push({ name: `to_${name}`, from: source, to: name, weight, role: 'feedforward', storedWeights });
    if (i >= options.ind && source !== 'x') projections.push({ name: `${name}_feedback`, from: name, to: source, weight: transposeDense(weight, sourceSize, units), role: 'feedback', storedWeights: 0 });
    else if (i >= options.ind) projections.push({ name: `${name}_feedback`, from: name, to: `${name}_reconstruction`, weight: transposeDense(weight, sourceSize, units), role: 'feedback', storedWeights: 0 });
    source = name;
    sourceSize = units;
  }
  // With ind = 0 the feedback reconstructs the image: a population of its own (the input receives nothing).
  if (projections.some((p) => p.to.endsWith('_reconstruction'))) {
    populations.push({ name: projections.find((p) => p.to.endsWith('_reconstruction'))!.to, size: size(options.inputShape), activation: 'linear' });
  }
  return checkNetwork({ family: 'cnn-f', input: { name: 'x', size: size(options.inputShape) }, populations, projections, readout: source, structureOnly: GATED_FEEDBACK });
}

/** Counts of the first pass (every layer, forward only), as numbers. */
export function countsOfFirstPass(system: CnnfSystem, params: CnnfParams, x: tf.Tensor): Record<string, Record<string, number>> {
  return tf.tidy(() => {
    const counts = countsOfPass(system.resolved, system.firstPassInputs({ x }, params), params, false);
    const out: Record<string, Record<string, number>> = {};
    for (const [layer, counters] of Object.entries(counts)) out[layer] = Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, v.dataSync()[0]!]));
    return out;
  });
}

/** Per-layer sums of two count records. */
export function addCounts(a: Readonly<Record<string, Readonly<Record<string, number>>>>, b: Readonly<Record<string, Readonly<Record<string, number>>>>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const record of [a, b]) {
    for (const [layer, counters] of Object.entries(record)) {
      const target = (out[layer] ??= {});
      for (const [k, v] of Object.entries(counters)) target[k] = (target[k] ?? 0) + v;
    }
  }
  return out;
}

function build(request: BuildRequest): TrainedNetwork {
  const { source } = request;
  const { data } = source;
  const model = source.trained;
  if (!model) throw new SpecError('<run-folder|spec>', 'cnn-f needs a trained model: pass a run folder written by the cnnf-train job');
  const { kind: _kind, ...options } = source.system;
  const system = createCnnf(options as CnnfSpecOptions, { inputSize: data.test.height * data.test.width });
  const params: Record<string, tf.Tensor> = Object.fromEntries(
    system.paramNames.map((name) => {
      const t = model.params[name];
      if (!t) throw new SpecError(`model.params.${name}`, `missing from the saved model (it has ${Object.keys(model.params).join(', ')})`);
      return [name, tf.clone(t)];
    }),
  );
  const cycles = Number(model.meta?.cycles ?? source.run.maxSteps);
  if (!(Number.isInteger(cycles) && cycles >= 0)) throw new SpecError('model.meta.cycles', `must be a non-negative integer, got ${JSON.stringify(model.meta?.cycles)}`);
  let network: LayeredNetwork;
  try {
    network = cnnfNetwork(system, params);
  } catch (e) {
    tf.dispose(Object.values(params));
    throw e;
  }
  const count = Math.min(request.count, data.test.count);
  const test = toTensors(subset(data.test, 0, count), { layout: 'nhwc' });
  const inputs = Float32Array.from(test.x.dataSync() as Float32Array);
  const labels = Int32Array.from(test.y.dataSync() as Int32Array);
  tf.dispose(test.y);
  const images = test.x;
  const score = (readout: Float32Array) => argmaxAccuracy(readout, labels, system.classes);
  return {
    family: 'cnn-f',
    network,
    documentation: { calibration: 'none (structure only: AdaReLU and AdaPool have no integrate-and-fire form)' },
    inputs,
    labels,
    count,
    measure() {
      const start = performance.now();
      const first = countsOfFirstPass(system, params, images);
      let layers: Record<string, Record<string, number>> = first;
      let readout: Float32Array;
      if (cycles === 0) {
        readout = tf.tidy(() => Float32Array.from(system.initState({ x: images }, params).logits.dataSync() as Float32Array));
      } else {
        const state0 = tf.tidy(() => system.initState({ x: images }, params));
        const solution = throwIfDiverged(simulate({ system, params, input: { x: images }, state0, maxSteps: cycles, countEvents: true }));
        readout = tf.tidy(() => Float32Array.from(system.readout!(solution.state, { x: images }, params).dataSync() as Float32Array));
        layers = addCounts(first, solution.events!.total);
        solution.dispose();
        tf.dispose(Object.values(state0));
      }
      const seconds = (performance.now() - start) / 1000;
      const activity = { family: 'cnn-f', inferences: count, stepsPerInference: cycles + 1, layers: normalizeCounts(layers, 'cnn-f.counts'), origin: `float CNN-F, the first pass and ${cycles} feedback cycle${cycles === 1 ? '' : 's'} (graded activity, ${system.options.readout} readout)` };
      return { activity, accuracy: score(readout), seconds };
    },
    score,
    dispose() {
      tf.dispose([...Object.values(params), images]);
    },
  };
}

export const cnnfHardware: HardwareAdapter = { kind: 'cnn-f', fromSpec: false, build };
