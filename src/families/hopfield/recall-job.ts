/**
 * Associative recall: store one prototype per class in a Hopfield network and relax from noisy cues.
 *
 * Prototypes ξ_c are the class means of the training images, binarised to ±1 at `prototypeThreshold`.
 * Cues come from one of two sources:
 * - `prototypes` (classic associative memory): cue i is the stored pattern of class i mod C;
 * - `test-digits`: cue i is the i-th test image (class-balanced by the split) binarised at 0.5;
 * and every pixel of a cue is flipped with probability p, for each p in `noise`.
 *
 * Reported per noise level: `recall_accuracy`, the fraction of cues whose relaxed state's nearest prototype
 * (largest overlap m = (1/n) ξ·sign(V)) is the prototype of the cue's class; `exact_recall`, the fraction
 * that relax to exactly that pattern (m = 1); and the mean overlap with it before (`overlap_before`, the
 * cue itself) and after the relaxation (`overlap_after`). The nearest-prototype rule applied to the cue
 * itself (`cue_accuracy`) shows what the dynamics add.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { parseGradientMode } from '../../core/gradient-mode.js';
import { integrators } from '../../core/integrators/index.js';
import { throwIfDiverged } from '../../core/solution.js';
import { simulate } from '../../core/simulate.js';
import { binaryClassPrototypes, subset, toTensors } from '../../data/index.js';
import { writeTraces } from '../../runs/trace-files.js';
import { storePatterns, type HopfieldInput, type HopfieldParams, type HopfieldState } from './system.js';
import type { ContinuousSystem } from '../../core/system.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';

export const hopfieldRecallOptions = z.strictObject({
  rule: z.enum(['projection', 'hebbian']).default('projection').describe('how the prototypes are stored'),
  prototypeThreshold: z.number().min(0).max(1).default(0.4).describe('pixel threshold that binarises the class means'),
  cueSource: z.enum(['prototypes', 'test-digits']).default('prototypes').describe('what the noisy cues are made from'),
  cues: z.int().min(1).default(200).describe('number of cues per noise level'),
  noise: z.array(z.number().min(0).max(1)).min(1).default([0, 0.1, 0.2, 0.3, 0.4]).describe('pixel flip probabilities'),
});
type Options = z.infer<typeof hopfieldRecallOptions>;

interface Agreement {
  readonly accuracy: number;
  readonly exact: number;
  readonly overlap: number;
}

/** Nearest prototype of each row of `states` against the true class, and the overlap with the true prototype. */
function agreement(states: tf.Tensor2D, prototypes: tf.Tensor2D, labels: Int32Array): Agreement {
  const n = prototypes.shape[1];
  const [nearest, overlaps] = tf.tidy(() => {
    const m = tf.div(tf.matMul(tf.sign(states), prototypes, false, true), n);
    return [tf.argMax(m, 1).dataSync() as Int32Array, m.dataSync() as Float32Array];
  });
  const classes = prototypes.shape[0];
  let hits = 0;
  let exact = 0;
  let overlap = 0;
  labels.forEach((label, i) => {
    if (nearest[i] === label) hits++;
    const own = overlaps[i * classes + label]!;
    if (own > 1 - 0.5 / n) exact++;
    overlap += own;
  });
  return { accuracy: hits / labels.length, exact: exact / labels.length, overlap: overlap / labels.length };
}

/** The cues before noise, ±1 [count, n], and their classes. */
function cleanCues(context: JobContext<Options>, prototypes: tf.Tensor2D): { binary: tf.Tensor2D; labels: Int32Array } {
  const { options } = context;
  if (options.cueSource === 'prototypes') {
    const classes = prototypes.shape[0];
    const labels = Int32Array.from({ length: options.cues }, (_, i) => i % classes);
    return { binary: tf.tidy(() => tf.gather(prototypes, tf.tensor1d(labels, 'int32'))) as tf.Tensor2D, labels };
  }
  const test = context.data.test;
  const { x, y } = toTensors(subset(test, 0, Math.min(options.cues, test.count)), { layout: 'flat' });
  const labels = y.dataSync() as Int32Array;
  const binary = tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greater(x, 0.5), 'float32'), 2), 1)) as tf.Tensor2D;
  tf.dispose([x, y]);
  return { binary, labels };
}

