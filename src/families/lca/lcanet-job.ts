/**
 * LCANet (Teti et al., ICML 2022; reference/peers.md §3b): an LCA front end with a learned dictionary,
 * followed by a small CNN/MLP head trained by backprop, compared with the same network whose front end is
 * the ordinary layer the LCA replaces (+ ReLU), trained the same way. Both see per-sample normalised images.
 *
 * Front ends: the convolutional `lca-conv` (baseline: a learned convolution of the same geometry; 'cnn' or
 * 'mlp' head), or the fully connected `lca` (baseline: a learned dense layer of as many units as atoms; its
 * code has no spatial layout, so only the 'mlp' head, which reads the code as a [1, 1, k] map).
 *
 * 1. Dictionary: loaded from a `lca-dictionary` run folder (`dictionaryFrom`), or learned here with lcapt's
 *    Hebbian rule on the first `dictionaryExamples` training images for `dictionaryEpochs`.
 * 2. Frozen front end (default): every image is encoded once (`run.maxSteps` LCA steps from u = 0) and the
 *    head is trained on the cached codes. With `fineTune`, the dictionary is trained with the head by
 *    backprop through the relaxation, in the gradient mode `run.gradient` (e.g. 'truncated(10)',
 *    'implicit'), its atoms renormalised after each step; every batch is then relaxed with the tape on.
 * 3. Evaluation on the test split: clean accuracy, and accuracy under additive Gaussian noise of standard
 *    deviation σ in pixel units (x + σ·N(0, 1), clipped to [0, 1], as the CIFAR-10-C/MNIST-C
 *    gaussian_noise corruption), for each σ in `noise`, for both networks.
 *
 * Summary: `test_accuracy` (LCANet), `baseline_test_accuracy`, `noise_accuracy` {lcanet: {σ: acc},
 * baseline: {σ: acc}} (on the first `noiseExamples` test images, with the clean accuracy on those same
 * images beside it when they are a subset), `fraction_active` of the test codes. Models: `model/` (LCANet: `lca.dictionary` and
 * `head.*`) and `baseline-model/` (`front.*`, `head.*`), with shapes and options in `meta`.
 *
 * Resumable: the dictionary learning, the LCANet head and the baseline each checkpoint after every epoch
 * (labels `dictionary`, `lcanet`, `baseline`; families/checkpointed-train.ts); `--resume` replays the
 * finished trainings from their checkpoints and continues the interrupted one, to the same parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { DataError, SpecError, withSpecPath } from '../../base/errors.js';
import { parseGradientMode } from '../../core/gradient-mode.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { batchAccuracy, datasetAccuracy, makeDataset, subset, toTensors, type Dataset } from '../../data/index.js';
import { withGaussianNoise } from '../../data/corruptions.js';
import { backprop } from '../../learning/backprop.js';
import { lcaHebbianRule, unitNormAtoms } from './dictionary-rules.js';
import { convFrontEnd, crossEntropy, denseFrontEnd, headLogits, initConvFrontEnd, initDenseFrontEnd, initHead, type ConvFrontEndSpec, type DenseFrontEndSpec, type HeadSpec } from './lcanet-head.js';
import { adam, optimizerStateTensors, sgd, type ParamMap } from '../../learning/optimizers.js';
import { openCheckpoints, type CheckpointStore } from '../../runs/checkpoints.js';
import { trainWithCheckpoints } from '../checkpointed-train.js';
import { loadModel, saveModel } from '../../runs/model-store.js';
import { tileGridPng } from '../../runs/png.js';
import { normalizeSamples, randomDictionary, type LcaState } from './system-common.js';
import type { LcaConvSystem } from './system-conv.js';
import type { LcaSystem } from './system.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { recordEvaluationTraces, traceExamples } from '../traces.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import { accuracyVsNoise } from '../../runs/plot/run-figures.js';

export const lcanetOptions = z.strictObject({
  dictionaryFrom: z.string().optional().describe('run folder of an lca-dictionary run whose model/ holds a dictionary of this system\'s shape; default: learn it here'),
  dictionaryEpochs: z.int().min(1).default(1).describe('Hebbian dictionary learning epochs (when not loaded)'),
  dictionaryExamples: z.int().min(1).default(10000).describe('training images used to learn the dictionary'),
  eta: z.number().positive().default(0.01).describe('Hebbian learning rate η (lcapt default 0.01)'),
  fineTune: z.boolean().default(false).describe('train the dictionary with the head by backprop through the relaxation (run.gradient)'),
  head: z.enum(['cnn', 'mlp']).default('cnn'),
  channels: z.int().min(1).default(32).describe("filters of the 'cnn' head's convolution"),
  hidden: z.int().min(1).default(256).describe("hidden units of the 'mlp' head"),
  epochs: z.int().min(1).default(5),
  batchSize: z.int().min(1).default(64),
  lr: z.number().positive().default(0.001).describe('Adam learning rate of the classifier'),
  trainExamples: z.int().min(1).optional().describe('use only the first n training images (default all)'),
  testExamples: z.int().min(1).optional().describe('use only the first n test images (default all)'),
  noise: z.array(z.number().min(0)).default([0.1, 0.2, 0.3]).describe('standard deviations of the Gaussian pixel noise'),
  noiseExamples: z.int().min(1).optional().describe('corrupt only the first n test images (default all used for the clean accuracy)'),
  baseline: z.boolean().default(true).describe('also train the same network with a plain convolution instead of the LCA'),
  encodeBatch: z.int().min(1).default(200).describe('images relaxed at once when encoding'),
});
type Options = z.infer<typeof lcanetOptions>;


function accuracyOf(logitsOf: (x: tf.Tensor) => tf.Tensor2D, dataset: Dataset, layout: 'flat' | 'nhwc'): number {
  return datasetAccuracy(logitsOf, dataset, { layout });
}

async function run(context: JobContext<Options>): Promise<Metrics> {
  const { spec, options, folder, say } = context;
  const full = context.data;
  const trainSet = options.trainExamples ? subset(full.train, 0, Math.min(options.trainExamples, full.train.count)) : full.train;
  const testSet = options.testExamples ? subset(full.test, 0, Math.min(options.testExamples, full.test.count)) : full.test;
  const inputSize = trainSet.height * trainSet.width;
  const system = context.system.create(spec.system, { inputSize }) as LcaConvSystem | LcaSystem;
  const conv = isConvolutional(system);
  const layout = conv ? 'nhwc' : 'flat';
  if (isConvolutional(system) && system.options.inputChannels !== 1) throw new SpecError('system.inputChannels', `the datasets are greyscale: use 1, got ${system.options.inputChannels}`);
  if (!conv && options.head === 'cnn') throw new SpecError('job.head', "a fully connected LCA's code has no spatial layout for the 'cnn' head's convolution: use 'mlp'");
  const dictionaryShape = isConvolutional(system) ? system.dictionaryShape() : [inputSize, system.options.features];
  /** The system's input for images in its layout; the gram form's b and G come from `prepare` (differentiable). */
  const inputOf = (x: tf.Tensor, dictionary: tf.Tensor) => (isConvolutional(system) ? { x } : system.prepare({ x }, { dictionary }));
  const iterations = spec.run.maxSteps;
  const gradient = parseGradientMode(spec.run.gradient, 'run.gradient');
  if (options.fineTune && gradient.kind === 'none') throw new SpecError('run.gradient', "fineTune needs a gradient through the relaxation: set run.gradient to 'unrolled', 'truncated(K)' or 'implicit'");

  // Each training (dictionary, LCANet head, baseline) checkpoints after every epoch; cleared once the run folder is committed.
  const checkpoints = openCheckpoints(folder.destination, spec, context.resume ?? false);
  folder.afterCommit(() => checkpoints.clear());

  // 1. The dictionary.
  let dictionary: tf.Tensor;
  if (options.dictionaryFrom) {
    const model = loadModel(options.dictionaryFrom);
    const loaded = model.params.dictionary ?? model.params['lca.dictionary'];
    const expected = dictionaryShape;
    if (!loaded || loaded.shape.join() !== expected.join()) {
      tf.dispose(Object.values(model.params));
      throw new DataError(`job.dictionaryFrom: ${options.dictionaryFrom} holds no dictionary of shape [${expected.join(', ')}] (this system's ${conv ? '[k, k, C, K]' : '[n, k]'}); found ${loaded ? `[${loaded.shape.join(', ')}]` : 'none'}`);
    }
    dictionary = loaded;
    tf.dispose(Object.values(model.params).filter((t) => t !== loaded));
    say(`dictionary loaded from ${options.dictionaryFrom}`);
  } else {
    const learnOn = subset(trainSet, 0, Math.min(options.dictionaryExamples, trainSet.count));
    const progress = context.progress('learning the dictionary', options.dictionaryEpochs * learnOn.count);
    try {
      const learned = await trainWithCheckpoints({
        params: { dictionary: randomDictionary(dictionaryShape, context.rng.split('dictionary')) },
        rule: withSpecPath('job', () => lcaHebbianRule({ system, iterations, eta: options.eta })),
        optimizer: sgd({ lr: 1 }),
        data: learnOn,
        layout,
        batchSize: options.batchSize,
        epochs: options.dictionaryEpochs,
        rng: context.rng.split('dictionary-batches'),
        project: unitNormAtoms(),
        onBatch: (examples) => progress.tick(examples),
      }, {
        checkpoints,
        label: 'dictionary',
        appendMetrics: (line) => folder.appendMetrics(line),
        say,
        epochLine: (report) => ({ phase: 'dictionary', epoch: report.epoch, seconds: report.seconds, ...report.metrics }),
        afterEpoch: (_line, report) => say(`dictionary epoch ${report.epoch + 1}: energy ${report.metrics.energy?.toFixed(2)}, recon error ${report.metrics.recon_error_rel?.toFixed(3)}, fraction active ${report.metrics.fraction_active?.toFixed(4)} (${report.seconds.toFixed(0)} s)`),
      });
      dictionary = learned.params.dictionary!;
      tf.dispose(Object.values(optimizerStateTensors(learned.state)));
    } finally {
      progress.done();
    }
  }
  writeAtoms(folder, system, dictionary, trainSet.height);

  const [codeH, codeW, features] = isConvolutional(system) ? (system.operator.codeShape([1, trainSet.height, trainSet.width, 1]).slice(1) as [number, number, number]) : [1, 1, system.options.features];
  const headSpec: HeadSpec = { kind: options.head, inputShape: [codeH, codeW, features], classes: trainSet.classes, channels: options.channels, hidden: options.hidden };
  const headNames = (() => {
    const probe = initHead(headSpec, context.rng.split('names'));
    tf.dispose(Object.values(probe));
    return Object.keys(probe);
  })();

  /** Codes of a dataset's images, as a dataset of [H'·W', K] "images" (flat, so train() can batch them). */
  let activeSum = 0;
  let activeCount = 0;
  const encode = (dataset: Dataset, label: string): Dataset => {
    const per = codeH * codeW * features;
    const codes = new Float32Array(dataset.count * per);
    const progress = context.progress(`encoding ${label}`, dataset.count);
    try {
      for (let start = 0; start < dataset.count; start += options.encodeBatch) {
        const size = Math.min(options.encodeBatch, dataset.count - start);
        const { x, y } = toTensors(dataset, { start, count: size, layout });
        const input = tf.tidy(() => inputOf(x, dictionary));
        const sol = throwIfDiverged(simulate({ system: system as LcaSystem, params: { dictionary }, input, maxSteps: iterations }));
        const code = (sol.state as LcaState).a;
        codes.set(code.dataSync() as Float32Array, start * per);
        if (label === 'test') {
          activeSum += tf.tidy(() => tf.sum(tf.cast(tf.notEqual(code, 0), 'float32')).dataSync()[0]!);
          activeCount += code.size;
        }
        sol.dispose();
        tf.dispose([...new Set([x, y, ...Object.values(input)])]);
        progress.tick(size);
      }
    } finally {
      progress.done();
    }
    return makeDataset({ ...dataset, name: `${dataset.name}/lca-codes`, images: codes, height: codeH * codeW, width: features });
  };
  const codeLogits = (params: ParamMap) => (flat: tf.Tensor) => headLogits(headSpec, params, tf.reshape(flat, [flat.shape[0]!, codeH, codeW, features]));
  const lcanetLogits = (params: ParamMap) => (images: tf.Tensor) => {
    const dictionaryParam = params['lca.dictionary']!;
    const sol = simulate({ system: system as LcaSystem, params: { dictionary: dictionaryParam }, input: inputOf(images, dictionaryParam), maxSteps: iterations, gradient });
    const logits = headLogits(headSpec, params, (sol.state as LcaState).a.clone());
    sol.dispose();
    return logits;
  };

  // 2. The LCANet head (frozen front end: on cached codes).
  const trainCodes = options.fineTune ? undefined : encode(trainSet, 'train');
  const testCodes = options.fineTune ? undefined : encode(testSet, 'test');
  const lcanetParams = await trainClassifier(context, checkpoints, 'lcanet', {
    params: { ...initHead(headSpec, context.rng.split('lcanet-head')), ...(options.fineTune ? { 'lca.dictionary': dictionary } : {}) },
    modifies: options.fineTune ? [...headNames, 'lca.dictionary'] : headNames,
    data: trainCodes ?? trainSet,
    layout: options.fineTune ? layout : 'flat',
    logits: options.fineTune ? lcanetLogits : codeLogits,
    evaluate: (params) => (testCodes ? accuracyOf(codeLogits(params), testCodes, 'flat') : accuracyOf(lcanetLogits(params), testSet, layout)),
    ...(options.fineTune ? { project: unitNormAtoms('lca.dictionary') } : {}),
  });
  if (options.fineTune) dictionary = lcanetParams['lca.dictionary']!;
  const lcanetFinal = { ...lcanetParams, 'lca.dictionary': dictionary };
  const testAccuracy = testCodes ? accuracyOf(codeLogits(lcanetFinal), testCodes, 'flat') : accuracyOf(lcanetLogits(lcanetFinal), testSet, layout);
  const fractionActive = activeCount > 0 ? activeSum / activeCount : undefined;
  // The spec's probes on the LCA relaxation of the first test images with the final dictionary (the front end of the evaluation).
  if (spec.probes.length > 0) {
    const traced = traceExamples(testSet, layout);
    const input = tf.tidy(() => inputOf(traced.x, dictionary));
    try {
      recordEvaluationTraces(context, { label: 'lcanet', system: system as LcaSystem, params: { dictionary }, input, settings: { maxSteps: iterations }, examples: traced.examples, labels: traced.labels, condition: 'clean' });
    } finally {
      tf.dispose([...new Set([traced.x, ...Object.values(input)])]);
    }
  }

  // 3. The baseline: the same head behind the layer the LCA replaces (a learned convolution of its geometry, or a dense layer of as many units as atoms).
  const frontSpec: ConvFrontEndSpec | DenseFrontEndSpec = isConvolutional(system)
    ? { inputChannels: 1, features, kernelSize: system.options.kernelSize, stride: system.options.stride, padding: system.options.padding }
    : { inputSize, features };
  const front = (params: ParamMap, x: tf.Tensor) => ('kernelSize' in frontSpec ? convFrontEnd(frontSpec, params, x) : tf.reshape(denseFrontEnd(frontSpec, params, x), [x.shape[0]!, 1, 1, features]));
  const baselineLogits = (params: ParamMap) => (images: tf.Tensor) => headLogits(headSpec, params, front(params, normalizeSamples(images)));
  let baselineParams: ParamMap | undefined;
  let baselineAccuracy: number | undefined;
  if (options.baseline) {
    const frontInit = 'kernelSize' in frontSpec ? initConvFrontEnd(frontSpec, context.rng.split('baseline-front')) : initDenseFrontEnd(frontSpec, context.rng.split('baseline-front'));
    const init = { ...frontInit, ...initHead(headSpec, context.rng.split('baseline-head')) };
    baselineParams = await trainClassifier(context, checkpoints, 'baseline', {
      params: init,
      modifies: Object.keys(init),
      data: trainSet,
      layout,
      logits: baselineLogits,
      evaluate: (params) => accuracyOf(baselineLogits(params), testSet, layout),
    });
    baselineAccuracy = accuracyOf(baselineLogits(baselineParams), testSet, layout);
  }

  // 4. Gaussian noise (and the clean accuracy on the same images, when they are a subset).
  const noiseSet = options.noiseExamples ? subset(testSet, 0, Math.min(options.noiseExamples, testSet.count)) : testSet;
  const cleanOnNoiseSet =
    noiseSet === testSet
      ? undefined
      : {
          lcanet: testCodes ? accuracyOf(codeLogits(lcanetFinal), subset(testCodes, 0, noiseSet.count), 'flat') : accuracyOf(lcanetLogits(lcanetFinal), noiseSet, layout),
          ...(baselineParams ? { baseline: accuracyOf(baselineLogits(baselineParams), noiseSet, layout) } : {}),
        };
  const noiseLcanet: Record<string, number> = {};
  const noiseBaseline: Record<string, number> = {};
  for (const sigma of options.noise) {
    const key = String(sigma);
    const corrupted = withGaussianNoise(noiseSet, sigma, context.rng.split(`noise-${key}`));
    noiseLcanet[key] = options.fineTune ? accuracyOf(lcanetLogits(lcanetFinal), corrupted, layout) : accuracyOf(codeLogits(lcanetFinal), encode(corrupted, `σ=${key}`), 'flat');
    if (baselineParams) noiseBaseline[key] = accuracyOf(baselineLogits(baselineParams), corrupted, layout);
    folder.appendMetrics({ phase: 'noise', sigma, lcanet_accuracy: noiseLcanet[key], ...(baselineParams ? { baseline_accuracy: noiseBaseline[key] } : {}) });
    say(`Gaussian noise σ=${key}: LCANet ${(100 * noiseLcanet[key]!).toFixed(2)}%${baselineParams ? `, baseline CNN ${(100 * noiseBaseline[key]!).toFixed(2)}%` : ''}`);
  }

  const meta = {
    inputShape: conv ? [trainSet.height, trainSet.width, 1] : [inputSize],
    codeShape: [codeH, codeW, features],
    head: headSpec,
    iterations,
    normalizeInput: system.options.normalizeInput,
    frontEnd: `${system.kind}, ${options.fineTune ? 'fine-tuned by backprop' : 'frozen (Hebbian dictionary)'}`,
    dataset: trainSet.name,
  };
  saveModel(folder, { system: spec.system, trainedBy: options.fineTune ? 'lca-hebbian+backprop-through-lca' : 'lca-hebbian+backprop-head', meta }, lcanetFinal);
  if (baselineParams) saveModel(folder, { system: { kind: conv ? 'conv-relu' : 'dense-relu', ...frontSpec }, trainedBy: 'backprop', meta: { ...meta, frontEnd: conv ? 'learned convolution + ReLU' : 'learned dense layer + ReLU', front: frontSpec } }, baselineParams, 'baseline-model');
  tf.dispose([...new Set([...Object.values(lcanetFinal), ...Object.values(baselineParams ?? {})])]);
  const noiseRecords = options.noise.map((sigma) => ({ phase: 'noise', sigma, lcanet_accuracy: noiseLcanet[String(sigma)], ...(baselineParams ? { baseline_accuracy: noiseBaseline[String(sigma)] } : {}) }));
  const clean = cleanOnNoiseSet ? { lcanet_accuracy: cleanOnNoiseSet.lcanet, ...(cleanOnNoiseSet.baseline !== undefined ? { baseline_accuracy: cleanOnNoiseSet.baseline } : {}) } : { lcanet_accuracy: testAccuracy, ...(baselineAccuracy !== undefined ? { baseline_accuracy: baselineAccuracy } : {}) };
  const noiseFigure = accuracyVsNoise(noiseRecords, clean);
  if (noiseFigure) folder.writeText('accuracy-vs-noise.svg', renderFigureSvg(noiseFigure));
  return {
    test_accuracy: testAccuracy,
    ...(baselineAccuracy !== undefined ? { baseline_test_accuracy: baselineAccuracy } : {}),
    noise_accuracy: { lcanet: noiseLcanet, ...(baselineParams ? { baseline: noiseBaseline } : {}) },
    ...(cleanOnNoiseSet ? { clean_accuracy_on_noise_examples: cleanOnNoiseSet, noise_examples: noiseSet.count } : {}),
    ...(fractionActive !== undefined ? { fraction_active: fractionActive } : {}),
    iterations,
    train_examples: trainSet.count,
    test_examples: testSet.count,
    front_end: meta.frontEnd,
  };
}

