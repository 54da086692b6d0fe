/**
 * What the EP training jobs share: their options, building the network from the spec, the EP and BPTT
 * rules over it, the optimizer with one learning rate per layer, evaluation, the memory meter, and one
 * training run with per-epoch evaluation, metrics and resumable checkpoints.
 *
 * The free phase has T1 = `run.maxSteps` steps (in training, in BPTT's unrolled loss and in evaluation).
 * Per epoch a training reports: `train_accuracy`, the accuracy of the free-phase prediction on each
 * training batch as it is trained on (the running accuracy the EP papers report), `test_accuracy` after
 * the epoch, `seconds` of training (evaluation excluded, in `eval_seconds`), and the memory high-water
 * marks sampled after every relaxation step: `peak_tensor_bytes` (tf.memory().numBytes, the bytes held
 * by live tensors, including the BPTT tape) and `peak_rss_bytes` (the process's resident memory).
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SpecError, withSpecPath } from '../../base/errors.js';
import { parseGradientMode } from '../../core/gradient-mode.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { datasetAccuracy, type Dataset } from '../../data/index.js';
import { bpttThroughFreePhase } from './bptt-rule.js';
import { disposeTree, tidyTree } from '../../core/tree.js';
import { recordEvaluationTraces, traceExamples } from '../traces.js';
import { createParticleStore, type ParticleStore } from './particles.js';
import { equilibriumPropagation } from './rule.js';
import { withSurrogateGradient } from './surrogate-variant.js';
import { SURROGATE_GRADIENTS, type SurrogateGradient } from './system-straight-through.js';
import { adam, checkpointTensors, fromCheckpointTensors, optimizerStateTensors, sgd, type Optimizer, type OptimizerState, type ParamMap } from '../../learning/optimizers.js';
import { memoryMeter, type MemoryMeter } from '../../learning/memory-meter.js';
import type { LearningRule } from '../../learning/rule.js';
import { train } from '../../learning/train.js';
import type { CheckpointStore } from '../../runs/checkpoints.js';
import type { EpParams, EquilibriumNetwork } from './system.js';
import type { JobContext, ResolvedSpec, SystemEntry } from '../family.js';
import type { DatasetShape } from '../../data/index.js';
import { measureSettling, settlingNote, type Settling } from '../../core/settling.js';

const rates = z.array(z.number().positive()).min(1).describe('one learning rate per layer (W1/b1, W2/b2, …)');

export const epOptimizerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sgd'),
    lr: rates,
    momentum: z.number().min(0).max(1).default(0),
    weightDecay: z.number().min(0).default(0),
  }),
  z.strictObject({
    kind: z.literal('adam'),
    lr: rates,
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.999),
  }),
]);

/** Options every EP training job has (the free phase is T1 = run.maxSteps steps). */
export const epTrainingFields = {
  nudgedSteps: z.int().min(1).describe('T2: steps of each nudged phase'),
  beta: z.number().positive().describe('|β|, the nudging strength'),
  nudging: z.enum(['one-sided', 'random-sign', 'symmetric']).default('one-sided').describe("β's sign: fixed, drawn per batch, or ±β (a third phase)"),
  persistentParticles: z.boolean().default(false).describe("start each example's free phase where it last relaxed to (Scellier & Bengio)"),
  continual: z.boolean().default(false).describe('continual EP: move the weights at every nudged step (needs plain SGD)'),
  optimizer: epOptimizerSchema,
  batchSize: z.int().min(1).default(20),
  epochs: z.int().min(1),
  trainLimit: z.int().min(1).optional().describe('train on the first n training examples only'),
  testLimit: z.int().min(1).optional().describe('evaluate on the first n test examples only'),
  surrogateGradient: z.enum(SURROGATE_GRADIENTS).optional().describe("BPTT only: the loss's gradient through ρ's clips, exact or straight-through (the clipped units still pass gradient; the dynamics is unchanged)"),
};

export type EpOptimizerOptions = z.infer<typeof epOptimizerSchema>;
export interface EpTrainingOptions {
  readonly nudgedSteps: number;
  readonly beta: number;
  readonly nudging: 'one-sided' | 'random-sign' | 'symmetric';
  readonly persistentParticles: boolean;
  readonly continual: boolean;
  readonly optimizer: EpOptimizerOptions;
  readonly batchSize: number;
  readonly epochs: number;
  readonly trainLimit?: number;
  readonly testLimit?: number;
  readonly surrogateGradient?: SurrogateGradient;
}

