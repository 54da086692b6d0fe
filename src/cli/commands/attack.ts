/**
 * `neurodyn attack <spec-or-run>`: the robustness evaluation of src/attacks/protocol.ts on the model a spec
 * or run folder describes, written as a run folder: attack.json (the evaluation's settings), summary.json
 * (`metrics.clean_accuracy`, `metrics.robust_accuracy` per ε as the per-example worst case,
 * `metrics.median_min_perturbation`, …), metrics.jsonl (one line per ε), diagnostics.json,
 * accuracy-vs-eps.svg and energy-trajectories.svg (clean vs adversarial).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { formatGradientMode, parseGradientMode } from '../../core/gradient-mode.js';
import { makeRng } from '../../base/rng.js';
import { subset, toTensors } from '../../data/index.js';
import { STEP_WEIGHTINGS, type StepWeighting } from '../../attacks/attack-model.js';
import { classifierFor } from '../../attacks/models/index.js';
import { ATTACK_NAMES, runProtocol, type ProtocolReport } from '../../attacks/protocol.js';
import { parseNorm } from '../../attacks/threat-model.js';
import { openRunFolder } from '../../runs/run-folder.js';
import { renderLinePlot } from '../../runs/svg-plot.js';
import { liveTensorCount } from '../../tensor/index.js';
import { defaultRunFolder, loadModelSource, numberList, openModelCommand, positiveInteger } from '../../app/model-source.js';

export interface AttackOptions {
  readonly threat?: string;
  readonly eps?: string;
  readonly attacks?: string;
  readonly gradient?: string;
  readonly attackerSteps?: string;
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
}

export async function attackCommand(specOrRun: string, options: AttackOptions): Promise<void> {
  const norm = parseNorm(options.threat ?? 'linf');
  const epsilons = numberList(options.eps ?? (norm === 'linf' ? '0.05,0.1,0.2,0.3' : '0.5,1,2,3'), '--eps');
  const attacks = (options.attacks ?? 'pgd,apgd-ce,apgd-dlr,square').split(',').map((s) => s.trim());
  for (const a of attacks) if (!(ATTACK_NAMES as readonly string[]).includes(a)) throw new SpecError('--attacks', `unknown attack ${JSON.stringify(a)}; allowed: ${ATTACK_NAMES.join(', ')}`);
  const gradient = parseGradientMode(options.gradient ?? 'unrolled', '--gradient');
  const stepWeighting = (options.stepWeighting ?? 'final') as StepWeighting;
  if (!STEP_WEIGHTINGS.includes(stepWeighting)) throw new SpecError('--step-weighting', `${JSON.stringify(options.stepWeighting)} is not allowed; use ${STEP_WEIGHTINGS.join(', ')}`);
  const order = options.order ?? 'independent';
  if (order !== 'independent' && order !== 'cascade') throw new SpecError('--order', `${JSON.stringify(order)} is not allowed; use independent or cascade`);
  const examples = positiveInteger(options.examples, '--examples', 200);
  const budget = {
    pgdSteps: positiveInteger(options.steps, '--steps', 40),
    apgdSteps: positiveInteger(options.apgdSteps, '--apgd-steps', 100),
    restarts: positiveInteger(options.restarts, '--restarts', 1),
    queries: positiveInteger(options.queries, '--queries', 5000),
  };
  const eot = positiveInteger(options.eot, '--eot', 1);
  const batchSize = positiveInteger(options.batchSize, '--batch-size', 100);
  const { backend, seed, say, tensorsBefore: before, source, spec, classifier } = await openModelCommand(specOrRun, options);
  const transferFrom = options.transferFrom ? classifierFor(loadModelSource(options.transferFrom, options.dataDir).source) : undefined;
  const test = source.data.test;
  const count = Math.min(examples, test.count);
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
      step_weighting: stepWeighting,
      eot,
      budget,
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
      diagnostics: options.diagnostics ?? true,
      say,
    });
    writeReport(folder, report, settings, norm);
    tf.dispose([x, y]);
    classifier.dispose();
    transferFrom?.dispose();
    const leaked = liveTensorCount() - before;
    if (leaked !== 0) throw new Error(`internal error: the attack evaluation left ${leaked} tensors allocated`);
    folder.commit();
    const metrics = summaryMetrics(report, norm);
    process.stdout.write(`clean accuracy ${metrics.clean_accuracy}; robust accuracy (${norm}, worst case over ${attacks.join(', ')}; gradient ${formatGradientMode(gradient)}): ${JSON.stringify(metrics.robust_accuracy)}\n`);
    process.stdout.write(`run folder ${path.relative(process.cwd(), folder.destination) || '.'}/: ${folder.files().join(', ')}\n`);
  } catch (e) {
    folder.abort();
    throw e;
  }
}

function summaryMetrics(report: ProtocolReport, norm: string) {
  const { robustness } = report;
  const byEps = <T>(f: (p: (typeof robustness.perEpsilon)[number]) => T) => Object.fromEntries(robustness.perEpsilon.map((p) => [String(p.epsilon), f(p)]));
  const finite = (v: number | undefined) => (v === undefined ? null : Number.isFinite(v) ? v : 'inf');
  return {
    clean_accuracy: robustness.cleanAccuracy,
    robust_accuracy: byEps((p) => p.robustAccuracy),
    robust_accuracy_interval95: byEps((p) => p.interval),
    accuracy_per_attack: byEps((p) => Object.fromEntries(Object.entries(p.attacks).map(([n, a]) => [n, a.accuracy]))),
    seconds_per_attack: byEps((p) => Object.fromEntries(Object.entries(p.attacks).map(([n, a]) => [n, Number(a.seconds.toFixed(3))]))),
    median_min_perturbation: finite(report.medianMinimalPerturbation),
    gradient_masking_warnings: report.maskingWarnings,
    threat: norm,
    examples: robustness.examples,
    model: report.description,
  };
}

function writeReport(folder: ReturnType<typeof openRunFolder>, report: ProtocolReport, settings: Record<string, unknown>, norm: string): void {
  const { robustness } = report;
  for (const p of robustness.perEpsilon) {
    folder.appendMetrics({ epsilon: p.epsilon, robust_accuracy: p.robustAccuracy, interval95: p.interval, ...Object.fromEntries(Object.entries(p.attacks).map(([n, a]) => [`accuracy_${n}`, a.accuracy])) });
  }
  folder.writeJson('summary.json', { spec: settings.model, backend: settings.backend, seed: settings.seed, seconds: Number(report.seconds.toFixed(3)), metrics: summaryMetrics(report, norm) });
  if (report.minimalPerturbations) {
    folder.writeJson('min-perturbation.json', { norm, per_example: Array.from(report.minimalPerturbations, (v) => (Number.isFinite(v) ? v : 'inf')) });
  }
  const eps = [0, ...robustness.perEpsilon.map((p) => p.epsilon)];
  const attackNames = Object.keys(robustness.perEpsilon[0]?.attacks ?? {});
  folder.writeText(
    'accuracy-vs-eps.svg',
    renderLinePlot({
      title: `Accuracy under attack (${norm}); ${report.description}`,
      xLabel: `ε (${norm})`,
      yLabel: 'accuracy',
      series: [
        { name: 'worst case', x: eps, y: [robustness.cleanAccuracy, ...robustness.perEpsilon.map((p) => p.robustAccuracy)] },
        ...attackNames.map((name) => ({ name, x: eps, y: [robustness.cleanAccuracy, ...robustness.perEpsilon.map((p) => p.attacks[name]!.accuracy)] })),
      ],
    }),
  );
  const d = report.diagnostics;
  if (!d) return;
  folder.writeJson('diagnostics.json', d);
  if (d.clean.energy && d.adversarial.energy) {
    folder.writeText(
      'energy-trajectories.svg',
      renderLinePlot({
        title: `Energy along the relaxation, clean vs adversarial (ε = ${d.epsilon}, mean over ${d.examples} examples)`,
        xLabel: 'step',
        yLabel: 'energy',
        series: [
          { name: 'clean', x: [...d.clean.steps], y: [...d.clean.energy] },
          { name: 'adversarial', x: [...d.adversarial.steps], y: [...d.adversarial.energy] },
        ],
      }),
    );
  }
  folder.writeText(
    'readout-accuracy-per-step.svg',
    renderLinePlot({
      title: `Readout accuracy at every relaxation step (ε = ${d.epsilon})`,
      xLabel: 'step',
      yLabel: 'accuracy of the readout',
      series: [
        { name: 'clean', x: [...d.clean.steps], y: [...d.clean.accuracy] },
        { name: 'adversarial', x: [...d.adversarial.steps], y: [...d.adversarial.accuracy] },
      ],
    }),
  );
  folder.writeText(
    'accuracy-vs-attack-steps.svg',
    renderLinePlot({
      title: `PGD accuracy against attack steps (ε = ${d.epsilon})`,
      xLabel: 'PGD steps',
      yLabel: 'robust accuracy',
      series: [
        { name: 'attack steps', x: d.accuracyVsAttackSteps.map((a) => a.steps), y: d.accuracyVsAttackSteps.map((a) => a.accuracy) },
        ...(d.accuracyVsAttackerSteps.length ? [{ name: "attacker's unrolled steps", x: d.accuracyVsAttackerSteps.map((a) => a.attackerSteps), y: d.accuracyVsAttackerSteps.map((a) => a.accuracy) }] : []),
      ],
    }),
  );
}
