/**
 * `predify-noise`: the robustness claim of Predify (Choksi et al. 2021, Fig. 2 and the Gaussian-noise
 * curves), tested on a CPU-sized backbone. In one run:
 *
 * 1. the backbone (the system's conv blocks and head) is trained by backprop of cross-entropy, then frozen;
 * 2. its decoders are trained by the local reconstruction loss alone (`predifyDecoderRule`);
 * 3. on the first `testLimit` test images, clean, under Gaussian noise of each σ (x + σ·N(0,1), clipped to
 *    [0, 1], through the corruption interface of data/corruptions.ts) and under the named MNIST-C/CIFAR-10-C
 *    corruptions, the Predify dynamics run T = run.maxSteps steps, and per timestep t = 0…T it records
 *    the accuracy of the head on e_N(t) and, per layer, the mean correlation distance 1 − corr(e_n(t) of the
 *    corrupted image, e_n of the clean image) against the clean feedforward representation (`vs_clean_ff`)
 *    and against the clean image's own state at the same timestep (`vs_clean_t`).
 *
 * 4. with `attack`, on the first `attack.limit` test images, an L∞ attack at each ε (PGD, or APGD-CE/DLR,
 *    with restarts) against two surfaces, and the same per-timestep curves on the adversarial images:
 *    - `first`: the first pass alone (the backbone; (β, λ, α) = (1, 0, 0)): the adversarial images are made
 *      for the feedforward network and then given to the loop (the transfer setting of Predify's Fig. 4);
 *    - `loop`: the whole loop, adaptive: PGD differentiates the head on e_N(T) through all T timesteps
 *      (the `unrolled` gradient, every step's error-gradient term included), so the recurrence is attacked
 *      end to end. If the loop's robustness at T came from masked gradients, `first` would beat `loop` there.
 *
 * t = 0 is the feedforward pass: the backbone alone. The claim holds where accuracy at t > 0 rises above
 * t = 0 and the correlation distance falls with t. Both changes are paired (the same images at t and at 0),
 * so each curve carries the discordant counts (`gained`, `lost`) and the per-image spread of the distance
 * change, from which the summary gives 95% intervals of the change.
 *
 * Training checkpoints after every backbone and decoder epoch (runs/checkpoints.ts, labels `backbone` and
 * `decoders`); `--resume` continues an interrupted run from its last epoch.
 *
 * `model` names an earlier predify-noise run folder: its trained backbone and decoders are evaluated and
 * nothing is trained (the decoders' reconstruction loss does not involve β, λ, α, so the same model can be
 * evaluated at other settings). The clean images' dynamics are run once per batch and shared by every
 * condition.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SpecError } from '../../base/errors.js';
import type { Rng } from '../../base/rng.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { attackModel } from '../../attacks/attack-model.js';
import { apgd } from '../../attacks/apgd.js';
import { pgd } from '../../attacks/pgd.js';
import { corruptDataset, selectCorruptions, withGaussianNoise } from '../../data/corruptions.js';
import { makeDataset, subset, toTensors, type Dataset } from '../../data/index.js';
import { adam, optimizerStateTensors } from '../../learning/optimizers.js';
import type { LearningRule } from '../../learning/rule.js';
import type { ParamMap } from '../../learning/optimizers.js';
import { openCheckpoints, type CheckpointStore } from '../../runs/checkpoints.js';
import { loadModel, saveModel } from '../../runs/model-store.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import type { LineFigure } from '../../runs/plot/figure.js';
import type { Progress } from '../../runs/progress.js';
import { trainWithCheckpoints } from '../checkpointed-train.js';
import { recordEvaluationTraces, traceExamples } from '../traces.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { predifyBackboneRule, predifyDecoderRule } from './rule-predify.js';
import { predifyClassifier, predifyFirstPassClassifier } from './classifier-predify.js';
import type { PredifyParams, PredifySystem } from './system-predify.js';
import { pairedGainInterval, Z95 } from '../../base/statistics.js';

const ATTACK_SURFACES = ['first', 'loop'] as const;
const ATTACK_METHODS = ['pgd', 'apgd-ce', 'apgd-dlr'] as const;
type AttackMethod = (typeof ATTACK_METHODS)[number];
type AttackSurface = (typeof ATTACK_SURFACES)[number];

export const predifyNoiseOptions = z.strictObject({
  model: z.string().min(1).optional().describe('a predify-noise run folder whose model/ to evaluate (same architecture); nothing is trained'),
  backboneEpochs: z.int().min(1).optional().describe('epochs of backprop for the backbone (required unless model is given)'),
  decoderEpochs: z.int().min(1).optional().describe('epochs of the reconstruction rule for the decoders, backbone frozen (required unless model is given)'),
  lr: z.number().positive().default(1e-3).describe('Adam learning rate of both trainings'),
  batchSize: z.int().min(1).default(64),
  trainLimit: z.int().min(1).optional().describe('train on the first n training examples only'),
  testLimit: z.int().min(1).default(1000).describe('evaluate on the first n test examples'),
  sigmas: z.array(z.number().positive()).default([0.25, 0.5, 0.75, 1]).describe('Gaussian noise levels σ (images in [0, 1])'),
  corruptions: z.array(z.string()).default([]).describe('corruptions of data/corruptions.ts to evaluate too (e.g. mnist-c/shot_noise); at their first severity'),
  attack: z
    .strictObject({
      epsilons: z.array(z.number().positive()).min(1).default([0.01, 0.03, 0.1]).describe('L∞ radii (images in [0, 1])'),
      method: z.enum(ATTACK_METHODS).default('pgd').describe("'pgd': L∞ PGD with cross-entropy (step 2.5ε/steps, random start); 'apgd-ce' / 'apgd-dlr': Auto-PGD (Croce & Hein 2020) with the cross-entropy or DLR loss"),
      steps: z.int().min(1).default(10).describe('iterations of the attack'),
      restarts: z.int().min(1).default(1).describe('random restarts (each from a new random point; an image counts as fooled if any restart fools it)'),
      limit: z.int().min(1).default(100).describe('attack the first n test images'),
      batchSize: z.int().min(1).default(50),
      surfaces: z.array(z.enum(ATTACK_SURFACES)).min(1).default(['first', 'loop']).describe("'first': PGD on the backbone alone, then the loop (transfer); 'loop': PGD through all T timesteps (adaptive)"),
    })
    .optional()
    .describe('PGD through the timesteps; per-timestep curves on the adversarial images'),
});
export type PredifyNoiseOptions = z.infer<typeof predifyNoiseOptions>;

/** Per example i, 1 − Pearson correlation of the flattened a_i and b_i. */
function correlationDistances(a: tf.Tensor, b: tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const flat = (t: tf.Tensor) => {
      const f = tf.reshape(t, [t.shape[0]!, -1]);
      return tf.sub(f, tf.mean(f, 1, true));
    };
    const fa = flat(a);
    const fb = flat(b);
    const corr = tf.div(tf.sum(tf.mul(fa, fb), 1), tf.add(tf.mul(tf.norm(fa, 'euclidean', 1), tf.norm(fb, 'euclidean', 1)), 1e-12));
    return tf.sub(1, corr).dataSync() as Float32Array;
  });
}