export type Method = 'ep' | 'bptt';

/**
 * What the EP training jobs cannot run, found from the spec alone (and the data's shape where known):
 * the one check `validate` and `run` share (JobEntry.check).
 */
export function checkEpSpec(spec: ResolvedSpec, system: SystemEntry, data: DatasetShape | undefined): void {
  if (spec.run.converge) throw new SpecError('run.converge', 'EP training relaxes exactly T1 = run.maxSteps steps in every phase; remove run.converge');
  if (parseGradientMode(spec.run.gradient, 'run.gradient').kind !== 'none') {
    throw new SpecError('run.gradient', "EP training chooses how it differentiates (EP: none; BPTT: unrolled); leave run.gradient at 'none'");
  }
  if (spec.run.integrator && spec.run.integrator !== 'map') throw new SpecError('run.integrator', `${system.kind} is a discrete map; use 'map' or leave it out`);
  if (!data) return;
  checkEpSize(spec, data);
  const network = system.create(spec.system, { inputSize: data.height * data.width }) as EquilibriumNetwork<any, any>;
  if (network.classes !== data.classes) {
    const field = 'layers' in spec.system ? 'system.layers' : 'system.classes';
    throw new SpecError(field, `the last layer has ${network.classes} units but ${spec.data.name} has ${data.classes} classes; make the last width ${data.classes}`);
  }
  const job = spec.job as unknown as { optimizer?: EpOptimizerOptions };
  if (job.optimizer) layerRates(network, job.optimizer.lr);
}

/** The most bytes of weights an EP spec may ask for before anything is allocated (the optimizer and BPTT need several times this). */
export const EP_WEIGHT_BUDGET_BYTES = 2 ** 31;

/** Fails fast, before any tensor exists, on a fully connected net whose weights alone exceed the budget. */
function checkEpSize(spec: ResolvedSpec, data: DatasetShape): void {
  const layers = (spec.system as { layers?: unknown }).layers;
  if (!Array.isArray(layers) || !layers.every((n) => Number.isInteger(n) && n > 0)) return;
  const sizes = [data.height * data.width, ...(layers as number[])];
  let weights = 0;
  for (let i = 1; i < sizes.length; i++) weights += sizes[i - 1]! * sizes[i]! + sizes[i]!;
  const bytes = 4 * weights;
  if (bytes > EP_WEIGHT_BUDGET_BYTES) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    throw new SpecError('system.layers', `widths [${sizes.join(', ')}] need ${weights.toExponential(2)} weights, ${gib(bytes)} in float32 before the optimizer's copies; at most ${gib(EP_WEIGHT_BUDGET_BYTES)} of weights is allowed: use smaller layers`);
  }
}

/** The network the spec describes, checked against the data and the run section (as checkEpSpec). */
export function buildNetwork(context: JobContext<EpTrainingOptions>): EquilibriumNetwork<any, any> {
  const { spec, data } = context;
  checkEpSpec(spec, context.system, { classes: data.train.classes, height: data.train.height, width: data.train.width });
  return context.system.create(spec.system, { inputSize: data.train.height * data.train.width }) as EquilibriumNetwork<any, any>;
}

/** Per-parameter rates from per-layer ones: W<n> and b<n> get lr[n-1]. */
export function layerRates(network: EquilibriumNetwork<any, any>, lr: readonly number[]): Record<string, number> {
  const layers = network.paramNames.length / 2;
  if (lr.length !== layers) {
    throw new SpecError('job.optimizer.lr', `gives ${lr.length} rate${lr.length === 1 ? '' : 's'} for a network of ${layers} layers (${network.paramNames.join(', ')}); give one per layer`);
  }
  return Object.fromEntries(network.paramNames.map((name) => [name, lr[Number(name.slice(1)) - 1]!]));
}

export function buildOptimizer(network: EquilibriumNetwork<any, any>, options: EpOptimizerOptions): Optimizer {
  const lr = layerRates(network, options.lr);
  return options.kind === 'sgd' ? sgd({ lr, momentum: options.momentum, weightDecay: options.weightDecay }) : adam({ lr, beta1: options.beta1, beta2: options.beta2 });
}

