/**
 * The LCANet's hardware network (Teti et al. 2022; lcanet-job.ts): the convolutional LCA front end plus the
 * trained head, from an `lcanet` run folder (model/: `lca.dictionary` [k, k, 1, K] and `head.*`, the head's
 * shape in meta). Its activity is the model's own: the LCA relaxes for the spec's run section with
 * simulate(countEvents) reading the system's `counts` every step (layer `lca`), then the head runs once on
 * the code; the head's layers are counted from their real activations (dense MACs = inputs × outputs;
 * effective MACs = each nonzero input × its nonzero outgoing weights; events = nonzero outputs).
 *
 * Form: the convolutional dictionary is expanded into the dense matrix D [H·W, H'·W'·K] (hardware/dense-conv.ts;
 * Φᵀe = conv(e, Φ) = e D), which makes the front end the fully connected LCA of hardware.ts with Φ := D:
 * a = relu(s D − a G − λ), G = DᵀD − I (this G respects the image border, as the error form does: an atom
 * cut off by the border keeps a self-term 1 − ‖d‖² on the diagonal), the
 * signed signal split into two [0, 1] channels. Expanding rather than adding a convolutional projection
 * type: the fit, fan-in/fan-out and sparsity checks then work unchanged on what a chip without weight
 * sharing must store and route, and `storedWeights` keeps the footprint at the kernels' real size; the price
 * is memory, so the expansion is limited to small configurations (DENSE_LIMIT, e.g. K = 8 atoms at stride 2
 * on 28×28), and larger ones are refused with the size.
 *
 * Head 'mlp': relu hidden → readout (relu with the largest logit as its spike value, as EP's softmax readout);
 * head 'cnn': conv 3×3 'same' (dense-expanded) → relu → 2×2 max-pool (a `max-pool` population) → readout.
 * The max-pool has no integrate-and-fire form, so a cnn-head LCANet is priced from the float counts only
 * (the emulation refuses it, naming the max-pool).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { relaxationSettings } from '../../core/run-settings.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { subset, toTensors } from '../../data/index.js';
import { argmaxAccuracy, type BuildRequest, type HardwareAdapter, type TrainedNetwork } from '../../hardware/adapter.js';
import { normalizeCounts } from '../../hardware/counts.js';
import { checkDenseSize, denseConvolution, poolSelector, tileDense } from '../../hardware/dense-conv.js';
import { checkNetwork, type Population, type Projection } from '../../hardware/network.js';
import type { HeadSpec } from './lcanet-head.js';
import { twoChannelEncoding } from './hardware.js';
import { lcaConvEntry } from './options.js';
import { normalizeSamples } from './system-common.js';
import type { LcaConvSystem } from './system-conv.js';

/** One head layer as the chip sees it: a dense [rows, cols] weight, the nonzero fan-out of each row. */
interface DenseLayer {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly rowFanOut: Int32Array;
}

function fanOut(weight: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (weight[r * cols + c] !== 0) out[r]!++;
  return out;
}

/** Counts of one feedforward pass through `layer` with inputs `x` [count × rows] and outputs `y` [count × cols]. */
function layerCounts(layer: DenseLayer, x: Float32Array, y: Float32Array, count: number): Record<string, number> {
  let effective = 0;
  for (let e = 0; e < count; e++) for (let r = 0; r < layer.rows; r++) if (x[e * layer.rows + r] !== 0) effective += layer.rowFanOut[r]!;
  let events = 0;
  for (const v of y) if (v !== 0) events++;
  return { macs: count * layer.rows * layer.cols, effective_macs: effective, events, neuron_updates: count * layer.cols };
}