export interface TimestepCurves {
  readonly condition: string;
  readonly count: number;
  readonly accuracy: number[];
  /** Per timestep t: examples right at t and wrong at t = 0, and the reverse (the paired accuracy change). */
  readonly gained: number[];
  readonly lost: number[];
  /** Per layer (index n − 1), per timestep. */
  readonly corr_vs_clean_ff: number[][];
  /** Per layer, per timestep: the 95% half-width of the mean per-image change of corr_vs_clean_ff since t = 0. */
  readonly corr_vs_clean_ff_change_ci95: number[][];
  readonly corr_vs_clean_t: number[][];
}

/** Accuracy and correlation distances per timestep of the Predify dynamics on `data` against `clean`. */
export function timestepCurves(net: PredifySystem, params: PredifyParams, condition: string, data: Dataset, clean: Dataset, steps: number, batchSize = 100): TimestepCurves {
  return timestepCurvesFor(net, params, [[condition, data]], clean, steps, batchSize)[0]!;
}

/**
 * The curves of several conditions (image sets aligned with `clean`, example by example), batch by batch:
 * the clean batch's dynamics are run once and compared with every condition's. A condition whose set is
 * `clean` itself reuses the clean run.
 */
export function timestepCurvesFor(net: PredifySystem, params: PredifyParams, conditions: readonly (readonly [string, Dataset])[], clean: Dataset, steps: number, batchSize = 100): TimestepCurves[] {
  const N = net.options.channels.length;
  const probes = [{ variable: 'readout' }, ...Array.from({ length: N }, (_, i) => ({ variable: `reps.${i}` }))];
  for (const [name, set] of conditions) if (set.count !== clean.count) throw new Error(`condition ${name} has ${set.count} images, the clean set ${clean.count}`);
  const acc = conditions.map(() => ({
    hits: new Array<number>(steps + 1).fill(0),
    gained: new Array<number>(steps + 1).fill(0),
    lost: new Array<number>(steps + 1).fill(0),
    ff: Array.from({ length: N }, () => new Array<number>(steps + 1).fill(0)),
    // Σ over images of (d_t − d_0)², for the interval of the mean change
    ffChangeSquares: Array.from({ length: N }, () => new Array<number>(steps + 1).fill(0)),
    same: Array.from({ length: N }, () => new Array<number>(steps + 1).fill(0)),
  }));
  const sum = (v: Float32Array) => v.reduce((a, x) => a + x, 0);
  const run = (x: tf.Tensor) => throwIfDiverged(simulate({ system: net, params, input: { x: x as tf.Tensor4D }, maxSteps: steps, probes, checkEvery: steps }));
  for (let start = 0; start < clean.count; start += batchSize) {
    const n = Math.min(batchSize, clean.count - start);
    const reference = toTensors(clean, { start, count: n, layout: 'nhwc' });
    const b = run(reference.x);
    const cleanFf = Array.from({ length: N }, (_, layer) => tf.tidy(() => tf.squeeze(tf.slice(b.traces[`reps.${layer}`]!.values, [0], [1]), [0])));
    conditions.forEach(([, data], c) => {
      const into = acc[c]!;
      const noisy = data === clean ? undefined : toTensors(data, { start, count: n, layout: 'nhwc' });
      const a = noisy ? run(noisy.x) : b;
      // correct[t·n + i]: the head is right on image i at timestep t
      const correct = tf.tidy(() => tf.cast(tf.equal(tf.argMax(a.traces.readout!.values, 2), tf.expandDims(reference.y, 0)), 'float32').dataSync());
      for (let t = 0; t <= steps; t++) {
        for (let i = 0; i < n; i++) {
          const now = correct[t * n + i]!;
          const first = correct[i]!;
          into.hits[t]! += now;
          into.gained[t]! += now * (1 - first);
          into.lost[t]! += first * (1 - now);
        }
      }
      for (let layer = 0; layer < N; layer++) {
        const ta = a.traces[`reps.${layer}`]!.values;
        const tb = b.traces[`reps.${layer}`]!.values;
        let first: Float32Array | undefined;
        for (let t = 0; t <= steps; t++) {
          const at = tf.tidy(() => tf.squeeze(tf.slice(ta, [t], [1]), [0]));
          const bt = tf.tidy(() => tf.squeeze(tf.slice(tb, [t], [1]), [0]));
          const ff = correlationDistances(at, cleanFf[layer]!);
          first ??= ff;
          into.ff[layer]![t]! += sum(ff);
          into.ffChangeSquares[layer]![t]! += ff.reduce((s2, v, i) => s2 + (v - first![i]!) ** 2, 0);
          into.same[layer]![t]! += sum(correlationDistances(at, bt));
          tf.dispose([at, bt]);
        }
      }
      if (noisy) {
        a.dispose();
        tf.dispose([noisy.x, noisy.y]);
      }
    });
    tf.dispose(cleanFf);
    b.dispose();
    tf.dispose([reference.x, reference.y]);
  }
  const r = (v: number) => Number(v.toFixed(5));
  const count = clean.count;
  return conditions.map(([condition], c) => {
    const a = acc[c]!;
    // sample variance of the per-image change from Σ change and Σ change²
    const changeHalfWidth = (layer: number, t: number) => {
      const mean = (a.ff[layer]![t]! - a.ff[layer]![0]!) / count;
      const variance = count > 1 ? Math.max(0, (a.ffChangeSquares[layer]![t]! - count * mean * mean) / (count - 1)) : 0;
      return r(Z95 * Math.sqrt(variance / count));
    };
    return {
      condition,
      count,
      accuracy: a.hits.map((h) => r(h / count)),
      gained: a.gained,
      lost: a.lost,
      corr_vs_clean_ff: a.ff.map((l) => l.map((v) => r(v / count))),
      corr_vs_clean_ff_change_ci95: a.ff.map((l, layer) => l.map((_, t) => changeHalfWidth(layer, t))),
      corr_vs_clean_t: a.same.map((l) => l.map((v) => r(v / count))),
    };
  });
}

