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
 * t = 0 is the feedforward pass: the backbone alone. The claim holds where accuracy at t > 0 rises above
 * t = 0 and the correlation distance falls with t.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SpecError } from '../../base/errors.js';
import type { Rng } from '../../base/rng.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { clip01 } from '../../data/corruptions-image-ops.js';
import { corruptDataset, selectCorruptions, type Corruption } from '../../data/corruptions.js';
import { subset, toTensors, type Dataset } from '../../data/index.js';
import { adam } from '../../learning/optimizers.js';
import type { LearningRule } from '../../learning/rule.js';
import type { ParamMap } from '../../learning/optimizers.js';
import { train } from '../../learning/train.js';
import { saveModel } from '../../runs/model-store.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import type { LineFigure } from '../../runs/plot/figure.js';
import { recordEvaluationTraces, traceExamples } from '../traces.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { predifyBackboneRule, predifyDecoderRule } from './rule-predify.js';
import type { PredifyParams, PredifySystem } from './system-predify.js';

export const predifyNoiseOptions = z.strictObject({
  backboneEpochs: z.int().min(1).describe('epochs of backprop for the backbone'),
  decoderEpochs: z.int().min(1).describe('epochs of the reconstruction rule for the decoders (backbone frozen)'),
  lr: z.number().positive().default(1e-3).describe('Adam learning rate of both trainings'),
  batchSize: z.int().min(1).default(64),
  trainLimit: z.int().min(1).optional().describe('train on the first n training examples only'),
  testLimit: z.int().min(1).default(1000).describe('evaluate on the first n test examples'),
  sigmas: z.array(z.number().positive()).default([0.25, 0.5, 0.75, 1]).describe('Gaussian noise levels σ (images in [0, 1])'),
  corruptions: z.array(z.string()).default([]).describe('corruptions of data/corruptions.ts to evaluate too (e.g. mnist-c/shot_noise); at their first severity'),
});
export type PredifyNoiseOptions = z.infer<typeof predifyNoiseOptions>;

/** x + σ·N(0, 1), clipped to [0, 1]: a corruption like those of data/corruptions.ts, at one level. */
export function gaussianNoise(sigma: number): Corruption {
  return {
    name: `gaussian/σ=${sigma}`,
    suite: 'cifar-10-c',
    severities: 1,
    apply: (image, _severity, rng) => Float32Array.from(image.data, (v) => clip01(v + sigma * rng.normal())),
  };
}

/** Mean over examples of 1 − Pearson correlation of the flattened a_i and b_i. */
function correlationDistanceSum(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const flat = (t: tf.Tensor) => {
      const f = tf.reshape(t, [t.shape[0]!, -1]);
      return tf.sub(f, tf.mean(f, 1, true));
    };
    const fa = flat(a);
    const fb = flat(b);
    const corr = tf.div(tf.sum(tf.mul(fa, fb), 1), tf.add(tf.mul(tf.norm(fa, 'euclidean', 1), tf.norm(fb, 'euclidean', 1)), 1e-12));
    return tf.sum(tf.sub(1, corr)).dataSync()[0]!;
  });
}

export interface TimestepCurves {
  readonly condition: string;
  readonly accuracy: number[];
  /** Per layer (index n − 1), per timestep. */
  readonly corr_vs_clean_ff: number[][];
  readonly corr_vs_clean_t: number[][];
}

