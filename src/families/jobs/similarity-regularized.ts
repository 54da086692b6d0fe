/**
 * `similarity-regularized`: Li et al. (NeurIPS 2019), "Learning from brains how to regularize machines",
 * on a small CNN (src/learning/small-cnn.ts): does pulling a network's representational similarity toward a
 * brain-like one make it more robust, beyond what any similarity target (the shuffled control) does?
 *
 * Arms, all from the same initialisation, the same task batches in the same order and the same optimiser
 * (src/learning/similarity/train-regularized.ts):
 * - `baseline`: the task loss alone (the paper's "None", α = 0);
 * - per target `<name>`: L_task + α·mean_{i≠j}[atanh S^model − atanh S^target]², S^model mixing both conv
 *   layers by learned softmax weights γ (recorded per epoch);
 * - per target `<name>-shuffled`: the same with the target shuffled (the mandatory control).
 * Targets (src/learning/similarity/targets/): `synthetic-v1` (the Gabor-energy population with Poisson
 * repeats, SNR-weighted), `responses` (a .npy/.npz/HDF5/CSV file), `frozen-model` (the readout of a run
 * folder's model, e.g. the LCA code of an `lca-dictionary` dictionary), `pixels` (with threshold).
 *
 * Regularisation stimuli: the last `stimuli` training images, held out of the task training set (Li's
 * stimuli are images the classifier is not trained on); `stimuliPerStep` of them per step, all their pairs.
 *
 * Evaluated per arm: clean test accuracy; accuracy under Gaussian, uniform and salt-and-pepper noise on
 * `noiseLevels` levels linspace(0, noiseMax), clipped to each image's range (src/data/noise-grid.ts); the
 * MNIST-C corruptions (mean accuracy and each); the median minimal adversarial perturbation in L∞ and L2 over
 * the clean-correct examples among the first `minimalExamples` (PGD-margin bisection, the paper's metric,
 * src/attacks/minimal-perturbation.ts); robust accuracy under `attacks` at `robustEpsilons` (L∞); and per
 * epoch the representational similarity to the target, the correlation of the off-diagonal entries of
 * S^model and S^target on the first `evalStimuli` stimuli (also per layer).
 *
 * Run folder: metrics.jsonl (per arm and epoch: losses, accuracies, γ, similarity correlations; then the
 * evaluations), summary.json (per arm, stable keys), similarity-<target>.png (target | baseline | regularized
 * | shuffled target | shuffled arm, stimuli sorted by class, grey −1…1), noise-<kind>.svg (accuracy against
 * noise level, every arm), model-<arm>/ (parameters).
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SpecError } from '../../base/errors.js';
import { makeRng, type Rng } from '../../base/rng.js';
import { attackModel } from '../../attacks/attack-model.js';
import type { DynamicsClassifier } from '../../attacks/classifier.js';
import { corruptionAccuracy } from '../../attacks/corruption-accuracy.js';
import { evaluateRobustness } from '../../attacks/evaluate.js';
import { minimalPerturbation, summarizeMinimalPerturbation } from '../../attacks/minimal-perturbation.js';
import { functionClassifier } from '../../attacks/models/function-classifier.js';
import { buildAttacks } from '../../attacks/protocol.js';
import { pgd } from '../../attacks/pgd.js';
import { selectCorruptions } from '../../data/corruptions.js';
import { makeDataset, subset, toTensors, type Dataset } from '../../data/index.js';
import { linspace, NOISE_KINDS, noisyDataset } from '../../data/noise-grid.js';
import { crossEntropy } from '../lca/lcanet-head.js';
import { adam, sgd, type OptimizerState, type ParamMap } from '../../learning/optimizers.js';
import { GAMMA_PARAM, similarityRegularizer, type LayerFeatures, type SimilarityRegularizer } from '../../learning/similarity/regularizer.js';
import { similarityCorrelation } from '../../learning/similarity/similarity.js';
import { frozenModelTarget, pixelTarget, responseFileTarget, shuffledTarget, syntheticV1Target, type SimilarityTarget } from '../../learning/similarity/targets/index.js';
import { trainRegularized } from '../../learning/similarity/train-regularized.js';
import { initSmallCnn, smallCnnLayers, smallCnnLogits, type SmallCnnSpec } from '../../learning/small-cnn.js';
import { loadModel, saveModel } from '../../runs/model-store.js';
import { tileGridPng } from '../../runs/png.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import type { LineFigure } from '../../runs/plot/figure.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { systems } from '../registry.js';

const responseSettings = {
  snr: z.boolean().optional().describe('weight units by σ/η from the repeats (default: when there are repeats)'),
  centre: z.boolean().default(true).describe('subtract the mean response over stimuli before the cosine'),
};

const targetSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('synthetic-v1'),
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('v1'),
    units: z.int().min(1).default(500),
    repeats: z.int().min(1).default(10),
    seed: z.int().min(0).optional().describe('population and noise seed (default: the run seed)'),
    frequencies: z.tuple([z.number().positive(), z.number().positive()]).optional(),
    peakRange: z.tuple([z.number().positive(), z.number().positive()]).optional(),
    halfSaturation: z.number().positive().optional(),
    ...responseSettings,
  }),
  z.strictObject({
    kind: z.literal('responses'),
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('responses'),
    file: z.string().describe('.npy, .npz, .h5/.hdf5 or .csv; stimuli × [repeats ×] units; its own images (npz/HDF5 `images`) or else the job\'s stimuli'),
    responses: z.string().optional().describe('npz member / HDF5 dataset of the responses (default responses)'),
    images: z.string().optional().describe('npz member / HDF5 dataset of the stimulus images (default images)'),
    ...responseSettings,
  }),
  z.strictObject({
    kind: z.literal('frozen-model'),
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('lca'),
    from: z.string().describe('run folder whose model/ holds the frozen model (e.g. an lca-dictionary run)'),
  }),
  z.strictObject({
    kind: z.literal('pixels'),
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('pixels'),
    threshold: z.number().min(0).lt(1).optional().describe('Attias et al.: |S| > threshold → ±1, else 0 (FMNIST–FMNIST: 0.8)'),
  }),
]);

export const similarityRegularizedOptions = z.strictObject({
  targets: z.array(targetSchema).min(1).describe('each target gives a regularized arm and its shuffled control'),
  alpha: z.number().positive().default(10).describe('α, weight of the similarity loss (Li: 20; Attias FMNIST: 10)'),
  centring: z.enum(['stimulus-mean', 'running-channel-mean']).default('stimulus-mean').describe("'stimulus-mean': the paper's; 'running-channel-mean': the descendant code's EMA"),
  learnGamma: z.boolean().default(true).describe('learn the softmax layer weights γ (the paper) or keep them equal'),
  shuffle: z.enum(['stimuli', 'entries']).default('stimuli').describe('shuffled control: permute stimulus identities, or the off-diagonal entries'),
  stimuli: z.int().min(4).default(1000).describe('regularisation stimuli: the last n training images, held out of the task'),
  stimuliPerStep: z.int().min(2).default(32).describe('stimuli per step; all their pairs enter the loss'),
  evalStimuli: z.int().min(4).default(200).describe('stimuli on which the model–target similarity is measured each epoch'),
  conv1: z.int().min(1).default(8),
  conv2: z.int().min(1).default(16),
  kernel1: z.int().min(1).default(5),
  optimizer: z.enum(['adam', 'sgd']).default('adam'),
  lr: z.number().positive().default(0.001),
  gammaLr: z.number().positive().optional().describe('learning rate of the γ logits (default lr); a short run needs a larger one for γ to move'),
  momentum: z.number().min(0).max(1).default(0.9).describe('sgd only'),
  epochs: z.int().min(1).default(3),
  batchSize: z.int().min(1).default(64),
  trainExamples: z.int().min(1).optional().describe('task training images (default all but the stimuli)'),
  testExamples: z.int().min(1).optional().describe('test images for clean accuracy (default all)'),
  noiseLevels: z.int().min(2).default(10),
  noiseMax: z.number().positive().default(0.5),
  noiseExamples: z.int().min(1).default(1000).describe('first n test images for the noise grid'),
  corruptionExamples: z.int().min(0).default(500).describe('first n test images for MNIST-C (0: skip)'),
  minimalExamples: z.int().min(0).default(100).describe('first n test images for the minimal perturbation (0: skip)'),
  minimalSteps: z.int().min(1).default(20).describe('PGD steps per bisection probe'),
  bisections: z.int().min(1).default(7).describe('PGD finds L∞ points on the sphere, so the L∞ resolution is maxLinf / 2^bisections'),
  maxLinf: z.number().positive().default(0.1),
  maxL2: z.number().positive().default(3),
  robustEpsilons: z.array(z.number().positive()).default([0.02, 0.05, 0.1]).describe('L∞ radii of the robust accuracy'),
  attacks: z.array(z.string()).default(['pgd', 'apgd-ce']).describe('attacks of the robust accuracy (names of `neurodyn attack`)'),
  attackSteps: z.int().min(1).default(20),
  robustExamples: z.int().min(0).default(200).describe('first n test images for the robust accuracy (0: skip)'),
  evalBatch: z.int().min(1).default(500),
});
type Options = z.infer<typeof similarityRegularizedOptions>;
type TargetSpec = z.infer<typeof targetSchema>;

interface Arm {
  readonly name: string;
  readonly kind: 'baseline' | 'regularized' | 'shuffled';
  readonly target?: SimilarityTarget;
  /** The unshuffled target a shuffled arm controls for. */
  readonly reference?: SimilarityTarget;
}