export interface AttackSet {
  readonly surface: AttackSurface;
  readonly epsilon: number;
  readonly images: Dataset;
  /** Fraction of the attacked images the attacked surface itself misclassifies. */
  readonly success: number;
  readonly forward: number;
  readonly backward: number;
  readonly seconds: number;
}

/**
 * L∞ PGD at `epsilon` on `surface` ('first': the backbone alone; 'loop': the head on e_N(T), differentiated
 * through all T timesteps), one batch at a time; the adversarial images as a dataset aligned with `clean`.
 */
export function predifyAttackSet(system: Record<string, unknown> & { kind: string }, params: PredifyParams, data: { train: Dataset; test: Dataset }, clean: Dataset, surface: AttackSurface, epsilon: number, options: { method?: AttackMethod; steps: number; restarts?: number; timesteps: number; batchSize: number }, rng: Rng): AttackSet {
  const began = performance.now();
  const owned = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, t.clone()]));
  const source = { origin: 'predify-noise', system, run: { dt: 1, maxSteps: options.timesteps }, data, trained: { params: owned, trainedBy: 'predify-noise' } };
  const classifier = surface === 'first' ? predifyFirstPassClassifier(source) : predifyClassifier(source);
  const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
  const restarts = options.restarts ?? 1;
  const method = options.method ?? 'pgd';
  const attack = method === 'pgd' ? pgd({ steps: options.steps, restarts }) : apgd({ loss: method === 'apgd-ce' ? 'ce' : 'dlr', steps: options.steps, restarts });
  const images = new Float32Array(clean.images.length);
  const pixels = clean.height * clean.width;
  let fooled = 0;
  try {
    for (let start = 0; start < clean.count; start += options.batchSize) {
      const n = Math.min(options.batchSize, clean.count - start);
      const { x, y } = toTensors(clean, { start, count: n, layout: 'flat' });
      const result = attack.run({ model, x, labels: y as tf.Tensor1D, threat: { norm: 'linf', epsilon, bounds: [0, 1] }, rng: rng.split(`batch-${start}`) });
      images.set(result.adversarial.dataSync() as Float32Array, start * pixels);
      fooled += result.fooled.reduce((a, v) => a + v, 0);
      tf.dispose([x, y, result.adversarial]);
    }
  } finally {
    classifier.dispose();
  }
  return {
    surface,
    epsilon,
    images: makeDataset({ ...clean, name: `${clean.name}/pgd-${surface}-${epsilon}`, images }),
    success: fooled / clean.count,
    forward: model.usage.forward,
    backward: model.usage.backward,
    seconds: (performance.now() - began) / 1000,
  };
}

