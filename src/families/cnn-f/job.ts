/**
 * `cnnf-train`: trains CNN-F models with the official loss and optimiser (loss.ts, optimizer.ts), one per
 * entry of `cycles` (0 = the CNN baseline: the same network with no cycles, trained the same way, from the
 * same initial parameters), then measures each (evaluation.ts): clean test accuracy with both readouts,
 * accuracy against test-time cycles (Fig. 3b), L∞ PGD robustness over an ε grid attacking the first pass
 * and the whole loop, and, for a network with ind = 0, image repair on corrupted test images.
 *
 * Resumable like the EP jobs: each model's parameters and optimiser state are checkpointed after every
 * epoch (runs/checkpoints.ts); `--resume` continues the interrupted model and skips finished ones.
 *
 * The run folder gets one saved model per entry, `model-c<cycles>/` (with `cycles` in its meta), and the
 * one with the most cycles also as `model/`, which `neurodyn attack`/`corrupt` load (surface: `attack`).
 * metrics.jsonl has a line per epoch (written when a model's training ends), per robustness point and per
 * repair corruption; summary.json the tables, with each CNN-F model's robustness compared image by image
 * with the CNN's when both are in the run (`robustness_paired`); curves.svg and robustness.svg plot them; repair-<corruption>.png are the picture strips.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SpecError } from '../../base/errors.js';
import { pairedComparison } from '../../base/statistics.js';
import { parseGradientMode } from '../../core/gradient-mode.js';
import { getCorruption } from '../../data/corruptions.js';
import { subset, type Dataset } from '../../data/index.js';
import { checkpointTensors, fromCheckpointTensors, optimizerStateTensors, type OptimizerState, type ParamMap } from '../../learning/optimizers.js';
import { train } from '../../learning/train.js';
import { openCheckpoints, type CheckpointStore } from '../../runs/checkpoints.js';
import { loadModel, saveModel } from '../../runs/model-store.js';
import { tileGridPng } from '../../runs/png.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import type { LineFigure } from '../../runs/plot/figure.js';
import { recordEvaluationTraces, traceExamples } from '../traces.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { ATTACK_SURFACES } from './classifier.js';
import { accuracyByCycle, imageRepair, pgdRobustness, type CycleCurve, type RepairRow, type RobustnessRow } from './evaluation.js';
import { cnnfRule } from './loss.js';
import { scheduledSgd } from './optimizer.js';
import type { CnnfParams, CnnfSystem } from './system.js';

const surface = z.enum(ATTACK_SURFACES as ['first', 'e2e']);

export const cnnfTrainOptions = z.strictObject({
  cycles: z.array(z.int().min(0)).min(1).default([1, 0]).describe('one model per entry, trained and evaluated with that many cycles; 0 is the CNN baseline'),
  epochs: z.int().min(1).default(1),
  batchSize: z.int().min(1).default(64).describe('official: 256'),
  lr: z.number().positive().default(0.05).describe('initial learning rate (official Fashion-MNIST script: 0.05)'),
  momentum: z.number().min(0).max(1).default(0.9),
  weightDecay: z.number().min(0).default(5e-4),
  schedule: z.enum(['poly', 'constant']).default('poly').describe('poly: lr (1 − t/T)^power per batch'),
  power: z.number().positive().default(0.9),
  gradClip: z.number().min(0).default(0.5).describe('clip the gradients to this total norm (0: off)'),
  mseWeight: z.number().min(0).default(0.1).describe('weight of the reconstruction MSE (official script: 0.1)'),
  cleanWeight: z.number().min(0).default(0.1).describe('weight of the clean cross-entropy when training on adversarial examples (official script: 0.1)'),
  adversarial: z
    .strictObject({
      surface: surface.default('first').describe("'first': PGD on the first pass (the paper); 'e2e': on the whole loop"),
      epsilon: z.number().positive().default(0.1).describe('L∞ radius on [0, 1] (official: 0.2 on [−1, 1])'),
      steps: z.int().min(1).default(7),
      stepSize: z.number().positive().default(0.0355).describe('official: 0.071 on [−1, 1]'),
    })
    .optional()
    .describe('train on PGD examples as well as clean ones'),
  initFrom: z
    .strictObject({
      run: z.string().min(1).describe('a run folder holding a saved CNN-F model (e.g. an earlier cnnf-train run)'),
      model: z.string().min(1).optional().describe("the model folder inside it, e.g. 'model-c1'; default: model-c<cycles> of the model being trained"),
    })
    .optional()
    .describe("start from a saved model's parameters (fine-tuning: a fresh optimiser and schedule) instead of a fresh initialisation"),
  trainLimit: z.int().min(1).optional().describe('train on the first n training images only'),
  testLimit: z.int().min(1).optional().describe('clean accuracy on the first n test images only'),
  testCycles: z.int().min(0).default(10).describe('accuracy against test-time cycles 0 … testCycles (Fig. 3b) for every model'),
  attack: surface.default('e2e').describe('the surface `neurodyn attack`/`corrupt` use on this run folder'),
  robustness: z
    .strictObject({
      epsilons: z.array(z.number().min(0)).min(1).default([0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2]),
      steps: z.int().min(1).default(40),
      restarts: z.int().min(1).default(1),
      surfaces: z.array(surface).min(1).default(['first', 'e2e']),
      examples: z.int().min(1).default(200).describe('the first n test images'),
      batchSize: z.int().min(1).default(100),
    })
    .optional()
    .describe('PGD robust accuracy over an ε grid on the first n test images'),
  repair: z
    .strictObject({
      corruptions: z.array(z.string()).min(1).default(['mnist-c/shot_noise', 'cifar-10-c/gaussian_noise', 'mnist-c/dotted_line']),
      severity: z.int().min(1).max(5).default(5).describe('CIFAR-10-C severity 1–5; MNIST-C corruptions have one level, used whatever this says'),
      examples: z.int().min(1).default(8),
    })
    .optional()
    .describe('image repair (needs system.ind = 0): reconstructions of corrupted test images per cycle'),
});
type Options = z.infer<typeof cnnfTrainOptions>;

interface EpochRecord {
  readonly cycles: number;
  readonly epoch: number;
  readonly loss: number;
  readonly cross_entropy: number;
  readonly recon_mse: number;
  readonly train_accuracy: number;
  readonly test_accuracy: number;
  readonly seconds: number;
  readonly eval_seconds: number;
}

/** Trains one model (from `init`, not consumed) or continues it from its checkpoint. */
async function trainModel(context: JobContext<Options>, system: CnnfSystem, cycles: number, init: CnnfParams, trainSet: Dataset, testSet: Dataset, checkpoints: CheckpointStore): Promise<{ params: ParamMap; history: EpochRecord[] }> {
  const { options, say } = context;
  const label = `cycles-${cycles}`;
  const saved = checkpoints.load(label);
  const history: EpochRecord[] = saved ? [...((saved.record.history as EpochRecord[]) ?? [])] : [];
  let params: ParamMap;
  let optimizerState: OptimizerState | undefined;
  if (saved) {
    ({ params, state: optimizerState } = fromCheckpointTensors(saved.tensors, system.paramNames, saved.record.optimizerStep as number));
    say(`${cycles} cycles: resuming after epoch ${saved.epoch} of ${options.epochs}`);
    if (saved.epoch >= options.epochs) {
      tf.dispose(Object.values(optimizerStateTensors(optimizerState)));
      return { params, history };
    }
  } else params = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, t.clone()]));
  const batches = Math.ceil(trainSet.count / options.batchSize);
  const optimizer = scheduledSgd({
    lr: options.lr,
    momentum: options.momentum,
    weightDecay: options.weightDecay,
    schedule: options.schedule,
    power: options.power,
    totalSteps: options.epochs * batches,
    clipNorm: options.gradClip,
  });
  const rule = cnnfRule({
    system,
    cycles,
    mseWeight: options.mseWeight,
    cleanWeight: options.cleanWeight,
    ...(options.adversarial ? { adversarial: options.adversarial } : {}),
  });
  const progress = context.progress(`${cycles === 0 ? 'CNN' : `CNN-F, ${cycles} cycle${cycles === 1 ? '' : 's'}`}`, (options.epochs - (saved?.epoch ?? 0)) * trainSet.count);
  try {
    const result = await train({
      params,
      rule,
      optimizer,
      ...(optimizerState ? { optimizerState } : {}),
      data: trainSet,
      layout: 'nhwc',
      batchSize: options.batchSize,
      epochs: options.epochs,
      startEpoch: saved?.epoch ?? 0,
      rng: context.rng.split(`train-${cycles}`),
      onBatch: (examples) => progress.tick(examples),
      onEpoch: (report, current, state) => {
        const began = performance.now();
        const curve = accuracyByCycle(system, current, testSet, cycles);
        const scored = system.options.readout === 'last' ? curve.last[cycles]! : curve.average[cycles]!;
        const m = report.metrics;
        const record: EpochRecord = {
          cycles,
          epoch: report.epoch + 1,
          loss: m.loss ?? Number.NaN,
          cross_entropy: m.cross_entropy ?? Number.NaN,
          recon_mse: m.recon_mse ?? Number.NaN,
          train_accuracy: m.train_accuracy ?? Number.NaN,
          test_accuracy: scored,
          seconds: Number(report.seconds.toFixed(3)),
          eval_seconds: Number(((performance.now() - began) / 1000).toFixed(3)),
        };
        history.push(record);
        checkpoints.save(label, {
          epoch: report.epoch + 1,
          tensors: checkpointTensors(current, state),
          arrays: {},
          record: { history, optimizerStep: state.step },
        });
        say(
          `${cycles} cycles, epoch ${record.epoch}/${options.epochs}: loss ${record.loss.toFixed(4)} (CE ${record.cross_entropy.toFixed(4)}, recon MSE ${record.recon_mse.toFixed(4)}), train ${(100 * record.train_accuracy).toFixed(2)}%, test ${(100 * scored).toFixed(2)}% (${record.seconds.toFixed(0)} s + ${record.eval_seconds.toFixed(0)} s eval)`,
        );
      },
    });
    tf.dispose(Object.values(optimizerStateTensors(result.state)));
    return { params: result.params, history };
  } finally {
    progress.done();
  }
}

