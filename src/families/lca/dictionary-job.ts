/**
 * Learn an LCA dictionary on images (lcapt's examples/builtin_dictionary_learning_mnist_fc.ipynb, scaled to
 * a CPU): per batch, relax the LCA for `run.maxSteps` steps from u = 0, then update Φ with the chosen rule
 * (`hebbian`: lcapt's built-in update, η/(n_k + 1) per feature, optional clip; `energy-gradient`: autodiff
 * of the batch-mean energy with the code held fixed, SGD with momentum as lcapt's optimiser notebook), and
 * renormalise every atom to unit norm after each step. Works for `lca` (atoms of the whole image) and
 * `lca-conv` (k×k atoms).
 *
 * Reported on `evalExamples` test images, relaxed with the learned dictionary (means over examples):
 * `recon_error_rel` = ‖s − ŝ‖/‖s‖ on the normalised signal, `fraction_active` (nonzero coefficients / all),
 * `energy_final` = ½‖s − ŝ‖² + λ‖a‖₁ after the last step, plus the same before training (`*_initial_dictionary`)
 * so the effect of learning is visible. Pictures: `atoms.png` (the learned atoms, most used first),
 * `reconstructions.png` (test inputs, odd rows, above their reconstructions, even rows, on one grey scale),
 * `energy-trajectory.svg` (mean energy along the relaxation, before and after learning). The dictionary is
 * saved with saveModel (`model/`).
 *
 * Resumable like the EP and PC jobs: after every epoch the dictionary, the optimizer state and the epoch's
 * records are checkpointed (runs/checkpoints.ts, label `dictionary`), cleared once the run folder is
 * committed; `--resume` continues from the last complete epoch. train() splits the data order and batch
 * randomness from the seed by epoch and batch index, so a resumed run ends with the same dictionary, bit
 * for bit, as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SpecError, withSpecPath } from '../../base/errors.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { subset, toTensors, type Dataset } from '../../data/index.js';
import { lcaEnergyGradientRule, lcaHebbianRule, unitNormAtoms, type LcaLikeSystem } from './dictionary-rules.js';
import { checkpointTensors, fromCheckpointTensors, optimizerStateTensors, sgd, type OptimizerState } from '../../learning/optimizers.js';
import { openCheckpoints } from '../../runs/checkpoints.js';
import { train } from '../../learning/train.js';
import { saveModel } from '../../runs/model-store.js';
import { tileGridPng } from '../../runs/png.js';
import { normalizeSamples, randomDictionary, type LcaState } from './system-common.js';
import type { LcaConvSystem } from './system-conv.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { recordEvaluationTraces, TRACE_EXAMPLES } from '../traces.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';

export const lcaDictionaryOptions = z.strictObject({
  rule: z.enum(['hebbian', 'energy-gradient']).default('hebbian').describe("'hebbian': lcapt's built-in local update; 'energy-gradient': autodiff of the energy, SGD with momentum"),
  eta: z.number().positive().default(0.01).describe('hebbian: learning rate η (lcapt default 0.01), divided per feature by (times active + 1)'),
  clip: z.number().positive().optional().describe('hebbian: largest |ΔΦ| per element (lcapt d_update_clip; default none)'),
  lr: z.number().positive().default(0.001).describe('energy-gradient: SGD learning rate (lcapt notebook 1e-3)'),
  momentum: z.number().min(0).max(1).default(0.1).describe('energy-gradient: SGD momentum (lcapt notebook 0.1)'),
  epochs: z.int().min(1).default(2),
  batchSize: z.int().min(1).default(64),
  trainExamples: z.int().min(1).optional().describe('use only the first n training images (default all)'),
  evalExamples: z.int().min(1).default(500).describe('test images relaxed for the reported metrics'),
  atomsShown: z.int().min(1).default(100).describe('atoms drawn in atoms.png'),
});
type Options = z.infer<typeof lcaDictionaryOptions>;

interface Evaluation {
  readonly recon_error_rel: number;
  readonly fraction_active: number;
  readonly energy_final: number;
  readonly energyTrace: { steps: number[]; values: number[] };
}

function isConv(system: LcaLikeSystem): system is LcaLikeSystem & LcaConvSystem {
  return system.kind === 'lca-conv';
}

/** Relaxes the test images in batches and averages the metrics over examples. */
function evaluate(system: LcaLikeSystem, dictionary: tf.Tensor, images: tf.Tensor, steps: number, batchSize: number): Evaluation {
  let recon = 0;
  let active = 0;
  let energy = 0;
  let trace: number[] | undefined;
  let traceSteps: number[] = [];
  const count = images.shape[0]!;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const x = tf.slice(images, start, size);
    const params = { dictionary };
    const input = tf.tidy(() => (system.prepare ? system.prepare({ x }, params) : { x }));
    const sol = throwIfDiverged(
      simulate({
        system,
        params,
        input,
        maxSteps: steps,
        probes: [
          { variable: 'energy', reduce: 'mean', every: Math.max(1, Math.floor(steps / 100)) },
          { variable: 'recon_error_rel' },
          { variable: 'fraction_active' },
        ],
      }),
    );
    const sumLast = (name: string) => {
      const values = sol.traces[name]!.values;
      return tf.tidy(() => tf.sum(tf.slice(values, values.shape[0]! - 1, 1)).dataSync()[0]!);
    };
    recon += sumLast('recon_error_rel');
    active += sumLast('fraction_active');
    const energies = Array.from(sol.traces.energy!.values.dataSync());
    energy += energies[energies.length - 1]! * size;
    trace = trace ? trace.map((v, i) => v + energies[i]! * size) : energies.map((v) => v * size);
    traceSteps = [...sol.traces.energy!.steps];
    sol.dispose();
    tf.dispose([...new Set([x, ...Object.values(input)])]);
  }
  return { recon_error_rel: recon / count, fraction_active: active / count, energy_final: energy / count, energyTrace: { steps: traceSteps, values: trace!.map((v) => v / count) } };
}

