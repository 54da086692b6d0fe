/**
 * `neurodyn attack <spec-or-run>`: the robustness evaluation of src/attacks/protocol.ts on the model a spec
 * or run folder describes, written as a run folder: attack.json (the evaluation's settings), summary.json
 * (`metrics.clean_accuracy`, `metrics.robust_accuracy` per ε as the per-example worst case over every attack
 * the run performed, `metrics.min_perturbation` over the clean-correct examples, …), metrics.jsonl (one line
 * per ε), examples.jsonl and adversarial/eps-<ε>.npy (per example and ε: which attacks broke it, the margin
 * reached, the prediction, the adversarial input), diagnostics.json, accuracy-vs-eps.svg and
 * energy-trajectories.svg (clean vs adversarial).
 *
 * Two budgets: the default one finishes in minutes on 2 cores for a 150-step relaxation (ATTACK_PRESETS.quick);
 * `--full` is the complete protocol (AutoAttack's standard budgets). Options given explicitly override either.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { formatGradientMode, parseGradientMode } from '../../core/gradient-mode.js';
import { makeRng } from '../../base/rng.js';
import { subset, toTensors } from '../../data/index.js';
import { STEP_WEIGHTINGS, type StepWeighting } from '../../attacks/attack-model.js';
import { classifierFor, type ModelSource } from '../../attacks/models/index.js';
import type { DynamicsClassifier } from '../../attacks/classifier.js';
import { ATTACK_NAMES, runProtocol, type ProtocolReport } from '../../attacks/protocol.js';
import { attackProgress } from '../../attacks/progress.js';
import { writeExamples } from '../../attacks/per-example.js';
import { formatMinimalPerturbation } from '../../attacks/minimal-perturbation.js';
import { formatDuration, totalWork } from '../../attacks/cost.js';
import { checkEpsilonRange, parseNorm } from '../../attacks/threat-model.js';
import { openRunFolder } from '../../runs/run-folder.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import { accuracyVsEpsilon, diagnosticsFigures } from '../../runs/plot/run-figures.js';
import { writeRunReport } from '../../app/report/after-run.js';
import { liveTensorCount } from '../../tensor/index.js';
import { defaultRunFolder, loadModelSource, numberList, openModelCommand, positiveInteger } from '../../app/model-source.js';

export interface AttackOptions {
  readonly threat?: string;
  readonly eps?: string;
  readonly attacks?: string;
  readonly gradient?: string;
  readonly attackerSteps?: string;
  readonly bpda?: boolean;
  readonly relaxSteps?: string;
  readonly tolerance?: string;
  readonly stepWeighting?: string;
  readonly eot?: string;
  readonly steps?: string;
  readonly apgdSteps?: string;
  readonly restarts?: string;
  readonly queries?: string;
  readonly examples?: string;
  readonly batchSize?: string;
  readonly order?: string;
  readonly transferFrom?: string;
  readonly transferSteps?: string;
  readonly minPerturbation?: boolean;
  readonly diagnostics?: boolean;
  readonly out?: string;
  readonly backend?: string;
  readonly seed?: number;
  readonly dataDir?: string;
  readonly quiet?: boolean;
  readonly full?: boolean;
  readonly bisections?: string;
  readonly diagnosticExamples?: string;
}

/**
 * The budgets. `quick` (the default) is sized so that the default evaluation of the 150-step Hopfield
 * quickstart model finishes in minutes on 2 cores; `full` (`--full`) is the complete protocol: 200 examples,
 * PGD-40, APGD-CE and APGD-DLR with 100 iterations, Square with 5,000 queries (AutoAttack's standard
 * budgets), 8 bisections, diagnostics on 32 examples.
 */
export const ATTACK_PRESETS = {
  quick: { examples: 50, attacks: 'pgd,apgd-dlr,square', pgdSteps: 10, apgdSteps: 10, restarts: 1, queries: 100, bisections: 4, diagnosticExamples: 8 },
  full: { examples: 200, attacks: 'pgd,apgd-ce,apgd-dlr,square', pgdSteps: 40, apgdSteps: 100, restarts: 1, queries: 5000, bisections: 8, diagnosticExamples: 32 },
} as const;