/**
 * Trains `label` ('backbone' or 'decoders') for `epochs` with a checkpoint after every epoch
 * (trainWithCheckpoints: parameters, Adam's state and the epoch lines; `--resume` continues from the last
 * epoch, and a finished part replays its lines and trains nothing). `line` makes an epoch's metrics line
 * (epochs counted from 1), `message` what is said after it is saved.
 */
async function trainPart(
  context: JobContext<PredifyNoiseOptions>,
  checkpoints: CheckpointStore,
  label: string,
  rule: LearningRule<ParamMap>,
  params: ParamMap,
  epochs: number,
  rng: Rng,
  line: (epoch: number, metrics: Record<string, number>, seconds: number, params: ParamMap) => Record<string, unknown>,
  message: (line: Record<string, unknown>, metrics: Record<string, number>, seconds: number) => string,
): Promise<ParamMap> {
  const { options, data, folder } = context;
  const count = Math.min(options.trainLimit ?? data.train.count, data.train.count);
  let progress: Progress | undefined;
  try {
    const result = await trainWithCheckpoints({
      params,
      rule,
      optimizer: adam({ lr: options.lr }),
      data: data.train,
      layout: 'nhwc',
      batchSize: options.batchSize,
      epochs,
      limit: count,
      rng,
      onBatch: (examples) => progress?.tick(examples),
    }, {
      checkpoints,
      label,
      appendMetrics: (record) => folder.appendMetrics(record),
      say: context.say,
      beforeTraining: (epochsLeft) => { progress = context.progress(label, epochsLeft * count); },
      epochLine: (report, current) => line(report.epoch + 1, { ...report.metrics }, report.seconds, current),
      afterEpoch: (record, report) => context.say(message(record, report.metrics, report.seconds)),
    });
    tf.dispose(Object.values(optimizerStateTensors(result.state)));
    return result.params;
  } finally {
    progress?.done();
  }
}