function build(request: BuildRequest): TrainedNetwork {
  const { source } = request;
  const { data } = source;
  const model = source.trained;
  const head = model?.meta?.head as HeadSpec | undefined;
  const saved = model?.params['lca.dictionary'];
  if (!model || !head || !saved) throw new SpecError('<run-folder|spec>', 'lca-conv needs a trained LCANet: pass a run folder written by the lcanet job (model/ with lca.dictionary and head.*)');
  const relaxation = relaxationSettings(source.run);
  const H = data.test.height;
  const W = data.test.width;
  const n = H * W;
  const system = lcaConvEntry.create(source.system, { inputSize: n }) as LcaConvSystem;
  const o = system.options;
  if (o.threshold !== 'soft') throw new SpecError('system.threshold', `the hardware network maps only the soft threshold (relu(u − λ)), got ${JSON.stringify(o.threshold)}`);
  if (!o.nonnegative) throw new SpecError('system.nonnegative', 'the hardware network maps only the non-negative code (relu(u − λ))');
  if (o.inputChannels !== 1) throw new SpecError('system.inputChannels', `the datasets are greyscale: 1, got ${o.inputChannels}`);
  const expected = system.dictionaryShape();
  if (saved.shape.join() !== expected.join()) throw new SpecError('model.params.lca.dictionary', `has shape [${saved.shape.join(', ')}], expected [${expected.join(', ')}]`);
  const [, codeH, codeW, K] = system.operator.codeShape([1, H, W, 1]) as [number, number, number, number];
  const m = codeH * codeW * K;
  const half = o.padding === 'same' ? (o.kernelSize - 1) / 2 : 0;
  checkDenseSize(m, m, 'system.features');
  const kernel = Float32Array.from(saved.dataSync() as Float32Array);
  const D = denseConvolution(kernel, { height: H, width: W, channels: 1, kernelSize: o.kernelSize, features: K, stride: o.stride, padTop: half, padLeft: half, outHeight: codeH, outWidth: codeW }, 'system.features');

  const params = { dictionary: tf.clone(saved) };
  const headParams = Object.fromEntries(Object.entries(model.params).filter(([k]) => k.startsWith('head.')).map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));
  const need = (name: string) => {
    const v = headParams[name];
    if (!v) throw new SpecError(`model.params.${name}`, `missing from the saved LCANet (it has ${Object.keys(model.params).join(', ')})`);
    return v;
  };
  const count = Math.min(request.count, data.test.count);
  const test = toTensors(subset(data.test, 0, count), { layout: 'nhwc' });
  const labels = Int32Array.from(test.y.dataSync() as Int32Array);
  const signal = tf.tidy(() => (o.normalizeInput ? normalizeSamples(test.x) : tf.clone(test.x)).dataSync() as Float32Array);
  const images = test.x;
  tf.dispose(test.y);

  // The head as dense layers (in order), each with its tfjs computation for the measured pass.
  const headLayers: { layer: DenseLayer; population: Population; projection: Projection; apply: (x: tf.Tensor) => tf.Tensor }[] = [];
  const dense = (name: string, from: string, rows: number, cols: number, weight: Float32Array, activation: Population['activation'], bias: Float32Array | undefined, stored: number, apply: (x: tf.Tensor) => tf.Tensor) => {
    headLayers.push({
      layer: { name, rows, cols, rowFanOut: fanOut(weight, rows, cols) },
      population: { name, size: cols, activation, ...(bias ? { bias } : {}) },
      projection: { name: `${from}_to_${name}`, from, to: name, weight, role: 'feedforward', storedWeights: stored },
      apply,
    });
  };
  const tensor = (name: string, shape: number[]) => tf.tensor(need(name), shape);
  const classes = head.classes;
  if (head.kind === 'mlp') {
    const hidden = head.hidden ?? 256;
    checkDenseSize(m, hidden, 'job.hidden');
    dense('hidden', 'a', m, hidden, need('head.hidden.weights'), 'relu', need('head.hidden.bias'), m * hidden, (x) => tf.relu(tf.add(tf.matMul(tf.reshape(x, [count, -1]), tensor('head.hidden.weights', [m, hidden])), tensor('head.hidden.bias', [hidden]))));
    dense('readout', 'hidden', hidden, classes, need('head.dense.weights'), 'relu', need('head.dense.bias'), hidden * classes, (x) => tf.add(tf.matMul(x as tf.Tensor2D, tensor('head.dense.weights', [hidden, classes])), tensor('head.dense.bias', [classes])));
  } else {
    const channels = head.channels ?? 32;
    const convKernel = need('head.conv.weights');
    const convOut = codeH * codeW * channels;
    const convDense = denseConvolution(convKernel, { height: codeH, width: codeW, channels: K, kernelSize: 3, features: channels, stride: 1, padTop: 1, padLeft: 1, outHeight: codeH, outWidth: codeW }, 'job.channels');
    dense('conv', 'a', m, convOut, convDense, 'relu', tileDense(need('head.conv.bias'), codeH * codeW), convKernel.length, (x) => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, tensor('head.conv.weights', [3, 3, K, channels]) as tf.Tensor4D, 1, 'same'), tensor('head.conv.bias', [channels]))));
    const pooled = Math.floor(codeH / 2) * Math.floor(codeW / 2) * channels;
    dense('pool', 'conv', convOut, pooled, poolSelector(codeH, codeW, channels, 2, 'job.channels'), 'max-pool', undefined, 0, (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    dense('readout', 'pool', pooled, classes, need('head.dense.weights'), 'relu', need('head.dense.bias'), pooled * classes, (x) => tf.add(tf.matMul(tf.reshape(x, [count, -1]), tensor('head.dense.weights', [pooled, classes])), tensor('head.dense.bias', [classes])));
  }

  const relax = (countEvents: boolean) => {
    const start = performance.now();
    const solution = throwIfDiverged(simulate({ system, params, input: { x: images }, ...relaxation, countEvents }));
    const activity: Float32Array[] = [Float32Array.from(solution.state.a.dataSync() as Float32Array)];
    tf.tidy(() => {
      let x: tf.Tensor = solution.state.a;
      for (const h of headLayers) {
        x = h.apply(x);
        activity.push(Float32Array.from(x.dataSync() as Float32Array));
      }
    });
    const seconds = (performance.now() - start) / 1000;
    const result = { activity, events: solution.events, steps: solution.steps, seconds };
    solution.dispose();
    return result;
  };

  // Spike values of the relu populations: the largest activity the float model reaches.
  const calibration = relax(false).activity;
  const peak = (values: Float32Array) => values.reduce((a, v) => Math.max(a, v), 0) || 1;
  const { inputs, drive } = twoChannelEncoding(signal, count, n, D, m);
  const lateral = tf.tidy(() => {
    const d = tf.tensor2d(D, [n, m]);
    const gram = tf.matMul(d, d, true, false);
    // −(DᵀD − I): zero on the diagonal inside the image; an atom cut by the border has ‖d‖ < 1 and keeps 1 − ‖d‖².
    return tf.neg(tf.sub(gram, tf.eye(m))).dataSync() as Float32Array;
  });
  const network = checkNetwork({
    family: 'lca',
    input: { name: 'signal', size: 2 * n },
    populations: [
      { name: 'a', size: m, activation: 'relu', bias: new Float32Array(m).fill(-o.lambda), maxActivity: peak(calibration[0]!) },
      ...headLayers.map((h, i) => (h.population.activation === 'relu' ? { ...h.population, maxActivity: peak(calibration[i + 1]!) } : h.population)),
    ],
    projections: [
      { name: 'D', from: 'signal', to: 'a', weight: drive, role: 'input', storedWeights: kernel.length },
      { name: 'minus_G', from: 'a', to: 'a', weight: lateral, role: 'lateral', storedWeights: 0 },
      ...headLayers.map((h) => h.projection),
    ],
    readout: 'readout',
  });
  const score = (readout: Float32Array) => argmaxAccuracy(readout, labels, classes);
  return {
    family: 'lca',
    network,
    documentation: { calibration: `the two-channel input scale over the ${count} evaluated test images (the LCANet has no spiking NIR form)` },
    inputs,
    labels,
    count,
    measure() {
      const { activity, events, steps, seconds } = relax(true);
      const layers: Record<string, Record<string, number>> = { ...events!.total };
      headLayers.forEach((h, i) => {
        layers[h.layer.name] = layerCounts(h.layer, activity[i]!, activity[i + 1]!, count);
      });
      const record = { family: 'lca', inferences: count, stepsPerInference: steps, layers: normalizeCounts(layers, 'lca-conv.counts'), origin: `float LCA relaxation, ${steps} steps, then the ${head.kind} head once (graded activity)` };
      return { activity: record, accuracy: score(activity[activity.length - 1]!), seconds };
    },
    score,
    dispose() {
      tf.dispose([params.dictionary, images]);
    },
  };
}

export const lcaConvHardware: HardwareAdapter = { kind: 'lca-conv', fromSpec: false, build };