export async function attackCommand(specOrRun: string, options: AttackOptions): Promise<void> {
  const norm = parseNorm(options.threat ?? 'linf');
  const epsilons = numberList(options.eps ?? (norm === 'linf' ? '0.05,0.1,0.2,0.3' : '0.5,1,2,3'), '--eps');
  const preset = options.full ? ATTACK_PRESETS.full : ATTACK_PRESETS.quick;
  const attacks = (options.attacks ?? preset.attacks).split(',').map((s) => s.trim());
  for (const a of attacks) if (!(ATTACK_NAMES as readonly string[]).includes(a)) throw new SpecError('--attacks', `unknown attack ${JSON.stringify(a)}; allowed: ${ATTACK_NAMES.join(', ')}`);
  const gradient = parseGradientMode(options.gradient ?? 'unrolled', '--gradient');
  const stepWeighting = (options.stepWeighting ?? 'final') as StepWeighting;
  if (!STEP_WEIGHTINGS.includes(stepWeighting)) throw new SpecError('--step-weighting', `${JSON.stringify(options.stepWeighting)} is not allowed; use ${STEP_WEIGHTINGS.join(', ')}`);
  const order = options.order ?? 'independent';
  if (order !== 'independent' && order !== 'cascade') throw new SpecError('--order', `${JSON.stringify(order)} is not allowed; use independent or cascade`);
  const examples = positiveInteger(options.examples, '--examples', preset.examples);
  const budget = {
    pgdSteps: positiveInteger(options.steps, '--steps', preset.pgdSteps),
    apgdSteps: positiveInteger(options.apgdSteps, '--apgd-steps', preset.apgdSteps),
    restarts: positiveInteger(options.restarts, '--restarts', preset.restarts),
    queries: positiveInteger(options.queries, '--queries', preset.queries),
  };
  const bisections = positiveInteger(options.bisections, '--bisections', preset.bisections);
  const diagnosticExamples = positiveInteger(options.diagnosticExamples, '--diagnostic-examples', preset.diagnosticExamples);
  const eot = positiveInteger(options.eot, '--eot', 1);
  const batchSize = positiveInteger(options.batchSize, '--batch-size', 100);
  const opened = await openModelCommand(specOrRun, options);
  const { backend, seed, say, tensorsBefore: before, spec } = opened;
  const { source, classifier } = withDefenderOverrides(opened.source, opened.classifier, options);
  const transferFrom = options.transferFrom ? classifierFor(loadModelSource(options.transferFrom, options.dataDir).source) : undefined;
  const test = source.data.test;
  const count = Math.min(examples, test.count);
  checkEpsilonRange(epsilons, norm, classifier.bounds, test.height * test.width);
  const { x, y } = toTensors(subset(test, 0, count), { layout: 'flat' });
  const transferSteps = options.transferSteps !== undefined ? positiveInteger(options.transferSteps, '--transfer-steps', 1) : undefined;
  const attackerSteps = options.attackerSteps !== undefined ? positiveInteger(options.attackerSteps, '--attacker-steps', 1) : undefined;
  const folder = openRunFolder(options.out ?? defaultRunFolder(`attack-${spec.name}`));
  try {
    const settings = {
      model: specOrRun,
      classifier: classifier.name,
      relaxation: classifier.relaxation ?? null,
      threat: norm,
      epsilons,
      attacks,
      gradient: formatGradientMode(gradient),
      attacker_steps: attackerSteps ?? null,
      bpda: options.bpda ?? false,
      step_weighting: stepWeighting,
      eot,
      preset: options.full ? 'full' : 'quick',
      budget,
      bisections,
      diagnostic_examples: Math.min(diagnosticExamples, count),
      examples: count,
      order,
      transfer_from: options.transferFrom ?? `the defender cut to ${transferSteps ?? Math.max(1, Math.ceil((classifier.relaxation?.maxSteps ?? 1) / 10))} steps`,
      backend,
      seed,
    };
    folder.writeJson('attack.json', settings);
    const report = runProtocol({
      classifier,
      ...(transferFrom ? { transferFrom } : {}),
      ...(transferSteps ? { transferSteps } : {}),
      norm,
      epsilons,
      attacks,
      gradient: { gradient, stepWeighting, ...(attackerSteps ? { relaxation: { maxSteps: attackerSteps } } : {}) },
      eot,
      budget,
      x,
      labels: y,
      rng: makeRng(seed),
      batchSize,
      order,
      minimalPerturbation: options.minPerturbation ?? true,
      bisections,
      diagnostics: options.diagnostics ?? true,
      diagnosticExamples,
      say,
      ...(options.quiet ? {} : { progress: (estimate) => attackProgress({ estimate: estimate.seconds, timing: estimate.timing }) }),
    });
    writeReport(folder, report, settings, norm);
    writeExamples(folder, report.ledger, classifier.inputShape, report.minimalPerturbations && report.minimalPerturbation ? { sizes: report.minimalPerturbations, maxEpsilon: report.minimalPerturbation.maxEpsilon } : undefined);
    tf.dispose([x, y]);
    classifier.dispose();
    transferFrom?.dispose();
    const leaked = liveTensorCount() - before;
    if (leaked !== 0) throw new Error(`internal error: the attack evaluation left ${leaked} tensors allocated`);
    folder.commit();
    const metrics = summaryMetrics(report, norm);
    process.stdout.write(`clean accuracy ${metrics.clean_accuracy}; robust accuracy (${norm}, worst case over every attack run: ${attacks.join(', ')}${report.diagnosticAttacks.length ? ' and the diagnostics\' sweeps' : ''}; gradient ${formatGradientMode(gradient)}): ${JSON.stringify(metrics.robust_accuracy)}\n`);
    if (report.minimalPerturbation) process.stdout.write(`median minimal perturbation (${norm}): ${formatMinimalPerturbation(report.minimalPerturbation)}\n`);
    if (report.maskingWarnings.length) process.stdout.write(`${report.maskingWarnings.length} gradient-masking warning${report.maskingWarnings.length === 1 ? '' : 's'} (summary.json, metrics.gradient_masking_warnings); ${report.maskingWarnings[0]!.slice(report.maskingWarnings[0]!.indexOf('remedy:'))}\n`);
    process.stdout.write(`took ${formatDuration(report.seconds)}${report.estimate ? ` (estimated at most ${formatDuration(report.estimate.seconds)})` : ''}\n`);
    process.stdout.write(`run folder ${path.relative(process.cwd(), folder.destination) || '.'}/: ${folder.files().join(', ')}\n`);
    writeRunReport(folder.destination);
  } catch (e) {
    folder.abort();
    throw e;
  }
}