function accuracy(logits: (x: tf.Tensor) => tf.Tensor2D, data: Dataset, batch: number): number {
  let correct = 0;
  for (let start = 0; start < data.count; start += batch) {
    const count = Math.min(batch, data.count - start);
    const { x, y } = toTensors(data, { start, count, layout: 'flat' });
    correct += tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits(x), 1), tf.cast(y, 'int32')), 'float32')).dataSync()[0]!);
    tf.dispose([x, y]);
  }
  return correct / data.count;
}

async function buildTarget(spec: TargetSpec, stimuli: Dataset, rng: Rng): Promise<SimilarityTarget> {
  switch (spec.kind) {
    case 'synthetic-v1': {
      const population = {
        units: spec.units,
        ...(spec.frequencies ? { frequencies: spec.frequencies } : {}),
        ...(spec.peakRange ? { peakRange: spec.peakRange } : {}),
        ...(spec.halfSaturation ? { halfSaturation: spec.halfSaturation } : {}),
      };
      const r = spec.seed !== undefined ? makeRng(spec.seed) : rng.split(`target-${spec.name}`);
      return syntheticV1Target(spec.name, stimuli, population, spec.repeats, { centre: spec.centre, ...(spec.snr !== undefined ? { snr: spec.snr } : {}) }, r);
    }
    case 'responses':
      return responseFileTarget(spec.name, spec.file, { centre: spec.centre, ...(spec.snr !== undefined ? { snr: spec.snr } : {}), ...(spec.responses ? { responses: spec.responses } : {}), ...(spec.images ? { images: spec.images } : {}) }, stimuli);
    case 'frozen-model':
      return frozenModelTarget(spec.name, spec.from, stimuli, (kind, options, dims) => systems.get(kind, `target ${spec.name}: system.kind of ${spec.from}`).create(options, dims));
    case 'pixels':
      return pixelTarget(spec.name, stimuli, spec.threshold);
  }
}