export function buildRule(
  network: EquilibriumNetwork<any, any>,
  method: Method,
  options: EpTrainingOptions,
  freeSteps: number,
  meter: MemoryMeter,
  particles: ParticleStore | undefined,
): LearningRule<ParamMap> {
  if (method === 'bptt') {
    const surrogate = options.surrogateGradient ?? 'exact';
    const unrolled = surrogate === 'exact' ? network : withSurrogateGradient(network, surrogate);
    return bpttThroughFreePhase({ system: unrolled, freeSteps, onStep: meter.sample });
  }
  if (options.continual && !(options.optimizer.kind === 'sgd' && options.optimizer.momentum === 0 && options.optimizer.weightDecay === 0)) {
    throw new SpecError('job.continual', 'continual EP moves the weights during the nudged phase with plain SGD; use optimizer {"kind": "sgd"} without momentum or weight decay');
  }
  return withSpecPath('job', () => equilibriumPropagation({
    system: network,
    freeSteps,
    nudgedSteps: options.nudgedSteps,
    beta: options.beta,
    nudging: options.nudging,
    ...(particles ? { particles } : {}),
    ...(options.continual ? { continual: { lr: layerRates(network, options.optimizer.lr) } } : {}),
    onStep: meter.sample,
  }));
}

/** Accuracy of the free-phase prediction (T1 steps from zeros) on the first `limit` examples. */
export function evaluateAccuracy(network: EquilibriumNetwork<any, any>, params: EpParams, data: Dataset, freeSteps: number, limit?: number, batchSize = 500): number {
  const logitsOf = (x: tf.Tensor) => {
    const input = network.prepare({ x }, params);
    const solution = throwIfDiverged(simulate({ system: network, params, input, maxSteps: freeSteps, checkEvery: freeSteps }));
    const logits = tf.clone(network.readout!(solution.state, input, params));
    solution.dispose();
    return logits;
  };
  return datasetAccuracy(logitsOf, data, { layout: network.layout, batchSize, ...(limit !== undefined ? { limit } : {}) });
}

/**
 * The spec's probes on the evaluation relaxation of the trained network: the free phase (T1 steps from
 * zeros, as `evaluateAccuracy` runs it) of the first test examples; `label` names the model ('ep', 'bptt').
 */
export function traceTrained(context: JobContext<EpTrainingOptions>, network: EquilibriumNetwork<any, any>, params: EpParams, label: string): void {
  if (context.spec.probes.length === 0) return;
  const freeSteps = context.spec.run.maxSteps;
  const { x, examples, labels } = traceExamples(context.data.test, network.layout);
  const input = tidyTree(() => network.prepare({ x }, params));
  try {
    recordEvaluationTraces(context, { label, system: network, params, input, settings: { maxSteps: freeSteps, checkEvery: freeSteps }, examples, labels, condition: 'clean' });
  } finally {
    disposeTree(input);
    x.dispose();
  }
}

/**
 * How many of its T1 free steps the trained network's evaluation relaxation needs, measured on the first
 * test examples (core/settling.ts). A net that settles in one step is feed-forward in effect: its summary
 * says so, and the job prints it.
 */
export function evaluationSettling(context: JobContext<EpTrainingOptions>, network: EquilibriumNetwork<any, any>, params: EpParams): Settling {
  const { x } = traceExamples(context.data.test, network.layout);
  const input = tidyTree(() => network.prepare({ x }, params));
  try {
    return measureSettling({ system: network, params, input, maxSteps: context.spec.run.maxSteps });
  } finally {
    disposeTree(input);
    x.dispose();
  }
}

/** The summary's fields for the settling step, and its note printed where the relaxation needed fewer steps. */
export function settlingSummary(context: Pick<JobContext<unknown>, 'say'>, settling: Settling): Record<string, unknown> {
  const note = settlingNote(settling);
  if (note) context.say(`note: ${note}`);
  return { settled_in_one_step: settling.settledInOneStep, settled_after_steps: settling.settledAfterSteps, relaxation_steps: settling.pricedSteps, ...(note ? { settling_note: note } : {}) };
}

export type EpochRecord = {
  readonly method: Method;
  readonly epoch: number;
  readonly train_accuracy: number;
  readonly test_accuracy: number;
  readonly cost: number;
  readonly seconds: number;
  readonly eval_seconds: number;
  readonly peak_tensor_bytes: number;
  readonly peak_rss_bytes: number;
};

export interface TrainingOutcome {
  /** Final parameters (the caller disposes them). */
  readonly params: ParamMap;
  readonly history: readonly EpochRecord[];
}

function clone(params: EpParams): ParamMap {
  return Object.fromEntries(Object.entries(params).map(([k, t]) => [k, t.clone()]));
}