/**
 * The defender's relaxation overridden from the command line (`--relax-steps`, `--tolerance`), and BPDA
 * (`--bpda`): the same network with straight-through clips (equilibrium prop) or surrogate switches
 * (CNN-F), whose forward pass is the defender's, so it can
 * stand for the defender everywhere (logits, judging) while its gradients ignore the clips. The classifier
 * built from the unmodified source shares its parameters and is not disposed separately.
 */
function withDefenderOverrides(source: ModelSource, classifier: DynamicsClassifier, options: AttackOptions): { source: ModelSource; classifier: DynamicsClassifier } {
  if (!options.bpda && options.relaxSteps === undefined && options.tolerance === undefined) return { source, classifier };
  const kind = source.system.kind;
  if (options.bpda && !['equilibrium-prop', 'equilibrium-prop-conv', 'cnn-f'].includes(kind)) {
    throw new SpecError('--bpda', `BPDA is defined for equilibrium-prop nets (straight-through clips) and cnn-f nets (surrogate switches); ${source.origin} is ${kind}`);
  }
  const tolerance = options.tolerance !== undefined ? Number(options.tolerance) : undefined;
  if (tolerance !== undefined && !(tolerance > 0)) throw new SpecError('--tolerance', `must be a positive number, got ${JSON.stringify(options.tolerance)}`);
  const maxSteps = options.relaxSteps !== undefined ? positiveInteger(options.relaxSteps, '--relax-steps', 1) : source.run.maxSteps;
  const changed: ModelSource = {
    ...source,
    system: options.bpda ? { ...source.system, ...(kind === 'cnn-f' ? { maskGradient: 'bpda' } : { surrogateGradient: 'straight-through' }) } : source.system,
    run: { ...source.run, maxSteps, ...(tolerance !== undefined ? { converge: { tolerance } } : {}) },
  };
  return { source: changed, classifier: classifierFor(changed) };
}

