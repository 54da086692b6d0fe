/**
 * `pc-vs-bp`: predictive coding against backprop on the same network, as PCX's discriminative benchmark
 * (Pinchetti et al. 2024) but reporting every seed and every epoch (PCX reports the best epoch and drops the
 * two worst of seven seeds). Per seed: one initialisation, one data order and one optimizer, trained once by
 * the PC rule (`schedule`, T = run.maxSteps inference steps, β) and once by backprop of the same output cost
 * through the feedforward pass; only the update differs. Test accuracy is the feedforward prediction, the
 * energy minimum without a label, for both.
 *
 * metrics.jsonl: one line per seed, method and epoch (train loss and running accuracy, test accuracy,
 * training seconds, evaluation seconds, peak tensor bytes and resident memory). summary.json: per method the
 * final and best test accuracy of every seed, their mean and standard deviation, and the gap in points.
 * The first seed's models are saved as `model/` (PC) and `model-bp/`. `learning-curves.svg` shows all runs.
 *
 * Resumable like the EP and CNN-F jobs: each (seed, method) training checkpoints its parameters, optimizer
 * state and epoch records after every epoch (runs/checkpoints.ts, label `seed-<s>-<method>`); `--resume`
 * continues the interrupted one from its last epoch and replays the finished ones from their checkpoints.
 * The data order and batch randomness are split from the seed by epoch and batch index, so a resumed run
 * trains to the same parameters, bit for bit, as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SpecError } from '../../base/errors.js';
import { makeRng } from '../../base/rng.js';
import { integrators } from '../../core/integrators/index.js';
import { toTensors, type Dataset } from '../../data/index.js';
import { adam, checkpointTensors, fromCheckpointTensors, optimizerStateTensors, sgd, type Optimizer, type OptimizerState, type ParamMap } from '../../learning/optimizers.js';
import type { LearningRule } from '../../learning/rule.js';
import { train } from '../../learning/train.js';
import { openCheckpoints } from '../../runs/checkpoints.js';
import { saveModel } from '../../runs/model-store.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import type { LineFigure } from '../../runs/plot/figure.js';
import { memoryMeter } from '../../learning/memory-meter.js';
import { recordEvaluationTraces, traceExamples } from '../traces.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { feedforwardBackprop } from './rule-backprop.js';
import { PC_SCHEDULES, predictiveCodingRule, type PcSchedule } from './rule-pc.js';
import { clamped, oneHot, type PcFlow, type PcNetwork, type PcParams } from './system-pc.js';

const optimizerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('adam'), lr: z.number().positive(), beta1: z.number().min(0).max(1).default(0.9), beta2: z.number().min(0).max(1).default(0.999) }),
  z.strictObject({ kind: z.literal('sgd'), lr: z.number().positive(), momentum: z.number().min(0).max(1).default(0), weightDecay: z.number().min(0).default(0) }),
]);

export const pcVsBpOptions = z.strictObject({
  schedule: z.enum(PC_SCHEDULES).default('strict').describe("PC schedule: 'strict', 'fpa' (fixed predictions; = BP at γ = 1) or 'z-il' (= BP, γ = 1)"),
  beta: z.number().refine((b) => b !== 0, 'must be nonzero').default(1).describe('β of the output clamp (1: hard clamp; 0 < β < 1: nudging)'),
  optimizer: optimizerSchema,
  batchSize: z.int().min(1).default(128),
  epochs: z.int().min(1),
  seeds: z.array(z.int().min(0)).min(1).optional().describe('seeds to run (default: the spec seed); every seed is reported'),
  methods: z.array(z.enum(['pc', 'bp'])).min(1).default(['pc', 'bp']).describe('which trainings to run'),
  trainLimit: z.int().min(1).optional().describe('train on the first n training examples only'),
  testLimit: z.int().min(1).optional().describe('evaluate on the first n test examples only'),
});
export type PcVsBpOptions = z.infer<typeof pcVsBpOptions>;
type Method = 'pc' | 'bp';

export type PcEpochRecord = {
  readonly seed: number;
  readonly method: Method;
  readonly epoch: number;
  readonly train_loss: number;
  readonly train_accuracy: number;
  readonly test_accuracy: number;
  readonly energy?: number;
  readonly seconds: number;
  readonly eval_seconds: number;
  readonly peak_tensor_bytes: number;
  readonly peak_rss_bytes: number;
};

/** Accuracy of the feedforward prediction on the first `limit` examples. */
export function feedforwardAccuracy(net: PcNetwork | PcFlow, params: PcParams, data: Dataset, limit?: number, batchSize = 1000): number {
  const count = Math.min(limit ?? data.count, data.count);
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const { x, y } = toTensors(data, { start, count: n, layout: 'flat' });
    correct += tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(net.forward(x as tf.Tensor2D, params)[net.depth - 1]!, 1), y), 'float32')).dataSync()[0]!);
    tf.dispose([x, y]);
  }
  return correct / count;
}

/**
 * The spec's probes on PC inference with the trained weights, for the first test examples: the relaxation
 * PC's learning runs (from the feedforward pass, the output clamped to the label by β C, T = run.maxSteps
 * steps). Its test-time prediction needs no relaxation (without a target the feedforward state is already
 * the minimum of F), so this clamped inference is the dynamics there is to trace.
 */