/** Accuracy and correlation distances per timestep of the Predify dynamics on `data` against `clean`. */
export function timestepCurves(net: PredifySystem, params: PredifyParams, condition: string, data: Dataset, clean: Dataset, steps: number, batchSize = 100): TimestepCurves {
  const N = net.options.channels.length;
  const probes = [{ variable: 'readout' }, ...Array.from({ length: N }, (_, i) => ({ variable: `reps.${i}` }))];
  const hits = new Array<number>(steps + 1).fill(0);
  const ff = Array.from({ length: N }, () => new Array<number>(steps + 1).fill(0));
  const same = Array.from({ length: N }, () => new Array<number>(steps + 1).fill(0));
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const noisy = toTensors(data, { start, count: n, layout: 'nhwc' });
    const reference = toTensors(clean, { start, count: n, layout: 'nhwc' });
    const run = (x: tf.Tensor) => throwIfDiverged(simulate({ system: net, params, input: { x: x as tf.Tensor4D }, maxSteps: steps, probes, checkEvery: steps }));
    const a = run(noisy.x);
    const b = data === clean ? a : run(reference.x);
    const labels = noisy.y;
    tf.tidy(() => {
      const predicted = tf.argMax(a.traces.readout!.values, 2);
      const correct = tf.sum(tf.cast(tf.equal(predicted, tf.expandDims(labels, 0)), 'float32'), 1).dataSync();
      correct.forEach((c, t) => (hits[t]! += c));
    });
    for (let layer = 0; layer < N; layer++) {
      const ta = a.traces[`reps.${layer}`]!.values;
      const tb = b.traces[`reps.${layer}`]!.values;
      const cleanFf = tf.tidy(() => tf.squeeze(tf.slice(tb, [0], [1]), [0]));
      for (let t = 0; t <= steps; t++) {
        const at = tf.tidy(() => tf.squeeze(tf.slice(ta, [t], [1]), [0]));
        const bt = tf.tidy(() => tf.squeeze(tf.slice(tb, [t], [1]), [0]));
        ff[layer]![t]! += correlationDistanceSum(at, cleanFf);
        same[layer]![t]! += correlationDistanceSum(at, bt);
        tf.dispose([at, bt]);
      }
      cleanFf.dispose();
    }
    a.dispose();
    if (b !== a) b.dispose();
    tf.dispose([noisy.x, noisy.y, reference.x, reference.y]);
  }
  const r = (v: number) => Number(v.toFixed(5));
  return {
    condition,
    accuracy: hits.map((h) => r(h / data.count)),
    corr_vs_clean_ff: ff.map((l) => l.map((v) => r(v / data.count))),
    corr_vs_clean_t: same.map((l) => l.map((v) => r(v / data.count))),
  };
}