function summaryMetrics(report: ProtocolReport, norm: string) {
  const { robustness } = report;
  const byEps = <T>(f: (p: (typeof robustness.perEpsilon)[number]) => T) => Object.fromEntries(robustness.perEpsilon.map((p) => [String(p.epsilon), f(p)]));
  const worst = Object.fromEntries(report.worstCase.map((w) => [String(w.epsilon), w]));
  const minimal = report.minimalPerturbation;
  const estimate = report.estimate ? totalWork(report.estimate.stages) : undefined;
  return {
    clean_accuracy: robustness.cleanAccuracy,
    robust_accuracy: byEps((p) => worst[String(p.epsilon)]!.robustAccuracy),
    robust_accuracy_interval95: byEps((p) => worst[String(p.epsilon)]!.interval),
    robust_accuracy_chosen_attacks: byEps((p) => p.robustAccuracy),
    accuracy_per_attack: byEps((p) => Object.fromEntries(Object.entries(p.attacks).map(([n, a]) => [n, a.accuracy]))),
    diagnostic_attacks: report.diagnosticAttacks.map((a) => ({ attack: a.attack, epsilon: a.epsilon, examples: a.examples, accuracy: a.accuracy, worst_case_same_examples: a.worstCase })),
    seconds_per_attack: byEps((p) => Object.fromEntries(Object.entries(p.attacks).map(([n, a]) => [n, Number(a.seconds.toFixed(3))]))),
    median_min_perturbation: minimal ? (minimal.median !== null ? minimal.median : minimal.medianAbove !== undefined ? `> ${Number(minimal.medianAbove.toFixed(6))}` : null) : null,
    ...(minimal ? { min_perturbation: { over: 'clean-correct examples', clean_correct: minimal.cleanCorrect, not_broken_within_max: minimal.unbroken, max_epsilon: minimal.maxEpsilon } } : {}),
    gradient_masking_warnings: report.maskingWarnings,
    threat: norm,
    examples: robustness.examples,
    model: report.description,
    ...(report.estimate && estimate ? { estimate: { seconds: Number(report.estimate.seconds.toFixed(1)), forward_relaxations: Math.round(estimate.forward), differentiated_relaxations: Math.round(estimate.backward) } } : {}),
  };
}

function writeReport(folder: ReturnType<typeof openRunFolder>, report: ProtocolReport, settings: Record<string, unknown>, norm: string): void {
  const { robustness } = report;
  const records = robustness.perEpsilon.map((p, e) => ({
    epsilon: p.epsilon,
    robust_accuracy: report.worstCase[e]!.robustAccuracy,
    interval95: report.worstCase[e]!.interval,
    robust_accuracy_chosen_attacks: p.robustAccuracy,
    ...Object.fromEntries(Object.entries(p.attacks).map(([n, a]) => [`accuracy_${n}`, a.accuracy])),
  }));
  for (const record of records) folder.appendMetrics(record);
  folder.writeJson('summary.json', { spec: settings.model, backend: settings.backend, seed: settings.seed, seconds: Number(report.seconds.toFixed(3)), metrics: summaryMetrics(report, norm) });
  if (report.minimalPerturbations && report.minimalPerturbation) {
    const max = report.minimalPerturbation.maxEpsilon;
    folder.writeJson('min-perturbation.json', {
      norm,
      over: 'clean-correct examples (null: misclassified clean; "> ε_max": no attack broke it within max_epsilon)',
      max_epsilon: max,
      median: summaryMetrics(report, norm).median_min_perturbation,
      clean_correct: report.minimalPerturbation.cleanCorrect,
      not_broken_within_max: report.minimalPerturbation.unbroken,
      per_example: Array.from(report.minimalPerturbations, (v) => (Number.isNaN(v) ? null : Number.isFinite(v) ? v : `> ${max}`)),
    });
  }
  const curve = accuracyVsEpsilon(records, robustness.cleanAccuracy, norm, report.description);
  if (curve) folder.writeText('accuracy-vs-eps.svg', renderFigureSvg(curve));
  const d = report.diagnostics;
  if (!d) return;
  folder.writeJson('diagnostics.json', d);
  for (const figure of diagnosticsFigures(d)) folder.writeText(`${figure.id}.svg`, renderFigureSvg(figure));
}