function tracePcInference(context: JobContext<PcVsBpOptions>, net: PcNetwork | PcFlow, params: ParamMap, method: string): void {
  const { spec } = context;
  if (spec.probes.length === 0) return;
  const { x, examples, labels } = traceExamples(context.data.test, 'flat');
  const { target, layers } = tf.tidy(() => ({ target: oneHot(tf.tensor1d(labels, 'int32'), net.classes), layers: net.forward(x as tf.Tensor2D, params).slice(0, net.depth - 1) }));
  const input = clamped(x as tf.Tensor2D, target, context.options.beta);
  const state0 = { layers };
  try {
    const continuous = net.time === 'continuous' ? { integrator: integrators.get(spec.run.integrator ?? 'euler'), dt: spec.run.dt } : {};
    recordEvaluationTraces(context, { label: method, system: net as PcNetwork, params, input, settings: { maxSteps: spec.run.maxSteps, state0: state0 as never, ...continuous }, examples, labels, condition: `clamped to the label (beta ${context.options.beta})` });
  } finally {
    tf.dispose([x, input.target!, input.beta!, ...state0.layers]);
  }
}

function buildOptimizer(options: PcVsBpOptions['optimizer']): Optimizer {
  return options.kind === 'adam' ? adam({ lr: options.lr, beta1: options.beta1, beta2: options.beta2 }) : sgd({ lr: options.lr, momentum: options.momentum, weightDecay: options.weightDecay });
}

function buildNetwork(context: JobContext<PcVsBpOptions>): PcNetwork | PcFlow {
  const { spec, data } = context;
  const net = context.system.create(spec.system, { inputSize: data.train.height * data.train.width }) as PcNetwork | PcFlow;
  if (net.classes !== data.train.classes) throw new SpecError('system.layers', `the last layer has ${net.classes} units but ${data.train.name} has ${data.train.classes} classes; make the last width ${data.train.classes}`);
  if (spec.run.converge) throw new SpecError('run.converge', 'PC training relaxes exactly T = run.maxSteps inference steps per batch; remove run.converge');
  if (net.time === 'discrete' && spec.run.integrator && spec.run.integrator !== 'map') throw new SpecError('run.integrator', `${net.kind} is a discrete map; use 'map', or the system pc-network-flow for an integrator`);
  return net;
}

async function run(context: JobContext<PcVsBpOptions>): Promise<Metrics> {
  const { options, data, spec, folder } = context;
  const net = buildNetwork(context);
  const seeds = options.seeds ?? [spec.seed];
  const trainCount = Math.min(options.trainLimit ?? data.train.count, data.train.count);
  const meter = memoryMeter();
  const ruleFor = (method: Method): LearningRule<ParamMap> =>
    method === 'bp'
      ? feedforwardBackprop(net)
      : predictiveCodingRule({
          system: net,
          schedule: options.schedule as PcSchedule,
          steps: spec.run.maxSteps,
          beta: options.beta,
          ...(net.time === 'continuous' ? { integrator: integrators.get(spec.run.integrator ?? 'euler'), dt: spec.run.dt } : {}),
          onStep: meter.sample,
        });
  const checkpoints = openCheckpoints(folder.destination, spec, context.resume ?? false);
  const history: PcEpochRecord[] = [];
  for (const [seedIndex, seed] of seeds.entries()) {
    const rng = makeRng(seed);
    const init = net.initParams(rng.split('init'));
    try {
      for (const method of options.methods) {
        const label = `seed-${seed}-${method}`;
        const saved = checkpoints.load(label);
        let start: ParamMap;
        let optimizerState: OptimizerState | undefined;
        if (saved) {
          ({ params: start, state: optimizerState } = fromCheckpointTensors(saved.tensors, net.paramNames, saved.record.optimizerStep as number));
          // The restored epochs' lines, so a resumed run's metrics.jsonl reads as an uninterrupted one's.
          const restored = (saved.record.history as PcEpochRecord[]) ?? [];
          for (const record of restored) {
            history.push(record);
            folder.appendMetrics(record);
          }
          context.say(`seed ${seed} ${method}: resuming after epoch ${saved.epoch} of ${options.epochs}`);
        } else start = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, t.clone()]));
        const done = saved?.epoch ?? 0;
        const progress = context.progress(`seed ${seed} ${method}`, Math.max(0, options.epochs - done) * trainCount);
        meter.reset();
        try {
          const result =
            done >= options.epochs
              ? { params: start, state: optimizerState! }
              : await train({
                  params: start,
                  rule: ruleFor(method),
                  optimizer: buildOptimizer(options.optimizer),
                  ...(optimizerState ? { optimizerState } : {}),
                  data: data.train,
                  layout: 'flat',
                  batchSize: options.batchSize,
                  epochs: options.epochs,
                  startEpoch: done,
                  limit: trainCount,
                  rng: rng.split('train'),
                  onBatch: (examples) => {
                    meter.sample();
                    progress.tick(examples);
                  },
                  onEpoch: (report, params, state) => {
                    const evalStart = performance.now();
                    const record: PcEpochRecord = {
                      seed,
                      method,
                      epoch: report.epoch + 1,
                      train_loss: report.metrics.loss ?? Number.NaN,
                      train_accuracy: report.metrics.accuracy ?? Number.NaN,
                      test_accuracy: feedforwardAccuracy(net, params, data.test, options.testLimit),
                      ...(report.metrics.energy !== undefined ? { energy: report.metrics.energy } : {}),
                      seconds: Number(report.seconds.toFixed(3)),
                      eval_seconds: Number(((performance.now() - evalStart) / 1000).toFixed(3)),
                      peak_tensor_bytes: meter.peakTensorBytes,
                      peak_rss_bytes: meter.peakRssBytes,
                    };
                    meter.reset();
                    history.push(record);
                    folder.appendMetrics(record);
                    checkpoints.save(label, {
                      epoch: record.epoch,
                      tensors: checkpointTensors(params, state),
                      arrays: {},
                      record: { history: history.filter((r) => r.seed === seed && r.method === method), optimizerStep: state.step },
                    });
                    context.say(`seed ${seed} ${method} epoch ${record.epoch}: loss ${record.train_loss.toFixed(4)}  train ${(100 * record.train_accuracy).toFixed(2)}%  test ${(100 * record.test_accuracy).toFixed(2)}%  ${record.seconds.toFixed(1)} s`);
                  },
                });
          if (seedIndex === 0) {
            const meta = { ...spec.system, inputLayout: 'flat', classNames: data.train.classNames, trainedOn: data.train.name, method, schedule: options.schedule, steps: spec.run.maxSteps, seed };
            saveModel(folder, { system: spec.system, trainedBy: method === 'pc' ? `predictive-coding-${options.schedule}` : 'backprop', meta }, result.params, method === 'pc' ? 'model' : 'model-bp');
            tracePcInference(context, net, result.params, method);
          }
          tf.dispose([...Object.values(result.params), ...Object.values(optimizerStateTensors(result.state))]);
        } finally {
          progress.done();
        }
      }
    } finally {
      tf.dispose(Object.values(init));
    }
  }
  folder.writeText(
    'learning-curves.svg',
    renderFigureSvg(pcVsBpFigure(history, options.methods, seeds, `PC (${options.schedule}) vs BP: ${spec.system.kind} on ${data.train.name}`)),
  );
  checkpoints.clear();
  return summarise(history, options.methods, seeds, options.epochs);
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: readonly number[]) => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));
const round = (v: number, digits = 5) => Number(v.toFixed(digits));