/**
 * The parameters of a saved model (`initFrom`), checked against this system: the same parameter names and
 * shapes as `fresh` (this run's own initialisation), else a SpecError naming what differs.
 */
function loadInitialParams(system: CnnfSystem, run: string, model: string, fresh: CnnfParams): ParamMap {
  let saved: ReturnType<typeof loadModel>;
  try {
    saved = loadModel(run, model);
  } catch (e) {
    throw new SpecError('job.initFrom', e instanceof Error ? e.message : String(e));
  }
  const misfit = () => {
    if (saved.system.kind !== 'cnn-f') return `it holds a ${saved.system.kind} model, not a cnn-f one`;
    for (const name of system.paramNames) {
      const have = saved.params[name];
      const want = fresh[name]!.shape;
      if (!have) return `it has no parameter ${name}`;
      if (have.shape.join('x') !== want.join('x')) return `its ${name} has shape [${have.shape.join(', ')}] where this network needs [${want.join(', ')}]`;
    }
    const count = Object.keys(saved.params).length;
    return count !== system.paramNames.length ? `it has ${count} parameters where this network has ${system.paramNames.length}` : undefined;
  };
  const problem = misfit();
  if (problem) {
    tf.dispose(Object.values(saved.params));
    throw new SpecError('job.initFrom', `${path.join(run, model)} does not fit system.architecture: ${problem}; start from a model trained with the same architecture`);
  }
  return saved.params;
}