function headAccuracy(net: PredifySystem, params: PredifyParams, data: Dataset): number {
  let correct = 0;
  for (let start = 0; start < data.count; start += 200) {
    const n = Math.min(200, data.count - start);
    const { x, y } = toTensors(data, { start, count: n, layout: 'nhwc' });
    correct += tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(net.head(net.feedforward(x as tf.Tensor4D, params).at(-1)!, params), 1), y), 'float32')).dataSync()[0]!);
    tf.dispose([x, y]);
  }
  return correct / data.count;
}

/** The architecture fields a loaded model must share with the spec (β, λ, α and the scaling may differ). */
const ARCHITECTURE = ['channels', 'kernelSize', 'hidden', 'classes', 'inputChannels'] as const;

function loadTrained(context: JobContext<PredifyNoiseOptions>, net: PredifySystem, folder: string): ParamMap {
  const model = loadModel(folder);
  const trained = model.system as Record<string, unknown>;
  if (trained.kind !== 'predify') throw new SpecError('job.model', `${folder} holds a ${String(trained.kind)} model; pass a predify-noise run folder`);
  for (const key of ARCHITECTURE) {
    const want = JSON.stringify((context.spec.system as Record<string, unknown>)[key]);
    if (want !== JSON.stringify(trained[key])) throw new SpecError('job.model', `${folder} was trained with ${key} ${JSON.stringify(trained[key])}, the spec has ${want}; give the spec the trained architecture`);
  }
  const missing = [...net.backboneNames, ...net.decoderNames].filter((n) => !model.params[n]);
  if (missing.length) {
    tf.dispose(Object.values(model.params));
    throw new SpecError('job.model', `${folder}/model lacks ${missing.join(', ')}; pass a predify-noise run folder (backbone and decoders)`);
  }
  return model.params;
}

async function trainModel(context: JobContext<PredifyNoiseOptions>, net: PredifySystem, checkpoints: CheckpointStore): Promise<ParamMap> {
  const { options } = context;
  if (options.backboneEpochs === undefined || options.decoderEpochs === undefined) {
    throw new SpecError(options.backboneEpochs === undefined ? 'job.backboneEpochs' : 'job.decoderEpochs', 'is required unless job.model names a trained predify-noise run');
  }
  const test = subset(context.data.test, 0, Math.min(options.testLimit, context.data.test.count));
  let params: ParamMap = { ...net.initBackbone(context.rng.split('backbone')), ...net.initDecoders(context.rng.split('decoders')) };
  params = await trainPart(context, checkpoints, 'backbone', predifyBackboneRule(net), params, options.backboneEpochs, context.rng.split('train-backbone'),
    (epoch, m, seconds, current) => ({ phase: 'backbone', epoch, loss: m.loss, train_accuracy: m.accuracy, test_accuracy: headAccuracy(net, current, test), seconds: Number(seconds.toFixed(2)) }),
    (record, m, seconds) => `backbone epoch ${record.epoch}: loss ${m.loss!.toFixed(4)}, test ${(100 * (record.test_accuracy as number)).toFixed(2)}%, ${seconds.toFixed(1)} s`);
  params = await trainPart(context, checkpoints, 'decoders', predifyDecoderRule(net), params, options.decoderEpochs, context.rng.split('train-decoders'),
    (epoch, m, seconds) => ({ phase: 'decoders', epoch, ...m, seconds: Number(seconds.toFixed(2)) }),
    (record, m, seconds) => `decoders epoch ${record.epoch}: reconstruction ${m.loss!.toFixed(5)} (${Object.entries(m).filter(([k]) => k.startsWith('recon')).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}), ${seconds.toFixed(1)} s`);
  return params;
}

const pct = (v: number) => (100 * v).toFixed(1);

