/**
 * `relax`: trace a trained model. Takes the run folder of any training run whose system has a classifier
 * (EP, LCANet, Hopfield, Predify, …), relaxes chosen test examples under chosen conditions (clean, a
 * corruption of data/corruptions.ts at a severity, or an attack of src/attacks at an ε, through the
 * model's own relaxation) and records the spec's probes for every example (never a batch mean) with the
 * step index of every record, in `traces/<probe>-<condition>.npy` + `.json` (runs/trace-files.ts), ready for
 * `neurodyn export --format npz|nirdata`. `neurodyn relax <run-folder>` writes this spec for a run folder
 * and runs it.
 *
 * The relaxation is the model's (its classifier: the same input preparation, readout and stop rule that
 * `attack` and `corrupt` evaluate) with the relax spec's run section; the trained run's `spec.json` names
 * the system, which must be the relax spec's. Per condition and example, metrics.jsonl holds the label,
 * the prediction, the steps taken and why the relaxation stopped.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { DataError, SpecError } from '../../base/errors.js';
import { attackModel } from '../../attacks/attack-model.js';
import { classifierFor } from '../../attacks/models/source.js';
import { ATTACK_NAMES, buildAttacks } from '../../attacks/protocol.js';
import { insideThreat } from '../../attacks/threat-model.js';
import { parseGradientMode } from '../../core/gradient-mode.js';
import { corruptDataset, getCorruption } from '../../data/corruptions.js';
import { makeDataset, toTensors, type Dataset } from '../../data/index.js';
import { loadModel } from '../../runs/model-store.js';
import { writeTraces } from '../../runs/trace-files.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';

const conditionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('clean') }),
  z.strictObject({
    kind: z.literal('corrupted'),
    corruption: z.string().describe('a corruption of `neurodyn corrupt` (e.g. mnist-c/shot_noise, cifar-10-c/gaussian_noise)'),
    severity: z.int().min(1).default(1),
  }),
  z.strictObject({
    kind: z.literal('adversarial'),
    attack: z.enum(ATTACK_NAMES).default('pgd').describe('an attack of `neurodyn attack`'),
    epsilon: z.number().positive().describe('radius of the threat model'),
    norm: z.enum(['linf', 'l2']).default('linf'),
    steps: z.int().min(1).default(20).describe('attack iterations (PGD/APGD); queries are 50× this'),
    gradient: z.string().default('unrolled').describe('how the attacker differentiates the relaxation (none, unrolled, truncated(K), implicit)'),
  }),
]);
export type RelaxCondition = z.infer<typeof conditionSchema>;

export const relaxOptions = z.strictObject({
  from: z.string().min(1).describe('run folder of a trained model (it holds spec.json and model/)'),
  model: z.string().default('model').describe("which saved model of the run folder: 'model', or e.g. 'model-bptt', 'model-c2'"),
  examples: z.array(z.int().min(0)).min(1).optional().describe('test-set indices to relax (default the first `count`)'),
  count: z.int().min(1).default(8).describe('relax the first n test examples when `examples` is not given'),
  conditions: z.array(conditionSchema).min(1).default([{ kind: 'clean' }]).describe('clean, corrupted and/or adversarial inputs; one relaxation each'),
});
type Options = z.infer<typeof relaxOptions>;

/** A label for file names: clean, corrupted-mnist-c_fog-1, adversarial-pgd-linf-0.1. */
export function conditionLabel(c: RelaxCondition): string {
  if (c.kind === 'clean') return 'clean';
  if (c.kind === 'corrupted') return `corrupted-${c.corruption.replace('/', '_')}-${c.severity}`;
  return `adversarial-${c.attack}-${c.norm}-${c.epsilon}`;
}

function describe(c: RelaxCondition): string {
  if (c.kind === 'clean') return 'clean';
  if (c.kind === 'corrupted') return `${c.corruption} severity ${c.severity}`;
  return `${c.attack}-${c.steps} ${c.norm} eps ${c.epsilon} (${c.gradient} gradient)`;
}