/** The first n stimuli's entries of a target, n × n. */
function topLeft(matrix: Float32Array, total: number, n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) out.set(matrix.subarray(i * total, i * total + n), i * n);
  return out;
}

async function run(context: JobContext<Options>): Promise<Metrics> {
  const { options: o, folder, say } = context;
  const full = context.data;
  if (full.train.height !== 28 || full.train.width !== 28) throw new SpecError('data.name', `the job's CNN and the MNIST-C corruptions take 28×28 images, got ${full.train.height}×${full.train.width}`);
  if (o.stimuli >= full.train.count) throw new SpecError('job.stimuli', `must be below the ${full.train.count} training images (they are held out of the task)`);
  if (o.stimuliPerStep > o.stimuli) throw new SpecError('job.stimuliPerStep', `must be at most job.stimuli (${o.stimuli}), got ${o.stimuliPerStep}`);
  const evalStimuli = Math.min(o.evalStimuli, o.stimuli);
  const taskCount = Math.min(o.trainExamples ?? full.train.count - o.stimuli, full.train.count - o.stimuli);
  const trainSet = subset(full.train, 0, taskCount);
  const stimuli = makeDataset({ ...subset(full.train, full.train.count - o.stimuli, o.stimuli), name: `${full.train.name}[last ${o.stimuli}]` });
  const testSet = o.testExamples ? subset(full.test, 0, Math.min(o.testExamples, full.test.count)) : full.test;
  const names = o.targets.map((t) => t.name);
  if (new Set(names).size !== names.length) throw new SpecError('job.targets', `target names must differ, got ${names.join(', ')}`);
  for (const t of o.targets) {
    if (t.kind === 'frozen-model') {
      // The spec's system is the frozen model's: checked so that a spec says what it encodes with.
      const m = loadModel(t.from);
      tf.dispose(Object.values(m.params));
      if (m.system.kind !== context.spec.system.kind) throw new SpecError('system.kind', `target ${t.name}: ${t.from} holds a ${m.system.kind} model but the spec's system is ${context.spec.system.kind}; name the frozen model's system`);
    }
  }

  // Targets and their controls.
  const arms: Arm[] = [{ name: 'baseline', kind: 'baseline' }];
  const targets: SimilarityTarget[] = [];
  for (const spec of o.targets) {
    const began = performance.now();
    const target = await buildTarget(spec, stimuli, context.rng);
    const control = shuffledTarget(target, o.shuffle, context.rng.split(`shuffle-${spec.name}`));
    targets.push(target);
    arms.push({ name: target.name, kind: 'regularized', target }, { name: control.name, kind: 'shuffled', target: control, reference: target });
    folder.appendMetrics({ phase: 'target', target: target.name, description: target.description, stimuli: target.stimuli.count, seconds: (performance.now() - began) / 1000, ...target.details });
    say(`target ${target.name}: ${target.description} (${target.stimuli.count} stimuli${target.details ? `; ${Object.entries(target.details).map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`).join(', ')}` : ''})`);
  }

  const cnn: SmallCnnSpec = { height: 28, width: 28, classes: trainSet.classes, conv1: o.conv1, conv2: o.conv2, kernel1: o.kernel1 };
  const features: LayerFeatures = (params, x) => smallCnnLayers(cnn, params, x);
  const layerCount = 2;
  const evalStimulusSet = subset(stimuli, 0, evalStimuli);
  const { x: evalX, y: evalY } = toTensors(evalStimulusSet, { start: 0, count: evalStimuli, layout: 'nhwc' });
  evalY.dispose();
  const results: Record<string, Record<string, unknown>> = {};
  const finalSimilarity: Record<string, Float32Array> = {};
  const noiseCurves: Record<string, Record<string, number[]>> = {};
  const levels = linspace(o.noiseMax, o.noiseLevels);
  try {
    for (const arm of arms) {
      const regularizer: SimilarityRegularizer | undefined = arm.target
        ? similarityRegularizer({ alpha: o.alpha, centring: o.centring, learnGamma: o.learnGamma })
        : undefined;
      const measureRegularizer = regularizer ?? similarityRegularizer({ alpha: 0, centring: 'stimulus-mean' });
      const init = { ...initSmallCnn(cnn, context.rng.split('init')), ...(regularizer ? { [GAMMA_PARAM]: regularizer.initGamma(layerCount) } : {}) };
      const modifies = Object.keys(init).filter((k) => k !== GAMMA_PARAM || o.learnGamma);
      const rates = Object.fromEntries(Object.keys(init).map((k) => [k, k === GAMMA_PARAM ? (o.gammaLr ?? o.lr) : o.lr]));
      const gammaTrajectory: number[][] = [];
      const correlationTrajectory: Record<string, number>[] = [];
      /** Model similarity on the eval stimuli (stimulus-mean centring: a fixed set, no running state), mixed and per layer. */
      const measure = (params: ParamMap) => {
        const s = tf.tidy(() => {
          const r = measureRegularizer.similarity(params, features, evalX, measureRegularizer.initState());
          return [r.similarity, ...r.layers].map((t) => t.dataSync() as Float32Array);
        });
        const gamma = tf.tidy(() => measureRegularizer.gamma(params, layerCount).dataSync() as Float32Array);
        return { mixed: s[0]!, layers: s.slice(1), gamma: Array.from(gamma) };
      };
      const correlations = (m: ReturnType<typeof measure>) => {
        const out: Record<string, number> = {};
        for (const t of targets) {
          const ref = topLeft(t.matrix, t.stimuli.count, evalStimuli);
          out[`r_${t.name}`] = similarityCorrelation(m.mixed, ref, evalStimuli);
          m.layers.forEach((l, k) => (out[`r_${t.name}_layer${k + 1}`] = similarityCorrelation(l, ref, evalStimuli)));
        }
        if (arm.kind === 'shuffled') out[`r_${arm.target!.name}`] = similarityCorrelation(m.mixed, topLeft(arm.target!.matrix, arm.target!.stimuli.count, evalStimuli), evalStimuli);
        return out;
      };
      const progress = context.progress(`training ${arm.name}`, o.epochs * trainSet.count);
      let trained: { params: ParamMap; state: OptimizerState };
      try {
        trained = await trainRegularized({
          params: init,
          modifies,
          taskLoss: (params, x, y) => {
            const logits = smallCnnLogits(cnn, params, x);
            return { loss: crossEntropy(logits, y), accuracy: tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(y, 'int32')), 'float32')) as tf.Scalar };
          },
          features,
          ...(regularizer ? { regularizer, target: { stimuli: arm.target!.stimuli, matrix: arm.target!.matrix } } : {}),
          stimuliPerStep: o.stimuliPerStep,
          optimizer: o.optimizer === 'adam' ? adam({ lr: rates }) : sgd({ lr: rates, momentum: o.momentum }),
          data: trainSet,
          layout: 'nhwc',
          batchSize: o.batchSize,
          epochs: o.epochs,
          rng: context.rng.split('batches'),
          onBatch: (n) => progress.tick(n),
          onEpoch: (report, params) => {
            const testAccuracy = accuracy((x) => smallCnnLogits(cnn, params, x), testSet, o.evalBatch);
            const m = measure(params);
            const r = correlations(m);
            gammaTrajectory.push(m.gamma);
            correlationTrajectory.push(r);
            folder.appendMetrics({ phase: 'train', arm: arm.name, epoch: report.epoch, seconds: report.seconds, ...report.metrics, test_accuracy: testAccuracy, gamma: m.gamma, ...r });
            say(
              `${arm.name} epoch ${report.epoch + 1}/${o.epochs}: task loss ${report.metrics.task_loss?.toFixed(4)}, similarity loss ${report.metrics.similarity_loss?.toFixed(4)}, test accuracy ${(100 * testAccuracy).toFixed(2)}%, γ [${m.gamma.map((g) => g.toFixed(3)).join(', ')}], ${Object.entries(r).filter(([k]) => !k.includes('layer')).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')} (${report.seconds.toFixed(0)} s)`,
            );
          },
        });
      } finally {
        progress.done();
      }
      const params = trained.params;
      tf.dispose(Object.values(trained.state.slots).flatMap((slot) => Object.values(slot)));
      try {
        finalSimilarity[arm.name] = measure(params).mixed;
        const logits = (x: tf.Tensor) => smallCnnLogits(cnn, params, x);
        const classifier: DynamicsClassifier = functionClassifier({ name: `cnn ${arm.name}`, classes: cnn.classes, imageShape: [28, 28, 1], logits });
        const evaluation = evaluateArm(context, arm.name, classifier, logits, testSet, levels);
        noiseCurves[arm.name] = evaluation.noise;
        results[arm.name] = { kind: arm.kind, ...evaluation.summary, gamma: gammaTrajectory[gammaTrajectory.length - 1], gamma_trajectory: gammaTrajectory, similarity_correlation: correlationTrajectory };
        saveModel(folder, { system: { kind: 'small-cnn', ...cnn }, trainedBy: arm.kind === 'baseline' ? 'backprop' : `backprop+similarity(${arm.target!.name}, α ${o.alpha})`, meta: { arm: arm.name, inputShape: [28, 28, 1] } }, params, `model-${arm.name}`);
      } finally {
        tf.dispose(Object.values(params));
      }
    }
  } finally {
    evalX.dispose();
  }

  writePictures(context, targets, arms, finalSimilarity, evalStimulusSet, noiseCurves, levels);
  const summaryOf = (name: string, key: string) => results[name]?.[key] as number | undefined;
  const comparisons = targets.map((t) => {
    const keys = ['clean_accuracy', 'noise_accuracy_mean', 'mnist_c_accuracy', 'median_min_linf', 'median_min_l2'];
    return { target: t.name, ...Object.fromEntries(keys.map((k) => [k, { baseline: summaryOf('baseline', k), regularized: summaryOf(t.name, k), shuffled: summaryOf(`${t.name}-shuffled`, k) }])) };
  });
  return {
    arms: results,
    comparisons,
    noise_levels: levels,
    alpha: o.alpha,
    centring: o.centring,
    train_examples: trainSet.count,
    test_examples: testSet.count,
    stimuli: stimuli.count,
    epochs: o.epochs,
  };
}