/**
 * Trains the network with one method from `init` (not consumed), or continues from the method's last
 * checkpoint. `onEpoch` receives each epoch's record as it is completed (not those restored).
 */
export async function trainMethod(
  context: JobContext<EpTrainingOptions>,
  network: EquilibriumNetwork<any, any>,
  method: Method,
  init: EpParams,
  checkpoints: CheckpointStore,
  onEpoch: (record: EpochRecord) => void,
): Promise<TrainingOutcome> {
  const { options, data, spec } = context;
  const freeSteps = spec.run.maxSteps;
  const trainCount = Math.min(options.trainLimit ?? data.train.count, data.train.count);
  const optimizer = buildOptimizer(network, options.optimizer);
  const meter = memoryMeter();
  const saved = checkpoints.load(method);
  let particles: ParticleStore | undefined;
  if (method === 'ep' && options.persistentParticles) {
    const template = tf.tidy(() => network.initState(network.prepare({ x: tf.zeros(network.layout === 'flat' ? [1, data.train.height * data.train.width] : [1, data.train.height, data.train.width, 1]) }, init), init));
    const stored = saved ? Object.keys(saved.arrays).sort().map((k) => saved.arrays[k]!) : undefined;
    particles = createParticleStore(trainCount, template, stored);
    tf.dispose(Object.values(template).flat() as tf.Tensor[]);
  }
  const rule = buildRule(network, method, options, freeSteps, meter, particles);
  const history: EpochRecord[] = saved ? [...((saved.record.history as EpochRecord[]) ?? [])] : [];
  let params: ParamMap;
  let optimizerState: OptimizerState | undefined;
  if (saved) {
    ({ params, state: optimizerState } = fromCheckpointTensors(saved.tensors, network.paramNames, saved.record.optimizerStep as number));
    context.say(`${method}: resuming after epoch ${saved.epoch} of ${options.epochs} from ${checkpoints.dir}`);
  } else params = clone(init);
  if (saved && saved.epoch >= options.epochs) {
    tf.dispose(Object.values(optimizerStateTensors(optimizerState!)));
    return { params, history };
  }

  const progress = context.progress(`${method} training`, (options.epochs - (saved?.epoch ?? 0)) * trainCount);
  try {
    const result = await train({
      params,
      rule,
      optimizer,
      ...(optimizerState ? { optimizerState } : {}),
      data: data.train,
      layout: network.layout,
      batchSize: options.batchSize,
      epochs: options.epochs,
      startEpoch: saved?.epoch ?? 0,
      limit: trainCount,
      rng: context.rng.split('train'),
      onBatch: (examples) => {
        meter.sample();
        progress.tick(examples);
      },
      onEpoch: (report, current, state) => {
        const evalStart = performance.now();
        const testAccuracy = evaluateAccuracy(network, current, data.test, freeSteps, options.testLimit, network.layout === 'flat' ? 500 : 100);
        const record: EpochRecord = {
          method,
          epoch: report.epoch + 1,
          train_accuracy: report.metrics.accuracy ?? Number.NaN,
          test_accuracy: testAccuracy,
          cost: report.metrics.cost ?? Number.NaN,
          seconds: Number(report.seconds.toFixed(3)),
          eval_seconds: Number(((performance.now() - evalStart) / 1000).toFixed(3)),
          peak_tensor_bytes: meter.peakTensorBytes,
          peak_rss_bytes: meter.peakRssBytes,
        };
        meter.reset();
        history.push(record);
        checkpoints.save(method, {
          epoch: report.epoch + 1,
          tensors: checkpointTensors(current, state),
          arrays: particles ? Object.fromEntries(particles.data.map((d, i) => [`particles-${String(i).padStart(3, '0')}`, d])) : {},
          record: { history, optimizerStep: state.step },
        });
        onEpoch(record);
      },
    });
    tf.dispose(Object.values(optimizerStateTensors(result.state)));
    return { params: result.params, history };
  } finally {
    progress.done();
  }
}

/** One line per epoch for the person running it. */
export function describeEpoch(r: EpochRecord): string {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  return `${r.method} epoch ${r.epoch}: train ${pct(r.train_accuracy)}  test ${pct(r.test_accuracy)}  cost ${r.cost.toFixed(4)}  ${r.seconds.toFixed(1)} s (+${r.eval_seconds.toFixed(1)} s eval)  peak tensors ${(r.peak_tensor_bytes / 2 ** 20).toFixed(1)} MiB, rss ${(r.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB`;
}