/** Test accuracy per epoch, one line per method and seed (learning-curves.svg). */
export function pcVsBpFigure(history: readonly PcEpochRecord[], methods: readonly Method[], seeds: readonly number[], title: string): LineFigure {
  const mine = (seed: number, m: Method) => history.filter((r) => r.seed === seed && r.method === m);
  return {
    kind: 'line',
    id: 'pc-vs-bp',
    title,
    x: { label: 'epoch', integer: true },
    y: { label: 'test accuracy', domain: [0, 1] },
    series: seeds.flatMap((seed) => methods.map((m) => ({ name: `${m.toUpperCase()} seed ${seed}`, x: mine(seed, m).map((r) => r.epoch), y: mine(seed, m).map((r) => r.test_accuracy) }))),
  };
}

export function summarise(history: readonly PcEpochRecord[], methods: readonly Method[], seeds: readonly number[], epochs: number): Metrics {
  const out: Record<string, unknown> = { seeds, epochs };
  for (const m of methods) {
    const final = seeds.map((s) => history.find((r) => r.seed === s && r.method === m && r.epoch === epochs)!.test_accuracy);
    const best = seeds.map((s) => Math.max(...history.filter((r) => r.seed === s && r.method === m).map((r) => r.test_accuracy)));
    const runs = history.filter((r) => r.method === m);
    out[`${m}_test_accuracy_per_seed`] = final;
    out[`${m}_best_test_accuracy_per_seed`] = best;
    out[`${m}_test_accuracy_mean`] = round(mean(final));
    out[`${m}_test_accuracy_std`] = round(std(final));
    out[`${m}_seconds_per_epoch_mean`] = round(mean(runs.map((r) => r.seconds)), 3);
    out[`${m}_peak_tensor_bytes`] = Math.max(...runs.map((r) => r.peak_tensor_bytes));
    out[`${m}_peak_rss_bytes`] = Math.max(...runs.map((r) => r.peak_rss_bytes));
  }
  if (methods.includes('pc') && methods.includes('bp')) out.test_accuracy_gap_points = round(100 * ((out.bp_test_accuracy_mean as number) - (out.pc_test_accuracy_mean as number)), 3);
  return out;
}

export const pcVsBp: JobEntry<PcVsBpOptions> = {
  kind: 'pc-vs-bp',
  description: 'train the same network by predictive coding and by backprop from the same initialisation, per seed, and compare',
  options: pcVsBpOptions,
  systems: ['pc-network', 'pc-network-flow'],
  traces: 'yes',
  run,
};