/** The trained run's spec.json (a resolved spec written by `neurodyn run`). */
function readTrainedSpec(from: string): { system: { kind: string } & Record<string, unknown>; run: Record<string, unknown>; job?: { kind: string } & Record<string, unknown> } {
  const file = path.join(from, 'spec.json');
  if (!fs.existsSync(file)) throw new SpecError('job.from', `${from} is not a run folder (no spec.json); pass the folder a training run wrote`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  const sorted = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, w]) => [k, sorted(w)])) : Array.isArray(v) ? v.map(sorted) : v);
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

/** The chosen examples of the test set, in the given order. */
function chosen(test: Dataset, options: Options): { data: Dataset; indices: number[] } {
  const indices = options.examples ?? Array.from({ length: Math.min(options.count, test.count) }, (_, i) => i);
  const bad = indices.find((i) => i >= test.count);
  if (bad !== undefined) throw new SpecError('job.examples', `index ${bad} is past the test set (${test.count} examples, indices 0…${test.count - 1})`);
  const pixels = test.height * test.width;
  const images = new Float32Array(indices.length * pixels);
  indices.forEach((i, k) => images.set(test.images.subarray(i * pixels, (i + 1) * pixels), k * pixels));
  const labels = Uint8Array.from(indices.map((i) => test.labels[i]!));
  return { data: makeDataset({ ...test, name: `${test.name}[${indices.length} chosen]`, images, labels, count: indices.length }), indices };
}

async function run(context: JobContext<Options>): Promise<Metrics> {
  const { spec, options, folder, say } = context;
  // Every condition is checked before anything is relaxed, so a typo in the last one costs nothing.
  options.conditions.forEach((c, i) => {
    if (c.kind === 'corrupted') {
      const corruption = getCorruption(c.corruption, `job.conditions[${i}].corruption`);
      if (c.severity > corruption.severities) throw new SpecError(`job.conditions[${i}].severity`, `${corruption.name} has severities 1..${corruption.severities}, got ${c.severity}`);
    }
    if (c.kind === 'adversarial') parseGradientMode(c.gradient, `job.conditions[${i}].gradient`);
  });
  const trainedSpec = readTrainedSpec(options.from);
  const model = loadModel(options.from, options.model);
  if (model.system.kind !== spec.system.kind || !sameJson(model.system, spec.system)) {
    tf.dispose(Object.values(model.params));
    throw new SpecError('system', `${path.join(options.from, options.model)} holds a model of ${JSON.stringify(model.system)} but this spec's system is ${JSON.stringify(spec.system)}; copy the trained run's system section`);
  }
  const classifier = classifierFor({
    origin: options.from,
    system: model.system,
    run: spec.run,
    ...(trainedSpec.job ? { job: trainedSpec.job } : {}),
    data: context.data,
    trained: { params: model.params, trainedBy: model.trainedBy, ...(model.meta ? { meta: model.meta } : {}) },
  });
  const probes = spec.probes.map((p) => ({ ...p, reduce: 'none' as const }));
  const { data, indices } = chosen(context.data.test, options);
  const { x, y } = toTensors(data, { layout: 'flat' });
  const labels = Array.from(y.dataSync());
  const perCondition: Record<string, { accuracy: number; steps: number; stopped: string; fooled?: number }> = {};
  try {
    say(`relaxing ${indices.length} test examples of ${options.from} (${classifier.name}) under ${options.conditions.length} condition(s), recording ${probes.map((p) => p.name ?? p.variable).join(', ')}`);
    for (const condition of options.conditions) {
      const label = conditionLabel(condition);
      const inputs = inputsFor(context, condition, classifier, x, y as tf.Tensor1D, data);
      try {
        const result = classifier.run(inputs, { probes });
        try {
          if (!result.traces) throw new SpecError('probes', `the ${classifier.family} classifier (${classifier.name}) does not record probes; the relax job cannot trace it`);
          // A discrete map has no time step: its records are one step apart.
          const dt = context.system.create(spec.system, { inputSize: context.data.test.height * context.data.test.width }).time === 'discrete' ? 1 : spec.run.dt;
          writeTraces(folder, result.traces, { label, system: spec.system.kind, dt, probes, examples: indices, labels, condition: describe(condition) });
          const argmax = tf.argMax(result.logits, 1);
          const predicted = Array.from(argmax.dataSync());
          argmax.dispose();
          predicted.forEach((p, k) => folder.appendMetrics({ condition: label, example: indices[k], label: labels[k], predicted: p, correct: p === labels[k], steps: result.steps, stopped: result.stopped }));
          const accuracy = predicted.filter((p, k) => p === labels[k]).length / predicted.length;
          perCondition[label] = { accuracy, steps: result.steps, stopped: result.stopped };
          say(`${label}: ${(100 * accuracy).toFixed(1)}% correct, ${result.steps} steps (${result.stopped}); traces/${probes.map((p) => `${p.name ?? p.variable}-${label}`).join(', ')}`);
        } finally {
          result.dispose();
        }
      } finally {
        if (inputs !== x) inputs.dispose();
      }
    }
  } finally {
    tf.dispose([x, y]);
    classifier.dispose();
  }
  return { from: options.from, model: options.model, examples: indices, labels, conditions: perCondition, probes: probes.map((p) => p.name ?? p.variable) };
}