/** The spec's probes on the evaluation relaxation of the first test images with `dictionary`. */
function traceDictionary(context: JobContext<Options>, system: LcaLikeSystem, dictionary: tf.Tensor, images: tf.Tensor, label: string): void {
  if (context.spec.probes.length === 0) return;
  const count = Math.min(TRACE_EXAMPLES, images.shape[0]!);
  const x = tf.slice(images, 0, count);
  const params = { dictionary };
  const input = tf.tidy(() => (system.prepare ? system.prepare({ x }, params) : { x }));
  try {
    const examples = Array.from({ length: count }, (_, i) => i);
    recordEvaluationTraces(context, { label, system, params, input, settings: { maxSteps: context.spec.run.maxSteps }, examples, labels: Array.from(context.data.test.labels.subarray(0, count)), condition: 'clean' });
  } finally {
    tf.dispose([...new Set([x, ...Object.values(input)])]);
  }
}

/** Atoms as tiles [count, h, w] (first input channel), most used first. */
function atomTiles(system: LcaLikeSystem, dictionary: tf.Tensor, usage: Float32Array, shown: number, imageSide: number): { values: Float32Array; side: number; indices: number[] } {
  const order = Array.from(usage.keys()).sort((i, j) => usage[j]! - usage[i]!).slice(0, shown);
  return tf.tidy(() => {
    const index = tf.tensor1d(order, 'int32');
    if (isConv(system)) {
      const k = system.options.kernelSize;
      const atoms = tf.transpose(tf.gather(tf.slice(dictionary, [0, 0, 0, 0], [k, k, 1, -1]), index, 3), [3, 0, 1, 2]);
      return { values: atoms.dataSync() as Float32Array, side: k, indices: order };
    }
    return { values: tf.transpose(tf.gather(dictionary, index, 1)).dataSync() as Float32Array, side: imageSide, indices: order };
  });
}