function isConvolutional(system: LcaConvSystem | LcaSystem): system is LcaConvSystem {
  return system.kind === 'lca-conv';
}

interface ClassifierTraining {
  readonly params: ParamMap;
  readonly modifies: readonly string[];
  readonly data: Dataset;
  readonly layout: 'flat' | 'nhwc';
  readonly logits: (params: ParamMap) => (x: tf.Tensor) => tf.Tensor2D;
  readonly evaluate: (params: ParamMap) => number;
  readonly project?: (params: ParamMap) => ParamMap;
}

/** Backprop with Adam, the same for both arms; test accuracy after each epoch in metrics.jsonl. */
async function trainClassifier(context: JobContext<Options>, checkpoints: CheckpointStore, arm: 'lcanet' | 'baseline', t: ClassifierTraining): Promise<ParamMap> {
  const { options, folder, say } = context;
  const progress = context.progress(`training the ${arm} classifier`, options.epochs * t.data.count);
  try {
    const result = await trainWithCheckpoints({
      params: t.params,
      rule: backprop({
        name: `backprop-${arm}`,
        modifies: t.modifies,
        loss: (params, batch) => {
          const logits = t.logits(params)(batch.x);
          const accuracy = batchAccuracy(logits, batch.y!);
          return { loss: crossEntropy(logits, batch.y!), metrics: { train_accuracy: accuracy } };
        },
      }),
      optimizer: adam({ lr: options.lr }),
      data: t.data,
      layout: t.layout,
      batchSize: options.batchSize,
      epochs: options.epochs,
      rng: context.rng.split(`${arm}-batches`),
      ...(t.project ? { project: t.project } : {}),
      onBatch: (examples) => progress.tick(examples),
    }, {
      checkpoints,
      label: arm,
      appendMetrics: (line) => folder.appendMetrics(line),
      say,
      epochLine: (report, params) => ({ phase: arm, epoch: report.epoch, seconds: report.seconds, ...report.metrics, test_accuracy: t.evaluate(params) }),
      afterEpoch: (line, report) => say(`${arm} epoch ${report.epoch + 1}/${options.epochs}: loss ${report.metrics.loss?.toFixed(4)}, train accuracy ${(100 * (report.metrics.train_accuracy ?? 0)).toFixed(2)}%, test accuracy ${(100 * (line.test_accuracy as number)).toFixed(2)}% (${report.seconds.toFixed(0)} s)`),
    });
    tf.dispose(Object.values(result.state.slots).flatMap((slot) => Object.values(slot)));
    return result.params;
  } finally {
    progress.done();
  }
}

