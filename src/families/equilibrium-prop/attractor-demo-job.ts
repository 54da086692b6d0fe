/**
 * `ep-attractor-demo`: the mission in one run (the README's first command, sims/quickstart.json). A small
 * deep equilibrium-propagation network is trained by its local rule (EP: two relaxations and a difference
 * of pre·post products per layer), then each test image is relaxed from rest until its state stops
 * changing, clean and under a PGD attack that differentiates through that relaxation (the unrolled
 * gradient of the defender's own steps), and what the dynamics do is recorded step by step: the energy,
 * the readout's accuracy, the distance to the clean fixed point, and whether the adversarial fixed point
 * still lies in the clean input's basin (relaxing under the clean image from it returns to s*(x)). The
 * trained network is priced on a neuromorphic profile (Loihi 2 by default) from its own relaxation's event
 * counts, and the traces are written as NumPy arrays.
 *
 * Outputs: model/, metrics.jsonl (one line per epoch), energy-per-step.svg, readout-per-step.svg,
 * distance-per-step.svg, traces/*.npy ([records, examples] energy, class, distance to s*(x); clean and
 * adversarial), hardware.json; summary metrics clean/adversarial accuracy, steps and why they stopped, mean final energy,
 * basin returns and the profile's energy and latency per inference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { attackModel } from '../../attacks/attack-model.js';
import { relaxationTrace, returnsToClean, type EnergyRelaxation, type RelaxationTrace } from '../../attacks/attractor.js';
import { relaxationClassifier } from '../../attacks/models/relaxation-classifier.js';
import { pgd } from '../../attacks/pgd.js';
import { insideThreat } from '../../attacks/threat-model.js';
import { subset, toTensors } from '../../data/index.js';
import { encodeNpy } from '../../export/npy.js';
import { hardwareAdapters } from '../../hardware/adapter.js';
import { estimateOnProfiles } from '../../hardware/estimate.js';
import { loadProfile } from '../../hardware/profiles.js';
import { openCheckpoints } from '../../runs/checkpoints.js';
import { saveModel } from '../../runs/model-store.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import type { LineFigure } from '../../runs/plot/figure.js';
import type { EpInput, EpParams, EpState, EquilibriumPropSystem } from './system.js';
import { modelMeta } from './train-job.js';
import { buildNetwork, checkEpSpec, describeEpoch, epTrainingFields, trainMethod, type EpTrainingOptions } from './training.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { disposeTree, tidyTree } from '../../core/tree.js';
import { recordEvaluationTraces, TRACE_EXAMPLES } from '../traces.js';

export const epAttractorDemoOptions = z.strictObject({
  ...epTrainingFields,
  examples: z.int().min(1).default(100).describe('test images relaxed clean and attacked'),
  epsilon: z.number().positive().max(1).default(0.1).describe('L∞ radius of the attack'),
  attackSteps: z.int().min(1).default(10).describe('PGD steps (margin loss, unrolled gradient through the relaxation)'),
  relaxSteps: z.int().min(1).default(100).describe('largest number of steps of an evaluation relaxation'),
  tolerance: z.number().positive().default(1e-3).describe('an evaluation relaxation stops when no unit changes by more than this in a step'),
  profile: z.string().default('loihi2').describe('hardware profile the trained network is priced on'),
});
type Options = EpTrainingOptions & z.infer<typeof epAttractorDemoOptions>;

const meanOver = (values: ArrayLike<number>, rows: readonly number[]) => rows.reduce((s, i) => s + values[i]!, 0) / Math.max(1, rows.length);

function traceArrays(trace: RelaxationTrace, field: 'energy' | 'distance'): { data: Float32Array; shape: [number, number] } {
  const rows = trace[field]!;
  const data = new Float32Array(rows.length * trace.examples);
  rows.forEach((r, t) => data.set(r, t * trace.examples));
  return { data, shape: [rows.length, trace.examples] };
}

async function run(context: JobContext<Options>): Promise<Metrics> {
  const { options, folder, say } = context;
  const network = buildNetwork(context);
  if (network.kind !== 'equilibrium-prop') throw new Error('ep-attractor-demo drives the fully connected equilibrium-prop system');
  const system = network as EquilibriumPropSystem;
  const checkpoints = openCheckpoints(folder.destination, context.spec, context.resume ?? false);
  const init = system.initParams(context.rng.split('init'));
  const outcome = await trainMethod(context, system, 'ep', init, checkpoints, (record) => say(describeEpoch(record)));
  tf.dispose(Object.values(init));
  // Cleared only once the run folder is in place: an interrupt before that keeps what --resume needs.
  folder.afterCommit(() => checkpoints.clear());
  for (const record of outcome.history) folder.appendMetrics(record);
  const params = outcome.params as EpParams;
  saveModel(folder, { system: context.spec.system, trainedBy: 'equilibrium-propagation', meta: modelMeta(context, system.layout, 'ep') }, params);

  // Clean and adversarial relaxations of the first test images.
  const { x, y } = toTensors(subset(context.data.test, 0, Math.min(options.examples, context.data.test.count)), { layout: 'flat' });
  const labels = Int32Array.from(y.dataSync());
  const net: EnergyRelaxation<EpState, EpParams, EpInput> = { system: system as never, params, toInput: (v) => system.prepare({ x: v as tf.Tensor2D }, params), maxSteps: options.relaxSteps, tolerance: options.tolerance };
  const defender = relaxationClassifier({
    name: `EP ${system.options.sizes.join('-')}`,
    family: 'equilibrium-prop',
    system,
    params,
    classes: system.classes,
    imageShape: [context.data.test.height, context.data.test.width, 1],
    relaxation: { maxSteps: options.relaxSteps, converge: { tolerance: options.tolerance } },
    toInput: (v) => system.prepare({ x: v as tf.Tensor2D }, params),
    logitsOf: (r) => r as tf.Tensor2D,
  });
  const threat = { norm: 'linf' as const, epsilon: options.epsilon, bounds: [0, 1] as const };
  const attackStart = performance.now();
  const attack = pgd({ steps: options.attackSteps, loss: 'margin' }).run({ model: attackModel(defender, { gradient: { kind: 'unrolled' } }), x, labels: y as tf.Tensor1D, threat, rng: context.rng.split('attack') });
  const attackSeconds = (performance.now() - attackStart) / 1000;
  if (!insideThreat(attack.adversarial, x, threat).every(Boolean)) throw new Error('internal error: an adversarial image lies outside the L∞ ball');
  const clean = relaxationTrace(net, x);
  const adversarial = relaxationTrace(net, attack.adversarial, { reference: clean.state });
  const cleanAgain = relaxationTrace(net, x, { reference: clean.state });
  const basin = returnsToClean(net, x, clean.state, adversarial.state, 1e-2);
  const last = <T>(rows: readonly T[]) => rows[rows.length - 1]!;
  const all = Array.from(labels.keys());
  const correct = all.filter((i) => last(clean.predicted)[i] === labels[i]);
  const fooled = correct.filter((i) => last(adversarial.predicted)[i] !== labels[i]);
  const accuracyPerStep = (trace: RelaxationTrace) => trace.predicted.map((p) => all.filter((i) => p[i] === labels[i]).length / all.length);
  const energyPerStep = (trace: RelaxationTrace) => trace.energy.map((e) => meanOver(e, all));
  const distancePerStep = (trace: RelaxationTrace) => trace.distance!.map((d) => meanOver(d, all));
  const plot = (file: string, title: string, yLabel: string, a: number[], b: number[]) => folder.writeText(file, renderFigureSvg(perStepFigure(file.replace(/\.svg$/, ''), title, yLabel, a, b, `PGD-${options.attackSteps}, ε = ${options.epsilon}`)));
  plot('energy-per-step.svg', `Energy along the relaxation, mean over ${all.length} test images`, 'E(s_t)', energyPerStep(clean), energyPerStep(adversarial));
  plot('readout-per-step.svg', 'Readout accuracy at every relaxation step', 'accuracy', accuracyPerStep(clean), accuracyPerStep(adversarial));
  plot('distance-per-step.svg', 'Distance to the clean fixed point s*(x)', '‖s_t − s*(x)‖₂', distancePerStep(cleanAgain), distancePerStep(adversarial));
  for (const [name, trace] of [['clean', cleanAgain], ['adversarial', adversarial]] as const) {
    for (const field of ['energy', 'distance'] as const) {
      const { data, shape } = traceArrays(trace, field);
      folder.writeBytes(`traces/${name}-${field}.npy`, encodeNpy(data, shape));
    }
    const classes = new Int32Array(trace.predicted.length * trace.examples);
    trace.predicted.forEach((p, t) => classes.set(p, t * trace.examples));
    folder.writeBytes(`traces/${name}-class.npy`, encodeNpy(classes, [trace.predicted.length, trace.examples]));
  }
  folder.writeBytes('traces/labels.npy', encodeNpy(labels, [labels.length]));
  // The spec's probes on the same two relaxations of the first test images (the clean and the attacked input).
  if (context.spec.probes.length > 0) {
    const count = Math.min(TRACE_EXAMPLES, labels.length);
    const examples = Array.from({ length: count }, (_, i) => i);
    for (const [label, images, condition] of [['clean', x, 'clean'], ['adversarial', attack.adversarial, `pgd-margin-${options.attackSteps} linf eps ${options.epsilon}`]] as const) {
      const first = tf.slice(images, 0, count) as tf.Tensor2D;
      const input = tidyTree(() => system.prepare({ x: first }, params));
      try {
        recordEvaluationTraces(context, { label, system, params, input, settings: { maxSteps: options.relaxSteps, converge: { tolerance: options.tolerance } }, examples, labels: Array.from(labels.subarray(0, count)), condition });
      } finally {
        disposeTree(input);
        first.dispose();
      }
    }
  }
  const fooledReturning = fooled.filter((i) => basin.returned[i]).length;
  tf.dispose([x, y, attack.adversarial, ...clean.state, ...adversarial.state, ...cleanAgain.state]);

  // The trained network on a neuromorphic chip: counts from its own relaxation, priced on the profile.
  const profile = loadProfile(options.profile, 'job.profile');
  const trained = hardwareAdapters.get('equilibrium-prop').build({
    source: { origin: folder.destination, system: context.spec.system, run: context.spec.run, data: context.data, trained: { params, trainedBy: 'equilibrium-propagation' } },
    rng: context.rng.split('hardware'),
    count: options.examples,
  });
  const estimate = (() => {
    try {
      return estimateOnProfiles(trained, [profile]);
    } finally {
      trained.dispose();
    }
  })();
  const cost = estimate.perProfile[profile.id]!.cost;
  folder.writeJson('hardware.json', { profile: profile.id, accuracy: estimate.float.accuracy, activity: estimate.float.activity, cost });
  tf.dispose(Object.values(outcome.params));

  const metrics = {
    test_accuracy_after_training: outcome.history[outcome.history.length - 1]!.test_accuracy,
    clean_accuracy: correct.length / all.length,
    adversarial_accuracy: (correct.length - fooled.length) / all.length,
    epsilon: options.epsilon,
    clean_steps: clean.steps,
    clean_stopped: clean.stopped,
    adversarial_steps: adversarial.steps,
    adversarial_stopped: adversarial.stopped,
    clean_final_energy: meanOver(last(clean.energy), all),
    adversarial_final_energy: meanOver(last(adversarial.energy), all),
    fooled_returning_to_clean_fixed_point: `${fooledReturning}/${fooled.length}`,
    attack_seconds: Number(attackSeconds.toFixed(2)),
    [`${profile.id}_energy_per_inference_J`]: cost.energy.totalJ,
    [`${profile.id}_latency_per_inference_s`]: cost.latencyS,
  };
  say(`clean accuracy ${(100 * metrics.clean_accuracy).toFixed(1)}% → ${(100 * metrics.adversarial_accuracy).toFixed(1)}% under PGD-${options.attackSteps} (L∞ ε = ${options.epsilon}) through the relaxation (${all.length} test images)`);
  const stop = (t: RelaxationTrace) => `${t.steps} steps (${t.stopped === 'converged' ? `converged to ${options.tolerance}` : `step limit; last largest move ${last(t.change).reduce((m, v) => Math.max(m, v), 0).toExponential(1)}`})`;
  say(`relaxation, clean: ${stop(clean)}, mean energy ${energyPerStep(clean).slice(0, 4).map((e) => e.toFixed(2)).join(' → ')} … ${metrics.clean_final_energy.toFixed(3)}`);
  say(`relaxation, adversarial: ${stop(adversarial)}, mean energy ${energyPerStep(adversarial).slice(0, 4).map((e) => e.toFixed(2)).join(' → ')} … ${metrics.adversarial_final_energy.toFixed(3)}, mean distance to the clean fixed point ${meanOver(last(adversarial.distance!), all).toFixed(2)}`);
  say(`basins: relaxed under the clean image from where its adversarial relaxation ended, ${fooledReturning} of the ${fooled.length} fooled images return to the clean final state (returning: the attack moved the attractor with the input; not returning: it reached another attractor of the clean image's landscape)`);
  say(`${profile.id}: ${(cost.energy.totalJ * 1e6).toPrecision(3)} µJ and ${cost.latencyS === null ? `no latency (${cost.latencyNote})` : `${(cost.latencyS * 1e6).toPrecision(3)} µs`} per inference of T1 = ${estimate.float.activity.stepsPerInference} steps (hardware.json has every term)`);
  return metrics;
}

/** A quantity per relaxation step, clean against adversarial (energy-, readout- and distance-per-step.svg). */
export function perStepFigure(id: string, title: string, yLabel: string, clean: readonly number[], adversarial: readonly number[], attack: string): LineFigure {
  const steps = (n: number) => Array.from({ length: n }, (_, i) => i);
  return {
    kind: 'line',
    id,
    title,
    x: { label: 'relaxation step', integer: true },
    y: { label: yLabel, ...(yLabel === 'accuracy' ? { domain: [0, 1] as const } : {}) },
    series: [
      { name: 'clean', x: steps(clean.length), y: [...clean] },
      { name: `adversarial (${attack})`, x: steps(adversarial.length), y: [...adversarial] },
    ],
  };
}

export const epAttractorDemo: JobEntry<Options> = {
  kind: 'ep-attractor-demo',
  description: 'train a deep EP net by its local rule, relax it on clean and attacked images (energy, readout, basin per step), price it on a neuromorphic profile, export the traces',
  options: epAttractorDemoOptions,
  systems: ['equilibrium-prop'],
  traces: 'yes',
  check: checkEpSpec,
  run,
};