async function trainPart(context: JobContext<PredifyNoiseOptions>, label: string, rule: LearningRule<ParamMap>, params: ParamMap, epochs: number, rng: Rng, onEpoch: (epoch: number, metrics: Record<string, number>, seconds: number, params: ParamMap) => void): Promise<ParamMap> {
  const { options, data } = context;
  const count = Math.min(options.trainLimit ?? data.train.count, data.train.count);
  const progress = context.progress(label, epochs * count);
  try {
    const result = await train({
      params,
      rule,
      optimizer: adam({ lr: options.lr }),
      data: data.train,
      layout: 'nhwc',
      batchSize: options.batchSize,
      epochs,
      limit: count,
      rng,
      onBatch: (examples) => progress.tick(examples),
      onEpoch: (report, current) => onEpoch(report.epoch + 1, { ...report.metrics }, report.seconds, current),
    });
    tf.dispose(Object.values(result.state.slots).flatMap((s) => Object.values(s)));
    return result.params;
  } finally {
    progress.done();
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

async function run(context: JobContext<PredifyNoiseOptions>): Promise<Metrics> {
  const { options, data, spec, folder } = context;
  const net = context.system.create(spec.system, { inputSize: data.train.height * data.train.width }) as PredifySystem;
  if (net.classes !== data.train.classes) throw new SpecError('system.classes', `the head has ${net.classes} classes but ${data.train.name} has ${data.train.classes}`);
  const steps = spec.run.maxSteps;
  const test = subset(data.test, 0, Math.min(options.testLimit, data.test.count));
  const started = performance.now();

  let params: ParamMap = { ...net.initBackbone(context.rng.split('backbone')), ...net.initDecoders(context.rng.split('decoders')) };
  params = await trainPart(context, 'backbone', predifyBackboneRule(net), params, options.backboneEpochs, context.rng.split('train-backbone'), (epoch, m, seconds, current) => {
    const record = { phase: 'backbone', epoch, loss: m.loss, train_accuracy: m.accuracy, test_accuracy: headAccuracy(net, current, test), seconds: Number(seconds.toFixed(2)) };
    folder.appendMetrics(record);
    context.say(`backbone epoch ${epoch}: loss ${m.loss!.toFixed(4)}, test ${(100 * record.test_accuracy).toFixed(2)}%, ${seconds.toFixed(1)} s`);
  });
  const backboneSeconds = (performance.now() - started) / 1000;
  params = await trainPart(context, 'decoders', predifyDecoderRule(net), params, options.decoderEpochs, context.rng.split('train-decoders'), (epoch, m, seconds) => {
    folder.appendMetrics({ phase: 'decoders', epoch, ...m, seconds: Number(seconds.toFixed(2)) });
    context.say(`decoders epoch ${epoch}: reconstruction ${m.loss!.toFixed(5)} (${Object.entries(m).filter(([k]) => k.startsWith('recon')).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}), ${seconds.toFixed(1)} s`);
  });
  const trainedSeconds = (performance.now() - started) / 1000;
  saveModel(folder, { system: spec.system, trainedBy: 'predify (backbone: backprop; decoders: reconstruction)', meta: { ...spec.system, inputLayout: 'nhwc', timesteps: steps, classNames: data.train.classNames, trainedOn: data.train.name } }, params);

  const conditions: [string, Dataset][] = [['clean', test]];
  for (const sigma of options.sigmas) conditions.push([`gaussian σ=${sigma}`, corruptDataset(test, gaussianNoise(sigma), 1, context.rng.split(`noise-${sigma}`))]);
  for (const c of selectCorruptions(options.corruptions, 'job.corruptions')) conditions.push([c.name, corruptDataset(test, c, 1, context.rng.split(c.name))]);
  const curves: TimestepCurves[] = [];
  const evalStart = performance.now();
  for (const [name, set] of conditions) {
    if (spec.probes.length > 0) {
      const traced = traceExamples(set, 'nhwc');
      try {
        recordEvaluationTraces(context, { label: name.replace('σ=', 'sigma-').replace(/[ /]/g, '-'), system: net, params: params as PredifyParams, input: { x: traced.x as tf.Tensor4D }, settings: { maxSteps: steps, checkEvery: steps }, examples: traced.examples, labels: traced.labels, condition: name });
      } finally {
        traced.x.dispose();
      }
    }
    const curve = timestepCurves(net, params, name, set, test, steps);
    curves.push(curve);
    folder.appendMetrics({ phase: 'timesteps', ...curve });
    context.say(`${name}: accuracy t=0 ${(100 * curve.accuracy[0]!).toFixed(1)}% → t=${steps} ${(100 * curve.accuracy[steps]!).toFixed(1)}% (best ${(100 * Math.max(...curve.accuracy)).toFixed(1)}%); top-layer corr. distance to clean ff ${curve.corr_vs_clean_ff.at(-1)![0]!.toFixed(4)} → ${curve.corr_vs_clean_ff.at(-1)![steps]!.toFixed(4)}`);
  }
  const evalSeconds = (performance.now() - evalStart) / 1000;
  tf.dispose(Object.values(params));
  for (const f of predifyFigures(curves, steps, data.train.name)) folder.writeText(`${f.id}.svg`, renderFigureSvg(f));
  return {
    timesteps: steps,
    test_images: test.count,
    backbone_clean_accuracy: curves[0]!.accuracy[0],
    conditions: Object.fromEntries(curves.map((c) => [c.condition, { accuracy: c.accuracy, accuracy_gain_at_T: Number((c.accuracy[steps]! - c.accuracy[0]!).toFixed(5)), top_corr_vs_clean_ff: c.corr_vs_clean_ff.at(-1), top_corr_vs_clean_t: c.corr_vs_clean_t.at(-1) }])),
    train_seconds: Number(trainedSeconds.toFixed(1)),
    backbone_seconds: Number(backboneSeconds.toFixed(1)),
    eval_seconds: Number(evalSeconds.toFixed(1)),
  };
}

/** accuracy-vs-timestep.svg and correlation-distance.svg: per condition (clean first), against timestep. */
export function predifyFigures(curves: readonly TimestepCurves[], steps: number, dataName: string): LineFigure[] {
  const ts = Array.from({ length: steps + 1 }, (_, t) => t);
  return [
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