async function run(context: JobContext<Options>): Promise<Metrics> {
  const { spec, options, folder, say } = context;
  const trainSet: Dataset = options.trainExamples ? subset(context.data.train, 0, Math.min(options.trainExamples, context.data.train.count)) : context.data.train;
  const side = trainSet.height;
  if (trainSet.width !== side) throw new SpecError('data.name', `lca-dictionary draws square images; ${trainSet.name} is ${trainSet.height}×${trainSet.width}`);
  const system = context.system.create(spec.system, { inputSize: side * side }) as LcaLikeSystem;
  const conv = isConv(system);
  if (conv && system.options.inputChannels !== 1) throw new SpecError('system.inputChannels', `the datasets are greyscale: use 1, got ${system.options.inputChannels}`);
  const layout = conv ? 'nhwc' : 'flat';
  const iterations = spec.run.maxSteps;
  const shape = conv ? system.dictionaryShape() : [side * side, (system.options as unknown as { features: number }).features];
  let dictionary = randomDictionary(shape, context.rng.split('dictionary'));

  const ruleOptions = { system, iterations };
  const rule = withSpecPath('job', () => options.rule === 'hebbian' ? lcaHebbianRule({ ...ruleOptions, eta: options.eta, ...(options.clip !== undefined ? { clip: options.clip } : {}) }) : lcaEnergyGradientRule(ruleOptions));
  const optimizer = options.rule === 'hebbian' ? sgd({ lr: 1 }) : sgd({ lr: options.lr, momentum: options.momentum });

  const test = subset(context.data.test, 0, Math.min(options.evalExamples, context.data.test.count));
  const { x: testImages, y: testLabels } = toTensors(test, { layout });
  testLabels.dispose();
  const evalBatch = Math.max(options.batchSize, 100);
  const before = evaluate(system, dictionary, testImages, iterations, evalBatch);
  traceDictionary(context, system, dictionary, testImages, 'initial-dictionary');
  say(`before learning: recon error ${before.recon_error_rel.toFixed(3)}, fraction active ${before.fraction_active.toFixed(4)}, energy ${before.energy_final.toFixed(2)}`);
  // Epochs count from 1 as in every job's metrics; 0 is the dictionary before learning.
  folder.appendMetrics({ epoch: 0, ...withoutTrace(before) });

  const checkpoints = openCheckpoints(folder.destination, spec, context.resume ?? false);
  folder.afterCommit(() => checkpoints.clear());
  const saved = checkpoints.load('dictionary');
  let optimizerState: OptimizerState | undefined;
  let after: Evaluation = before;
  const history: Record<string, unknown>[] = [];
  if (saved) {
    dictionary.dispose();
    const restored = fromCheckpointTensors(saved.tensors, ['dictionary'], saved.record.optimizerStep as number);
    dictionary = restored.params.dictionary!;
    optimizerState = restored.state;
    // The restored epochs' lines, so a resumed run's metrics.jsonl reads as an uninterrupted one's.
    for (const line of (saved.record.history as Record<string, unknown>[]) ?? []) {
      history.push(line);
      folder.appendMetrics(line);
    }
    after = saved.record.after as Evaluation;
    say(`resuming after epoch ${saved.epoch} of ${options.epochs}`);
  }
  const done = saved?.epoch ?? 0;

  const batchesPerEpoch = Math.ceil(trainSet.count / options.batchSize);
  const progress = context.progress('learning the dictionary', Math.max(0, options.epochs - done) * trainSet.count);
  try {
    const result = done >= options.epochs ? { params: { dictionary }, state: optimizerState! } : await train({
      params: { dictionary },
      rule,
      optimizer,
      ...(optimizerState ? { optimizerState } : {}),
      data: trainSet,
      layout,
      batchSize: options.batchSize,
      epochs: options.epochs,
      startEpoch: done,
      rng: context.rng.split('train'),
      project: unitNormAtoms(),
      onBatch: (examples) => progress.tick(examples),
      onEpoch: (report, params, state) => {
        after = evaluate(system, params.dictionary!, testImages, iterations, evalBatch);
        const line = { epoch: report.epoch + 1, seconds: report.seconds, batches: batchesPerEpoch, train: report.metrics, ...withoutTrace(after) };
        history.push(line);
        folder.appendMetrics(line);
        checkpoints.save('dictionary', { epoch: report.epoch + 1, tensors: checkpointTensors(params, state), arrays: {}, record: { history, after, optimizerStep: state.step } });
        say(
          `epoch ${report.epoch + 1}/${options.epochs}: train energy ${report.metrics.energy?.toFixed(2)}, test recon error ${after.recon_error_rel.toFixed(3)}, ` +
            `fraction active ${after.fraction_active.toFixed(4)}, energy ${after.energy_final.toFixed(2)} (${report.seconds.toFixed(0)} s)`,
        );
      },
    });
    dictionary = result.params.dictionary!;
    tf.dispose(Object.values(optimizerStateTensors(result.state)));
  } finally {
    progress.done();
  }

  // Usage of each atom on the test images, to draw the most used first.
  const { usage, reconstructions, inputs } = tf.tidy(() => {
    const x = tf.slice(testImages, 0, Math.min(200, test.count));
    const params = { dictionary };
    const input = system.prepare ? system.prepare({ x }, params) : { x };
    const sol = simulate({ system, params, input, maxSteps: iterations });
    const a = (sol.state as LcaState).a;
    const features = a.shape[a.rank - 1]!;
    const used = tf.sum(tf.reshape(tf.cast(tf.notEqual(a, 0), 'float32'), [-1, features]), 0).dataSync() as Float32Array;
    const signal = system.options.normalizeInput ? normalizeSamples(x) : x;
    const recon = system.operator.reconstruct(a, dictionary, signal);
    const shown = 16;
    const out = { usage: Float32Array.from(used), reconstructions: Float32Array.from(tf.slice(recon, 0, shown).dataSync()), inputs: Float32Array.from(tf.slice(signal, 0, shown).dataSync()) };
    sol.dispose();
    return out;
  });
  const atoms = atomTiles(system, dictionary, usage, options.atomsShown, side);
  folder.writeBytes('atoms.png', tileGridPng(atoms.values, atoms.side, atoms.side, { columns: Math.ceil(Math.sqrt(options.atomsShown)), scale: conv ? 6 : 2, gap: 2, gapGrey: 255, range: system.options.nonnegative ? 'tile' : 'symmetric', labels: atoms.indices.map(String) }));
  const per = side * side;
  const shownCount = inputs.length / per;
  const pairs = new Float32Array(2 * inputs.length);
  const pairLabels: string[] = [];
  const rowLength = 8;
  for (let i = 0; i < shownCount; i++) {
    const row = Math.floor(i / rowLength);
    const col = i % rowLength;
    pairs.set(inputs.subarray(i * per, (i + 1) * per), (2 * row * rowLength + col) * per);
    pairs.set(reconstructions.subarray(i * per, (i + 1) * per), ((2 * row + 1) * rowLength + col) * per);
    pairLabels[2 * row * rowLength + col] = `in ${i}`;
    pairLabels[(2 * row + 1) * rowLength + col] = `rec ${i}`;
  }
  const low = Math.min(...inputs);
  const high = Math.max(...inputs);
  folder.writeBytes('reconstructions.png', tileGridPng(pairs, side, side, { columns: rowLength, scale: 2, range: [low, high], labels: pairLabels }));
  folder.writeText(
    'energy-trajectory.svg',
    renderFigureSvg({
      kind: 'line',
      id: 'energy-trajectory',
      title: 'LCA energy along the relaxation, random vs learned dictionary',
      note: `Mean over ${test.count} test images of ½‖s − ŝ‖² + λ‖a‖₁.`,
      x: { label: 'relaxation step' },
      y: { label: 'energy' },
      series: [
        { name: 'random dictionary', x: before.energyTrace.steps, y: before.energyTrace.values },
        { name: 'learned dictionary', x: after.energyTrace.steps, y: after.energyTrace.values },
      ],
    }),
  );
  traceDictionary(context, system, dictionary, testImages, 'learned-dictionary');
  saveModel(folder, { system: spec.system, trainedBy: rule.name, meta: { inputShape: conv ? [side, side, 1] : [side * side], dictionaryShape: dictionary.shape, iterations, layout, dataset: trainSet.name } }, { dictionary });
  tf.dispose([dictionary, testImages]);
  return {
    ...withoutTrace(after),
    recon_error_rel_initial_dictionary: before.recon_error_rel,
    fraction_active_initial_dictionary: before.fraction_active,
    energy_final_initial_dictionary: before.energy_final,
    atoms_never_used: Array.from(usage).filter((u) => u === 0).length,
    iterations,
    rule: rule.name,
    train_examples: trainSet.count,
    eval_examples: test.count,
  };
}

function withoutTrace(e: Evaluation): Omit<Evaluation, 'energyTrace'> {
  const { energyTrace: _trace, ...rest } = e;
  return rest;
}

export const lcaDictionary: JobEntry<Options> = {
  kind: 'lca-dictionary',
  description: 'learn an LCA dictionary on images (Hebbian or energy-gradient rule), report reconstruction, sparsity and energy',
  options: lcaDictionaryOptions,
  systems: ['lca', 'lca-conv'],
  traces: 'yes',
  run,
};