const pct = (v: number) => Number((100 * v).toFixed(2));

async function run(context: JobContext<Options>): Promise<Metrics> {
  const { spec, options, data, folder, say } = context;
  const system = context.system.create(spec.system, { inputSize: data.train.height * data.train.width }) as CnnfSystem;
  if (system.classes !== data.train.classes) throw new SpecError('system.architecture', `the last layer has ${system.classes} units but ${data.train.name} has ${data.train.classes} classes`);
  if (parseGradientMode(spec.run.gradient, 'run.gradient').kind !== 'none') throw new SpecError('run.gradient', "cnnf-train differentiates through the unrolled cycles itself; leave run.gradient at 'none'");
  if (options.repair && system.options.ind !== 0) throw new SpecError('job.repair', `image repair reconstructs the image, which needs system.ind = 0 (this network has ind = ${system.options.ind})`);
  // Checked before any training, so a typo does not cost the run.
  for (const name of options.repair?.corruptions ?? []) getCorruption(name, 'job.repair.corruptions');
  if (new Set(options.cycles).size !== options.cycles.length) throw new SpecError('job.cycles', `lists ${JSON.stringify(options.cycles)}; give each number of cycles once`);
  const trainSet = options.trainLimit ? subset(data.train, 0, Math.min(options.trainLimit, data.train.count)) : data.train;
  const testSet = options.testLimit ? subset(data.test, 0, Math.min(options.testLimit, data.test.count)) : data.test;
  const checkpoints = openCheckpoints(folder.destination, spec, context.resume ?? false);
  const init = system.initParams(context.rng.split('init'));
  // The saved model each trained model starts from (initFrom), by its number of cycles.
  const initModel = (cycles: number) => (options.initFrom ? { run: options.initFrom.run, model: options.initFrom.model ?? `model-c${cycles}` } : null);
  // Loaded (and checked) before any training, so a wrong folder does not cost the run.
  const starts: Record<number, ParamMap> = {};
  try {
    for (const cycles of options.cycles) {
      const from = initModel(cycles);
      if (from) starts[cycles] = loadInitialParams(system, from.run, from.model, init);
    }
  } catch (e) {
    tf.dispose([...Object.values(init), ...Object.values(starts).flatMap((p) => Object.values(p))]);
    throw e;
  }
  const primary = Math.max(...options.cycles);
  const models: Record<string, unknown> = {};
  const robustnessRows: (RobustnessRow & { cycles: number })[] = [];
  const curves: Record<string, CycleCurve> = {};
  let repair: RepairRow[] | undefined;
  try {
    for (const cycles of options.cycles) {
      const trainedAt = performance.now();
      const { params, history } = await trainModel(context, system, cycles, starts[cycles] ?? init, trainSet, testSet, checkpoints);
      const trainSeconds = history.reduce((s, r) => s + r.seconds, 0);
      // Written here, not per epoch, so a resumed run's metrics hold the restored epochs too.
      for (const record of history) folder.appendMetrics({ phase: 'train', ...record });
      try {
        const curve = accuracyByCycle(system, params, testSet, Math.max(cycles, options.testCycles));
        curves[String(cycles)] = curve;
        folder.appendMetrics({ phase: 'cycles', cycles, accuracy_last: curve.last, accuracy_average: curve.average, average_gained: curve.averageGained, average_lost: curve.averageLost });
        // The spec's probes on the evaluation's relaxation (the first pass, then max(cycles, testCycles) cycles) of the first test images.
        const tracedCycles = Math.max(cycles, options.testCycles);
        if (spec.probes.length > 0 && tracedCycles > 0) {
          const traced = traceExamples(testSet, 'nhwc');
          const images = tf.reshape(traced.x, [traced.x.shape[0]!, ...system.options.inputShape]);
          try {
            recordEvaluationTraces(context, { label: `c${cycles}`, system, params: params as CnnfParams, input: { x: images }, settings: { maxSteps: tracedCycles, checkEvery: tracedCycles }, examples: traced.examples, labels: traced.labels, condition: 'clean' });
          } finally {
            tf.dispose([traced.x, images]);
          }
        }
        let rows: RobustnessRow[] = [];
        if (options.robustness) {
          const r = options.robustness;
          const examples = subset(data.test, 0, Math.min(r.examples, data.test.count));
          say(`${cycles} cycles: PGD-${r.steps} on ${examples.count} test images`);
          rows = pgdRobustness(system, params, cycles, examples, r, context.rng.split(`pgd-${cycles}`), say);
          for (const row of rows) {
            robustnessRows.push({ cycles, ...row });
            const { robust, ...numbers } = row;
            folder.appendMetrics({ phase: 'robustness', cycles, ...numbers, robust_examples: robust.reduce((a, v) => a + v, 0) });
          }
        }
        if (options.repair && cycles === primary && cycles > 0) {
          repair = [];
          const examples = subset(data.test, 0, Math.min(options.repair.examples, data.test.count));
          for (const corruption of options.repair.corruptions) {
            const severity = Math.min(options.repair.severity, getCorruption(corruption).severities);
            const { row, strip } = imageRepair(system, params, cycles, examples, corruption, severity, context.rng.split(`repair-${corruption}`));
            repair.push(row);
            folder.appendMetrics({ phase: 'repair', ...row });
            folder.writeBytes(`repair-${corruption.replace('/', '-')}.png`, tileGridPng(strip, examples.height, examples.width, { columns: 2 + cycles, scale: 3, gap: 2, range: [0, 1], labels: Array.from({ length: examples.count }, () => ['clean', 'corrupt', ...Array.from({ length: cycles }, (_, t) => `cycle ${t + 1}`)]).flat() }));
            say(`repair ${corruption}: corrupted PSNR ${row.corruptedPsnr.toFixed(2)} dB; reconstruction per cycle ${row.reconPsnr.map((v) => v.toFixed(2)).join(', ')} dB`);
          }
        }
        const meta = { cycles, inputShape: system.options.inputShape, trainedOn: trainSet.name, trainExamples: trainSet.count, epochs: options.epochs, adversarial: options.adversarial ?? null, initFrom: initModel(cycles) };
        const record = { system: spec.system, trainedBy: options.adversarial ? 'cnn-f bptt + PGD' : 'cnn-f bptt', meta };
        saveModel(folder, record, params, `model-c${cycles}`);
        if (cycles === primary) saveModel(folder, record, params, 'model');
        models[String(cycles)] = {
          cycles,
          test_accuracy: system.options.readout === 'last' ? curve.last[cycles] : curve.average[cycles],
          test_accuracy_last: curve.last[cycles],
          test_accuracy_average: curve.average[cycles],
          train_seconds: Number(trainSeconds.toFixed(1)),
          wall_seconds: Number(((performance.now() - trainedAt) / 1000).toFixed(1)),
          history,
          ...(rows.length ? { robustness: rows.map((r) => ({ surface: r.surface, epsilon: r.epsilon, accuracy: r.accuracy, interval: r.interval })) } : {}),
        };
      } finally {
        tf.dispose(Object.values(params));
      }
    }
  } finally {
    tf.dispose([...Object.values(init), ...Object.values(starts).flatMap((p) => Object.values(p))]);
  }
  writePlots(folder, curves, robustnessRows);
  const paired = pairedAgainstCnn(robustnessRows);
  // Cleared only once the run folder is in place: an interrupt before that keeps what --resume needs.
  folder.afterCommit(() => checkpoints.clear());
  say(`test accuracy (${testSet.count} images): ${options.cycles.map((c) => `${c} cycles ${pct((models[String(c)] as { test_accuracy: number }).test_accuracy)}%`).join(', ')}`);
  return {
    models,
    readout: system.options.readout,
    architecture: typeof spec.system.architecture === 'string' ? spec.system.architecture : 'custom',
    ind: system.options.ind,
    parameters: system.paramNames.reduce((s, n) => s + init[n]!.size, 0),
    train_examples: trainSet.count,
    test_examples: testSet.count,
    ...(options.robustness ? { robustness_examples: Math.min(options.robustness.examples, data.test.count) } : {}),
    ...(paired.length ? { robustness_paired: paired } : {}),
    ...(repair ? { repair } : {}),
  };
}