/** The atoms as tiles: k×k (first channel) for the convolutional dictionary, whole images for the fully connected one. */
function writeAtoms(folder: JobContext<Options>['folder'], system: LcaConvSystem | LcaSystem, dictionary: tf.Tensor, imageSide: number): void {
  const count = dictionary.shape[dictionary.rank - 1]!;
  const conv = isConvolutional(system);
  const side = conv ? system.options.kernelSize : imageSide;
  const atoms = tf.tidy(() => (conv ? tf.transpose(tf.slice(dictionary, [0, 0, 0, 0], [side, side, 1, -1]), [3, 0, 1, 2]) : tf.transpose(dictionary)).dataSync() as Float32Array);
  folder.writeBytes('atoms.png', tileGridPng(atoms, side, side, { columns: Math.ceil(Math.sqrt(count)), scale: conv ? 8 : 2, gap: 2, gapGrey: 255, range: 'symmetric', labels: Array.from({ length: count }, (_, i) => String(i)) }));
}

export const lcanet: JobEntry<Options> = {
  kind: 'lcanet',
  description: 'LCANet: LCA front end (convolutional or fully connected) + CNN/MLP head by backprop, against the same net with a plain conv/dense front end; clean and Gaussian-noise accuracy',
  options: lcanetOptions,
  systems: ['lca', 'lca-conv'],
  traces: 'yes',
  run,
};