/** The inputs of one condition (a new tensor, or `x` itself for clean). */
function inputsFor(context: JobContext<Options>, condition: RelaxCondition, classifier: ReturnType<typeof classifierFor>, x: tf.Tensor, y: tf.Tensor1D, data: Dataset): tf.Tensor {
  if (condition.kind === 'clean') return x;
  if (condition.kind === 'corrupted') {
    const corruption = getCorruption(condition.corruption, 'job.conditions.corruption');
    const corrupted = corruptDataset(data, corruption, condition.severity, context.rng.split(`relax-${corruption.name}`));
    const t = toTensors(corrupted, { layout: 'flat' });
    t.y.dispose();
    return t.x;
  }
  const [low, high] = classifier.bounds;
  if (condition.norm === 'linf' && condition.epsilon > high - low) throw new SpecError('job.conditions.epsilon', `${condition.epsilon} is larger than the input range [${low}, ${high}]; an L∞ ball that large holds every input`);
  const model = attackModel(classifier, { gradient: parseGradientMode(condition.gradient, 'job.conditions.gradient') });
  const [attack] = buildAttacks([condition.attack], { pgdSteps: condition.steps, apgdSteps: condition.steps, restarts: 1, queries: 50 * condition.steps }, () => model);
  const threat = { norm: condition.norm, epsilon: condition.epsilon, bounds: classifier.bounds };
  const result = attack!.run({ model, x, labels: y, threat, rng: context.rng.split(`relax-${conditionLabel(condition)}`) });
  if (!insideThreat(result.adversarial, x, threat).every(Boolean)) {
    result.adversarial.dispose();
    throw new Error(`internal error: ${condition.attack} returned a point outside the ${condition.norm} ball of radius ${condition.epsilon}`);
  }
  return result.adversarial;
}

/** The relax job for the systems that have a classifier (registered after the families, which supply them). */
export function relaxJob(systems: readonly string[]): JobEntry<Options> {
  return {
    kind: 'relax',
    description: 'relax chosen test examples of a trained run folder (clean, corrupted or adversarial) and record the probes per example',
    options: relaxOptions,
    systems,
    // CNN-F's classifier runs its cycles through its own probes (run-cycles.ts) and returns none of a spec's.
    traces: (spec) => (spec.system.kind === 'cnn-f' ? "no: the cnn-f classifier does not record a spec's probes (its cycles run with their own fixed probes); trace a cnnf-train run's evaluation by giving that spec the probes" : 'yes'),
    run,
  };
}