function writePlots(folder: JobContext<Options>['folder'], curves: Record<string, CycleCurve>, rows: readonly (RobustnessRow & { cycles: number })[]): void {
  for (const f of cnnfFigures(curves, rows)) folder.writeText(`${f.id}.svg`, renderFigureSvg(f));
}

/**
 * Each CNN-F model's PGD outcome against the CNN's (cycles 0) at the same ε, image by image: the same test
 * images and the same attack, so the difference is tested on the images where the two disagree
 * (base/statistics.ts) instead of by comparing two overlapping intervals.
 */
export function pairedAgainstCnn(rows: readonly (RobustnessRow & { cycles: number })[]) {
  return rows
    .filter((row) => row.cycles > 0)
    .flatMap((row) => {
      const cnn = rows.find((r) => r.cycles === 0 && r.epsilon === row.epsilon);
      if (!cnn) return [];
      const c = pairedComparison(cnn.robust, row.robust);
      return [{ cycles: row.cycles, surface: row.surface, epsilon: row.epsilon, cnn_accuracy: c.accuracyA, cnnf_accuracy: c.accuracyB, only_cnnf: c.onlyB, only_cnn: c.onlyA, difference: c.difference, interval: c.interval, p: c.p }];
    });
}

/** curves.svg (accuracy against test-time cycles) and robustness.svg (PGD accuracy against ε), where there is data. */
export function cnnfFigures(curves: Readonly<Record<string, Pick<CycleCurve, 'last' | 'average'>>>, rows: readonly (RobustnessRow & { cycles: number })[]): LineFigure[] {
  const out: LineFigure[] = [];
  const curveSeries = Object.entries(curves).flatMap(([cycles, c]) => [
    { name: `trained ${cycles}, last`, x: c.last.map((_, t) => t), y: c.last.map((v) => 100 * v) },
    { name: `trained ${cycles}, avg`, x: c.average.map((_, t) => t), y: c.average.map((v) => 100 * v) },
  ]);
  if (curveSeries.length) out.push({ kind: 'line', id: 'curves', title: 'Test accuracy against test-time cycles', x: { label: 'cycles', integer: true }, y: { label: 'accuracy (%)', domain: [0, 100] }, series: curveSeries });
  const keys = [...new Set(rows.map((r) => `${r.cycles}|${r.surface}`))];
  if (keys.length) {
    const series = keys.map((key) => {
      const [cycles, surface] = key.split('|');
      const mine = rows.filter((r) => `${r.cycles}|${r.surface}` === key);
      return { name: cycles === '0' ? 'CNN' : `CNN-F ${cycles}, ${surface}`, x: mine.map((r) => r.epsilon), y: mine.map((r) => 100 * r.accuracy) };
    });
    out.push({ kind: 'line', id: 'robustness', title: 'PGD robust accuracy', x: { label: 'ε (L∞, pixels in [0, 1])' }, y: { label: 'accuracy (%)', domain: [0, 100] }, series });
  }
  return out;
}

export const cnnfTrain: JobEntry<Options> = {
  kind: 'cnnf-train',
  description: 'CNN-F: the CNN-F loss (CE at every cycle, reconstruction MSE, optional PGD examples) by BPTT with SGD/poly/clipping, one model per cycle count (0 = the CNN); accuracy vs cycles, PGD first/e2e robustness, image repair',
  options: cnnfTrainOptions,
  systems: ['cnn-f'],
  // With testCycles 0, a 0-cycle model is evaluated by its first pass alone: no relaxation to record.
  traces: (spec) => {
    const job = spec.job as { cycles?: number[]; testCycles?: number };
    return (job.testCycles ?? 10) === 0 && (job.cycles ?? [1, 0]).includes(0) ? 'no: with testCycles 0 the 0-cycle model is evaluated by its first pass alone, which runs no relaxation to record' : 'yes';
  },
  run,
};