function evaluateArm(context: JobContext<Options>, arm: string, classifier: DynamicsClassifier, logits: (x: tf.Tensor) => tf.Tensor2D, testSet: Dataset, levels: readonly number[]) {
  const { options: o, folder, say, rng } = context;
  const began = performance.now();
  const clean = accuracy(logits, testSet, o.evalBatch);
  const noiseSet = subset(testSet, 0, Math.min(o.noiseExamples, testSet.count));
  const noise: Record<string, number[]> = {};
  for (const kind of NOISE_KINDS) {
    noise[kind] = levels.map((level) => accuracy(logits, noisyDataset(noiseSet, kind, level, rng.split('noise')), o.evalBatch));
    folder.appendMetrics({ phase: 'noise', arm, kind, levels, accuracy: noise[kind] });
  }
  const allNoise = Object.values(noise).flatMap((a) => a.slice(1));
  const noiseMean = allNoise.reduce((s, v) => s + v, 0) / allNoise.length;
  say(`${arm}: clean ${(100 * clean).toFixed(2)}%; noise at ${levels[levels.length - 1]}: ${NOISE_KINDS.map((k) => `${k} ${(100 * noise[k]![levels.length - 1]!).toFixed(1)}%`).join(', ')}; mean over noisy levels ${(100 * noiseMean).toFixed(2)}%`);

  let mnistC: { mean: number; each: Record<string, number> } | undefined;
  if (o.corruptionExamples > 0) {
    const set = subset(testSet, 0, Math.min(o.corruptionExamples, testSet.count));
    const each: Record<string, number> = {};
    for (const r of corruptionAccuracy(classifier, set, selectCorruptions(['mnist-c']), rng.split('mnist-c'), o.evalBatch)) each[r.corruption.replace('mnist-c/', '')] = r.result.accuracy;
    const values = Object.values(each);
    mnistC = { mean: values.reduce((s, v) => s + v, 0) / values.length, each };
    folder.appendMetrics({ phase: 'mnist-c', arm, mean: mnistC.mean, ...each });
    say(`${arm}: MNIST-C mean accuracy ${(100 * mnistC.mean).toFixed(2)}% on ${set.count} images`);
  }

  const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
  const minimal: Record<string, { median: number; examples: number }> = {};
  if (o.minimalExamples > 0) {
    const count = Math.min(o.minimalExamples, testSet.count);
    const { x, y } = toTensors(testSet, { start: 0, count, layout: 'flat' });
    try {
      for (const [norm, max] of [['linf', o.maxLinf], ['l2', o.maxL2]] as const) {
        const sizes = minimalPerturbation({ model, attack: pgd({ steps: o.minimalSteps, loss: 'margin' }), x, labels: y as tf.Tensor1D, norm, maxEpsilon: max, bisections: o.bisections, rng: rng.split(`minimal-${norm}`) });
        // Over the clean-correct examples (the misclassified ones are NaN); unbroken ones are ∞ and a median on them is "> max".
        const summary = summarizeMinimalPerturbation(sizes, max);
        // NaN with no clean-correct example; ∞ when the median example was never broken within the search.
        minimal[norm] = { median: summary.median ?? (summary.cleanCorrect === 0 ? Number.NaN : Number.POSITIVE_INFINITY), examples: summary.cleanCorrect };
      }
    } finally {
      tf.dispose([x, y]);
    }
    folder.appendMetrics({ phase: 'minimal-perturbation', arm, ...Object.fromEntries(Object.entries(minimal).map(([k, v]) => [`median_${k}`, v.median])), examples: minimal.linf?.examples });
    say(`${arm}: median minimal perturbation L∞ ${minimal.linf!.median.toFixed(4)}, L2 ${minimal.l2!.median.toFixed(3)} over ${minimal.linf!.examples} clean-correct examples (PGD-${o.minimalSteps} margin, ${o.bisections} bisections)`);
  }

  let robust: Record<string, number> | undefined;
  if (o.robustExamples > 0) {
    const count = Math.min(o.robustExamples, testSet.count);
    const { x, y } = toTensors(testSet, { start: 0, count, layout: 'flat' });
    try {
      const attacks = buildAttacks(o.attacks, { pgdSteps: o.attackSteps, apgdSteps: o.attackSteps, restarts: 1, queries: 1000 }, () => model);
      const report = evaluateRobustness({ model, attacks, x, labels: y as tf.Tensor1D, norm: 'linf', epsilons: o.robustEpsilons, rng: rng.split('robust'), batchSize: o.evalBatch });
      robust = Object.fromEntries(report.perEpsilon.map((p) => [String(p.epsilon), p.robustAccuracy]));
    } finally {
      tf.dispose([x, y]);
    }
    folder.appendMetrics({ phase: 'robust', arm, attacks: o.attacks, ...robust });
    say(`${arm}: robust accuracy (L∞, ${o.attacks.join('+')}) ${Object.entries(robust).map(([e, a]) => `ε ${e}: ${(100 * a).toFixed(1)}%`).join(', ')}`);
  }
  return {
    noise,
    summary: {
      clean_accuracy: clean,
      noise_accuracy: noise,
      noise_accuracy_mean: noiseMean,
      ...(mnistC ? { mnist_c_accuracy: mnistC.mean, mnist_c: mnistC.each } : {}),
      ...(minimal.linf ? { median_min_linf: minimal.linf.median, median_min_l2: minimal.l2!.median, minimal_examples: minimal.linf.examples } : {}),
      ...(robust ? { robust_accuracy_linf: robust } : {}),
      evaluation_seconds: (performance.now() - began) / 1000,
    },
  };
}