async function run(context: JobContext<PredifyNoiseOptions>): Promise<Metrics> {
  const { options, data, spec, folder } = context;
  const net = context.system.create(spec.system, { inputSize: data.train.height * data.train.width }) as PredifySystem;
  if (net.classes !== data.train.classes) throw new SpecError('system.classes', `the head has ${net.classes} classes but ${data.train.name} has ${data.train.classes}`);
  if (options.model && (options.backboneEpochs !== undefined || options.decoderEpochs !== undefined)) {
    throw new SpecError('job.model', 'evaluates a trained model and trains nothing; remove backboneEpochs and decoderEpochs, or remove model to train');
  }
  // Checked before any training, so a typo does not cost the run.
  const corruptions = selectCorruptions(options.corruptions, 'job.corruptions');
  const steps = spec.run.maxSteps;
  const test = subset(data.test, 0, Math.min(options.testLimit, data.test.count));
  const started = performance.now();
  // Opened only to train: an evaluation of job.model has nothing to checkpoint.
  const checkpoints = options.model ? undefined : openCheckpoints(folder.destination, spec, context.resume ?? false);
  const params = options.model ? loadTrained(context, net, options.model) : await trainModel(context, net, checkpoints!);
  const trainedSeconds = (performance.now() - started) / 1000;
  try {
    saveModel(folder, { system: spec.system, trainedBy: 'predify (backbone: backprop; decoders: reconstruction)', meta: { ...spec.system, inputLayout: 'nhwc', timesteps: steps, classNames: data.train.classNames, trainedOn: data.train.name, ...(options.model ? { from: options.model } : {}) } }, params);
    const backboneClean = headAccuracy(net, params, test);
    context.say(`backbone alone, clean: ${pct(backboneClean)}% on ${test.count} test images`);

    const conditions: [string, Dataset][] = [['clean', test]];
    for (const sigma of options.sigmas) conditions.push([`gaussian σ=${sigma}`, withGaussianNoise(test, sigma, context.rng.split(`noise-${sigma}`))]);
    for (const c of corruptions) conditions.push([c.name, corruptDataset(test, c, 1, context.rng.split(c.name))]);
    const evalStart = performance.now();
    if (spec.probes.length > 0) {
      for (const [name, set] of conditions) {
        const traced = traceExamples(set, 'nhwc');
        try {
          recordEvaluationTraces(context, { label: name.replace('σ=', 'sigma-').replace(/[ /]/g, '-'), system: net, params: params as PredifyParams, input: { x: traced.x as tf.Tensor4D }, settings: { maxSteps: steps, checkEvery: steps }, examples: traced.examples, labels: traced.labels, condition: name });
        } finally {
          traced.x.dispose();
        }
      }
    }
    const curves = timestepCurvesFor(net, params, conditions, test, steps);
    const say = (curve: TimestepCurves) =>
      context.say(`${curve.condition}: accuracy t=0 ${pct(curve.accuracy[0]!)}% → t=${steps} ${pct(curve.accuracy[steps]!)}% (best ${pct(Math.max(...curve.accuracy))}%); top-layer corr. distance to clean ff ${curve.corr_vs_clean_ff.at(-1)![0]!.toFixed(4)} → ${curve.corr_vs_clean_ff.at(-1)![steps]!.toFixed(4)}`);
    for (const curve of curves) {
      folder.appendMetrics({ phase: 'timesteps', ...curve });
      say(curve);
    }
    const evalSeconds = (performance.now() - evalStart) / 1000;

    const attacks: (AttackSet & { curve: TimestepCurves })[] = [];
    if (options.attack) {
      const o = options.attack;
      const attacked = subset(data.test, 0, Math.min(o.limit, data.test.count));
      const sets: AttackSet[] = [];
      for (const surface of o.surfaces) {
        for (const epsilon of o.epsilons) {
          const set = predifyAttackSet(spec.system, params, data, attacked, surface, epsilon, { method: o.method, steps: o.steps, restarts: o.restarts, timesteps: steps, batchSize: o.batchSize }, context.rng.split(`pgd-${surface}-${epsilon}`));
          sets.push(set);
          context.say(`${o.method.toUpperCase()}-${o.steps}${o.restarts > 1 ? `×${o.restarts}` : ''} on the ${surface === 'first' ? 'first pass' : `whole loop (${steps} timesteps, unrolled)`} at ε ${epsilon}: fools its target on ${pct(set.success)}% of ${attacked.count}, ${set.seconds.toFixed(0)} s`);
        }
      }
      const attackCurves = timestepCurvesFor(net, params, [['clean', attacked], ...sets.map((s) => [`${o.method}-${s.surface} ε=${s.epsilon}`, s.images] as const)], attacked, steps);
      folder.appendMetrics({ phase: 'attack-timesteps', ...attackCurves[0]! });
      say(attackCurves[0]!);
      sets.forEach((set, i) => {
        const curve = attackCurves[i + 1]!;
        const { images: _images, ...rest } = set;
        folder.appendMetrics({ phase: 'attack-timesteps', ...rest, seconds: Number(set.seconds.toFixed(1)), ...curve });
        say(curve);
        attacks.push({ ...set, curve });
      });
    }

    for (const f of predifyFigures(curves, steps, data.train.name, attacks.map((a) => a.curve))) folder.writeText(`${f.id}.svg`, renderFigureSvg(f));
    const gain = (c: TimestepCurves) => Number((c.accuracy[steps]! - c.accuracy[0]!).toFixed(5));
    const summaryOf = (c: TimestepCurves) => ({
      accuracy: c.accuracy,
      accuracy_gain_at_T: gain(c),
      accuracy_gain_ci95_at_T: pairedGainInterval(c.gained[steps]!, c.lost[steps]!, c.count).map((v) => Number(v.toFixed(5))),
      gained: c.gained,
      lost: c.lost,
      corr_vs_clean_ff: c.corr_vs_clean_ff,
      corr_vs_clean_ff_change_ci95: c.corr_vs_clean_ff_change_ci95,
      corr_vs_clean_t: c.corr_vs_clean_t,
    });
    // The run is complete: its checkpoints have served (an interrupt during evaluation resumes without training).
    checkpoints?.clear();
    return {
      timesteps: steps,
      test_images: test.count,
      backbone_clean_accuracy: backboneClean,
      conditions: Object.fromEntries(curves.map((c) => [c.condition, summaryOf(c)])),
      ...(attacks.length
        ? {
            attack_images: attacks[0]!.images.count,
            attacks: Object.fromEntries(attacks.map((a) => [a.curve.condition, { surface: a.surface, epsilon: a.epsilon, target_fooled: Number(a.success.toFixed(5)), seconds: Number(a.seconds.toFixed(1)), ...summaryOf(a.curve) }])),
          }
        : {}),
      train_seconds: Number(trainedSeconds.toFixed(1)),
      eval_seconds: Number(evalSeconds.toFixed(1)),
    };
  } finally {
    tf.dispose(Object.values(params));
  }
}