async function run(context: JobContext<Options>): Promise<Metrics> {
  const { spec, options, folder, say } = context;
  const n = context.data.train.height * context.data.train.width;
  const system = context.system.create(spec.system, { inputSize: n }) as ContinuousSystem<HopfieldState, HopfieldParams, HopfieldInput>;
  const integrator = spec.run.integrator ? integrators.get(spec.run.integrator, 'run.integrator') : undefined;
  const prototypes = binaryClassPrototypes(context.data.train, options.prototypeThreshold);
  const params = storePatterns(prototypes, options.rule);
  const { binary, labels } = cleanCues(context, prototypes);
  const count = labels.length;

  const recall: Record<string, number> = {};
  const exactRecall: Record<string, number> = {};
  const overlapBefore: Record<string, number> = {};
  const overlapAfter: Record<string, number> = {};
  const cueAccuracy: Record<string, number> = {};
  const energyInitial: Record<string, number> = {};
  const energyFinal: Record<string, number> = {};
  const steps: Record<string, number> = {};
  let largestEnergyRise = 0;
  const curves: { name: string; x: number[]; y: number[] }[] = [];
  const progress = context.progress('relaxing', options.noise.length * spec.run.maxSteps);
  try {
    for (const p of options.noise) {
      const key = String(p);
      const rng = context.rng.split(`flips-${key}`);
      const flips = new Float32Array(count * n);
      for (let i = 0; i < flips.length; i++) flips[i] = rng.uniform() < p ? -1 : 1;
      const cue = tf.tidy(() => tf.mul(binary, tf.tensor2d(flips, [count, n]))) as tf.Tensor2D;
      let taken = 0;
      const probes = [{ name: 'energy', variable: 'energy', every: 1, reduce: 'mean' as const }, ...spec.probes.filter((pr) => (pr.name ?? pr.variable) !== 'energy')];
      const solution = throwIfDiverged(
        simulate({
          system,
          params,
          input: { cue },
          ...(integrator ? { integrator } : {}),
          dt: spec.run.dt,
          maxSteps: spec.run.maxSteps,
          ...(spec.run.converge ? { converge: spec.run.converge } : {}),
          checkEvery: spec.run.checkEvery,
          gradient: parseGradientMode(spec.run.gradient, 'run.gradient'),
          probes,
          onStep: () => {
            taken++;
            progress.tick();
          },
        }),
      );
      progress.tick(spec.run.maxSteps - taken);
      const energy = Array.from(solution.traces.energy!.values.dataSync());
      const energySteps = solution.traces.energy!.steps;
      // Relative to |E|: float32 energies of order n are only resolved to about 1e-7·|E|.
      for (let t = 1; t < energy.length; t++) largestEnergyRise = Math.max(largestEnergyRise, (energy[t]! - energy[t - 1]!) / Math.max(1, Math.abs(energy[t - 1]!)));
      const recalled = tf.tidy(() => system.readout!(solution.state, { cue }, params)) as tf.Tensor2D;
      const after = agreement(recalled, prototypes, labels);
      const before = agreement(cue, prototypes, labels);
      recall[key] = after.accuracy;
      exactRecall[key] = after.exact;
      overlapAfter[key] = after.overlap;
      overlapBefore[key] = before.overlap;
      cueAccuracy[key] = before.accuracy;
      energyInitial[key] = energy[0]!;
      energyFinal[key] = energy[energy.length - 1]!;
      steps[key] = solution.steps;
      curves.push({ name: `flip p = ${key}`, x: [...energySteps], y: energy });
      writeTraces(folder, solution.traces, { label: `noise-${key}`, system: system.kind, dt: spec.run.dt, probes, labels: Array.from(labels), condition: `flip p = ${key}` });
      folder.appendMetrics({
        noise: p,
        recall_accuracy: recall[key],
        exact_recall: exactRecall[key],
        overlap_before: overlapBefore[key],
        overlap_after: overlapAfter[key],
        cue_accuracy: cueAccuracy[key],
        steps: solution.steps,
        stopped: solution.stopped,
        energy_initial: energyInitial[key],
        energy_final: energyFinal[key],
      });
      const pct = (v: number) => `${(100 * v).toFixed(1).padStart(5)}%`;
      say(
        `flip p=${key.padEnd(5)} recall ${pct(after.accuracy)} (exact ${pct(after.exact)}, nearest-prototype of the cue alone ${pct(before.accuracy)})  ` +
          `overlap ${before.overlap.toFixed(3)} -> ${after.overlap.toFixed(3)}  energy ${energyInitial[key]!.toFixed(1)} -> ${energyFinal[key]!.toFixed(1)}  ${solution.steps} steps, ${solution.stopped}`,
      );
      tf.dispose([cue, recalled]);
      solution.dispose();
    }
  } finally {
    progress.done();
    tf.dispose([binary, prototypes, params.weights, params.bias]);
  }
  folder.writeText(
    'energy-trajectory.svg',
    renderFigureSvg({ kind: 'line', id: 'energy-trajectory', title: 'Hopfield energy along the relaxation', note: `Mean over ${count} cues per pixel-flip probability p.`, x: { label: 'relaxation step' }, y: { label: 'energy E' }, series: curves }),
  );
  return {
    recall_accuracy: recall,
    exact_recall: exactRecall,
    overlap_before: overlapBefore,
    overlap_after: overlapAfter,
    cue_accuracy: cueAccuracy,
    energy_initial: energyInitial,
    energy_final: energyFinal,
    steps,
    largest_relative_energy_increase: largestEnergyRise,
    cues: count,
    cue_source: options.cueSource,
    patterns: prototypes.shape[0],
  };
}

export const hopfieldRecall: JobEntry<Options> = {
  kind: 'hopfield-recall',
  description: 'store class prototypes in a Hopfield network and measure recall from noisy cues',
  options: hopfieldRecallOptions,
  systems: ['hopfield'],
  traces: 'yes',
  run,
};