function writePictures(
  context: JobContext<Options>,
  targets: readonly SimilarityTarget[],
  arms: readonly Arm[],
  finalSimilarity: Readonly<Record<string, Float32Array>>,
  evalStimuli: Dataset,
  noiseCurves: Readonly<Record<string, Record<string, number[]>>>,
  levels: readonly number[],
): void {
  const { folder } = context;
  const n = evalStimuli.count;
  // Stimuli sorted by class, so block structure shows.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => evalStimuli.labels[a]! - evalStimuli.labels[b]! || a - b);
  const sorted = (m: Float32Array) => {
    const out = new Float32Array(n * n);
    order.forEach((r, i) => order.forEach((c, j) => (out[i * n + j] = m[r * n + c]!)));
    return out;
  };
  for (const t of targets) {
    const shuffledArm = arms.find((a) => a.kind === 'shuffled' && a.reference === t)!;
    const tiles = [topLeft(t.matrix, t.stimuli.count, n), finalSimilarity.baseline!, finalSimilarity[t.name]!, topLeft(shuffledArm.target!.matrix, t.stimuli.count, n), finalSimilarity[shuffledArm.name]!];
    const values = new Float32Array(tiles.length * n * n);
    tiles.forEach((m, k) => values.set(sorted(m), k * n * n));
    folder.writeBytes(`similarity-${t.name}.png`, tileGridPng(values, n, n, { columns: tiles.length, scale: Math.max(1, Math.floor(300 / n)), gap: 4, gapGrey: 255, range: [-1, 1] }));
  }
  for (const kind of NOISE_KINDS) {
    folder.writeText(
      `noise-${kind}.svg`,
      renderFigureSvg(noiseFigure(kind, levels, arms.map((a) => ({ name: a.name, accuracy: noiseCurves[a.name]![kind]! })))),
    );
  }
}

/** noise-<kind>.svg: accuracy against the noise level, one line per arm. */
export function noiseFigure(kind: string, levels: readonly number[], arms: ReadonlyArray<{ name: string; accuracy: readonly number[] }>): LineFigure {
  return {
    kind: 'line',
    id: `noise-${kind}`,
    title: `Accuracy under ${kind} noise (clipped to each image's range)`,
    x: { label: 'noise level' },
    y: { label: 'accuracy', domain: [0, 1] },
    series: arms.map((a) => ({ name: a.name, x: [...levels], y: [...a.accuracy] })),
  };
}

export const similarityRegularized: JobEntry<Options> = {
  kind: 'similarity-regularized',
  description: "Li et al. 2019's neural representational-similarity regularizer on a small CNN: baseline, regularized and shuffled-control arms per target; noise, MNIST-C and minimal-perturbation robustness",
  options: similarityRegularizedOptions,
  systems: ['lca-conv', 'lca'],
  traces: "no: its evaluations relax no system (the trained networks are feed-forward CNNs; the spec's system only names the frozen-model target's encoder); trace that model's run folder with `neurodyn relax`",
  run,
};