/**
 * accuracy-vs-timestep.svg and correlation-distance.svg: per condition (clean first), against timestep;
 * attack-accuracy-vs-timestep.svg where attacked curves are given.
 */
/** What the figures draw of a condition's curves. */
export type PlottedCurves = Pick<TimestepCurves, 'condition' | 'accuracy' | 'corr_vs_clean_ff' | 'corr_vs_clean_t'>;

export function predifyFigures(curves: readonly PlottedCurves[], steps: number, dataName: string, attacked: readonly PlottedCurves[] = []): LineFigure[] {
  const ts = Array.from({ length: steps + 1 }, (_, t) => t);
  const attackFigure: LineFigure[] = attacked.length
    ? [{ kind: 'line', id: 'attack-accuracy-vs-timestep', title: `Predify under PGD (first pass: transfer; loop: through all ${steps} timesteps)`, x: { label: 'timestep', integer: true }, y: { label: 'accuracy', domain: [0, 1] }, series: attacked.map((c) => ({ name: c.condition, x: ts, y: c.accuracy })) }]
    : [];
  return [
    ...attackFigure,
    { kind: 'line', id: 'accuracy-vs-timestep', title: `Predify on ${dataName}: accuracy against timestep`, x: { label: 'timestep', integer: true }, y: { label: 'accuracy', domain: [0, 1] }, series: curves.map((c) => ({ name: c.condition, x: ts, y: c.accuracy })) },
    { kind: 'line', id: 'correlation-distance', title: 'Top layer: correlation distance to the clean feedforward representation', x: { label: 'timestep', integer: true }, y: { label: '1 − corr' }, series: curves.slice(1).map((c) => ({ name: c.condition, x: ts, y: c.corr_vs_clean_ff.at(-1)! })) },
  ];
}

export const predifyNoise: JobEntry<PredifyNoiseOptions> = {
  kind: 'predify-noise',
  description: 'train a backbone, then its Predify decoders by reconstruction, and measure accuracy and representation distance against timestep under noise',
  options: predifyNoiseOptions,
  systems: ['predify'],
  traces: 'yes',
  run,
};
