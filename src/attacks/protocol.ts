/**
 * The robustness-evaluation protocol behind `neurodyn attack` (reference/attacks-and-corruptions.md §1,
 * "Concrete protocol"): clean accuracy; the per-example worst case over the chosen attacks at every ε; the
 * median minimal adversarial perturbation; and, for attacked examples, the attractor diagnostics
 * (trajectories clean vs adversarial, residuals, gradient norms by horizon, BPTT vs implicit cosine), plus
 * accuracy against the number of attack steps and against the attacker's number of relaxation steps.
 * Pure computation: the CLI writes the results into a run folder.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UnknownNameError } from '../base/errors.js';
import { formatGradientMode } from '../core/gradient-mode.js';
import type { Rng } from '../base/rng.js';
import { apgd } from './apgd.js';
import type { Attack } from './attack.js';
import { attackModel, type AttackModel, type GradientSettings } from './attack-model.js';
import type { DynamicsClassifier } from './classifier.js';
import { bpttImplicitCosine, gradientNormByHorizon, medianOf, trajectory, type GradientNormAtHorizon, type TrajectorySummary } from './diagnostics.js';
import { expectationOverTransformation } from './eot.js';
import { evaluateRobustness, type RobustnessReport } from './evaluate.js';
import { median, minimalPerturbation } from './minimal-perturbation.js';
import { fgsm, pgd } from './pgd.js';
import { spsa } from './spsa.js';
import { square } from './square.js';
import type { Norm } from './threat-model.js';
import { transfer } from './transfer.js';

export const ATTACK_NAMES = ['fgsm', 'pgd', 'pgd-margin', 'pgd-dlr', 'apgd-ce', 'apgd-dlr', 'square', 'spsa', 'transfer'] as const;

export interface AttackBudget {
  /** PGD steps (default 40) and APGD iterations (default 100). */
  readonly pgdSteps: number;
  readonly apgdSteps: number;
  readonly restarts: number;
  /** Square queries (default 5,000). */
  readonly queries: number;
}

export function buildAttacks(names: readonly string[], budget: AttackBudget, transferSource: () => AttackModel): Attack[] {
  return names.map((name) => {
    switch (name) {
      case 'fgsm':
        return fgsm();
      case 'pgd':
        return pgd({ steps: budget.pgdSteps, restarts: budget.restarts, name: 'pgd' });
      case 'pgd-margin':
        return pgd({ steps: budget.pgdSteps, restarts: budget.restarts, loss: 'margin', name: 'pgd-margin' });
      case 'pgd-dlr':
        return pgd({ steps: budget.pgdSteps, restarts: budget.restarts, loss: 'dlr', name: 'pgd-dlr' });
      case 'apgd-ce':
        return apgd({ loss: 'ce', steps: budget.apgdSteps, restarts: budget.restarts });
      case 'apgd-dlr':
        return apgd({ loss: 'dlr', steps: budget.apgdSteps, restarts: budget.restarts });
      case 'square':
        return square({ queries: budget.queries });
      case 'spsa':
        return spsa();
      case 'transfer':
        return transfer(transferSource(), pgd({ steps: budget.pgdSteps, restarts: budget.restarts }), 'transfer');
      default:
        throw new UnknownNameError('--attacks', 'attack', name, ATTACK_NAMES);
    }
  });
}

export interface ProtocolRequest {
  readonly classifier: DynamicsClassifier;
  /** The model transfer attacks craft on; default: the defender itself cut to `transferSteps` steps. */
  readonly transferFrom?: DynamicsClassifier;
  /**
   * Steps of the defender's own early-state surrogate when no `transferFrom` is given (default ⌈T/10⌉): a
   * layered net needs as many synchronous steps as it has layers before the input reaches the readout (EP
   * 784-500-10 from rest: 2), so one step can be blind to x.
   */
  readonly transferSteps?: number;
  readonly norm: Norm;
  readonly epsilons: readonly number[];
  readonly attacks: readonly string[];
  readonly gradient: GradientSettings;
  readonly eot?: number;
  readonly budget: AttackBudget;
  readonly x: tf.Tensor;
  readonly labels: tf.Tensor1D;
  readonly rng: Rng;
  readonly batchSize: number;
  readonly order: 'independent' | 'cascade';
  readonly minimalPerturbation: boolean;
  readonly diagnostics: boolean;
  /** Examples used for the diagnostics (the first n). */
  readonly diagnosticExamples?: number;
  readonly say: (line: string) => void;
}

export interface DiagnosticsReport {
  readonly epsilon: number;
  readonly examples: number;
  readonly clean: TrajectorySummary;
  readonly adversarial: TrajectorySummary;
  readonly gradientNormByHorizon: readonly GradientNormAtHorizon[];
  /** Median (and lowest) cosine between BPTT and implicit gradients; absent for feed-forward nets. */
  readonly bpttImplicitCosine?: { readonly median: number; readonly min: number };
  /** Robust accuracy of PGD with N steps, at the diagnostic ε. */
  readonly accuracyVsAttackSteps: readonly { readonly steps: number; readonly accuracy: number }[];
  /** Robust accuracy when the attacker unrolls T steps (the defender keeps its own), PGD, at the diagnostic ε. */
  readonly accuracyVsAttackerSteps: readonly { readonly attackerSteps: number; readonly accuracy: number }[];
}

export interface ProtocolReport {
  readonly description: string;
  /** Signs of gradient masking (Athalye, Carlini & Wagner 2018; AutoAttack's checks), one sentence each. */
  readonly maskingWarnings: readonly string[];
  readonly robustness: RobustnessReport;
  readonly minimalPerturbations?: Float32Array;
  readonly medianMinimalPerturbation?: number;
  readonly diagnostics?: DiagnosticsReport;
  readonly seconds: number;
}

export function runProtocol(request: ProtocolRequest): ProtocolReport {
  const began = performance.now();
  const { classifier, rng, say } = request;
  let model = attackModel(classifier, request.gradient);
  if (request.eot && request.eot > 1) model = expectationOverTransformation(model, request.eot, rng.split('eot'));
  const transferSource = () =>
    request.transferFrom
      ? attackModel(request.transferFrom, { gradient: { kind: 'unrolled' } })
      : attackModel(classifier, { gradient: { kind: 'unrolled' }, relaxation: { maxSteps: request.transferSteps ?? Math.max(1, Math.ceil((classifier.relaxation?.maxSteps ?? 1) / 10)) } });
  const attacks = buildAttacks(request.attacks, request.budget, transferSource);
  say(`attacking ${model.description}: ${request.x.shape[0]} examples, ${request.norm} ε ∈ {${request.epsilons.join(', ')}}, attacks ${attacks.map((a) => a.name).join(', ')}`);
  // Adversarial points of the first examples, for the diagnostics: the first successful one per example.
  const k = Math.min(request.diagnosticExamples ?? 32, request.x.shape[0]!);
  const stored = new Map<number, Map<number, Float32Array>>();
  const robustness = evaluateRobustness({
    model,
    attacks,
    x: request.x,
    labels: request.labels,
    norm: request.norm,
    epsilons: request.epsilons,
    rng: rng.split('evaluate'),
    batchSize: request.batchSize,
    order: request.order,
    onAdversarial: (epsilon, _attack, rows, adversarial, fooled) => {
      if (!request.diagnostics || !rows.some((r) => r < k)) return;
      const byRow = stored.get(epsilon) ?? new Map<number, Float32Array>();
      stored.set(epsilon, byRow);
      const d = adversarial.size / adversarial.shape[0]!;
      const values = adversarial.dataSync();
      rows.forEach((row, j) => {
        if (row >= k) return;
        if (!byRow.has(row) || fooled[j]) byRow.set(row, Float32Array.from(values.subarray(j * d, (j + 1) * d)));
      });
    },
    onProgress: say,
  });
  for (const p of robustness.perEpsilon) {
    say(`ε = ${p.epsilon}: robust accuracy ${(100 * p.robustAccuracy).toFixed(1)}% [${p.interval.map((v) => (100 * v).toFixed(1)).join(', ')}] (${Object.entries(p.attacks).map(([n, a]) => `${n} ${(100 * a.accuracy).toFixed(1)}%`).join(', ')})`);
  }
  let minimalPerturbations: Float32Array | undefined;
  if (request.minimalPerturbation) {
    const maxEpsilon = 2 * Math.max(...request.epsilons);
    minimalPerturbations = minimalPerturbation({
      model,
      attack: pgd({ steps: request.budget.pgdSteps, loss: 'margin' }),
      x: request.x,
      labels: request.labels,
      norm: request.norm,
      maxEpsilon,
      rng: rng.split('minimal'),
    });
    say(`median smallest adversarial ${request.norm} norm: ${median(minimalPerturbations)} (PGD-${request.budget.pgdSteps} margin, bisection up to ε = ${maxEpsilon})`);
  }
  let diagnostics: DiagnosticsReport | undefined;
  if (request.diagnostics) diagnostics = runDiagnostics(request, model, robustness, stored, k);
  const maskingWarnings = gradientMaskingSigns(robustness, attacks, diagnostics);
  for (const w of maskingWarnings) say(`warning: ${w}`);
  return {
    description: `${model.description}; ${formatGradientMode(request.gradient.gradient)}`,
    maskingWarnings,
    robustness,
    ...(minimalPerturbations ? { minimalPerturbations, medianMinimalPerturbation: median(minimalPerturbations) } : {}),
    ...(diagnostics ? { diagnostics } : {}),
    seconds: (performance.now() - began) / 1000,
  };
}

function runDiagnostics(request: ProtocolRequest, model: AttackModel, robustness: RobustnessReport, stored: Map<number, Map<number, Float32Array>>, k: number): DiagnosticsReport {
  const { classifier, rng, say } = request;
  // The diagnostic ε: the smallest at which the worst case leaves at most half of the clean accuracy, else the largest.
  const { cleanAccuracy, perEpsilon } = robustness;
  const eps = perEpsilon.find((p) => p.robustAccuracy <= cleanAccuracy / 2)?.epsilon ?? request.epsilons[request.epsilons.length - 1]!;
  const byRow = stored.get(eps) ?? new Map<number, Float32Array>();
  const rows = [...byRow.keys()].sort((a, b) => a - b);
  const d = request.x.size / request.x.shape[0]!;
  const xs = tf.tidy(() => tf.gather(request.x, tf.tensor1d(Int32Array.from(rows.length ? rows : [0]), 'int32')));
  const ys = tf.tidy(() => tf.gather(request.labels, tf.tensor1d(Int32Array.from(rows.length ? rows : [0]), 'int32'))) as tf.Tensor1D;
  const adversarialValues = new Float32Array(Math.max(1, rows.length) * d);
  if (rows.length) rows.forEach((row, j) => adversarialValues.set(byRow.get(row)!, j * d));
  else adversarialValues.set(xs.dataSync());
  const xa = tf.tensor(adversarialValues, xs.shape);
  try {
    const clean = trajectory(classifier, xs, ys);
    const adversarial = trajectory(classifier, xa, ys);
    say(`diagnostics at ε = ${eps} on ${rows.length} attacked examples: steps ${clean.stepsTaken} (${clean.stopped}) clean, ${adversarial.stepsTaken} (${adversarial.stopped}) adversarial; residual median ${clean.residualMedian.toExponential(2)} clean, ${adversarial.residualMedian.toExponential(2)} adversarial`);
    const T = classifier.relaxation?.maxSteps ?? 1;
    const horizons = [...new Set([1, 2, 4, 8, 16, 32, 64, 128, 256, 512].filter((t) => t < T).concat([T]))];
    const norms = gradientNormByHorizon(classifier, xs, ys, horizons);
    say(`input-gradient norm by unrolled horizon: ${norms.map((g) => `T=${g.steps}: ${g.median.toExponential(2)}${g.zero ? ` (${(100 * g.zero).toFixed(0)}% zero)` : ''}`).join(', ')}`);
    let cosine: DiagnosticsReport['bpttImplicitCosine'];
    if (classifier.relaxation) {
      const c = Array.from(bpttImplicitCosine(classifier, xs, ys)).filter(Number.isFinite);
      cosine = { median: medianOf(c), min: c.length ? Math.min(...c) : Number.NaN };
      say(`cosine(BPTT, implicit) median ${cosine.median.toFixed(4)}, lowest ${cosine.min.toFixed(4)}`);
    }
    // Accuracy against attack steps and against the attacker's horizon, at the diagnostic ε, on the first k examples.
    const xk = tf.tidy(() => tf.slice(request.x, [0], [k]));
    const yk = tf.tidy(() => tf.slice(request.labels, [0], [k])) as tf.Tensor1D;
    const accuracyOf = (m: AttackModel, steps: number, label: string) => {
      const r = evaluateRobustness({ model: m, attacks: [pgd({ steps })], x: xk, labels: yk, norm: request.norm, epsilons: [eps], rng: rng.split(label), batchSize: request.batchSize });
      return r.perEpsilon[0]!.robustAccuracy;
    };
    const N = request.budget.pgdSteps;
    const accuracyVsAttackSteps = [...new Set([1, Math.ceil(N / 4), Math.ceil(N / 2), N, 2 * N])].map((steps) => ({ steps, accuracy: accuracyOf(model, steps, `steps-${steps}`) }));
    say(`PGD accuracy against attack steps (ε = ${eps}, first ${k} examples): ${accuracyVsAttackSteps.map((a) => `${a.steps}: ${(100 * a.accuracy).toFixed(1)}%`).join(', ')}`);
    const attackerHorizons = classifier.relaxation ? [...new Set([1, Math.max(1, Math.round(T / 4)), Math.max(1, Math.round(T / 2)), T, 2 * T])] : [];
    const accuracyVsAttackerSteps = attackerHorizons.map((t) => ({
      attackerSteps: t,
      accuracy: accuracyOf(attackModel(classifier, { ...request.gradient, gradient: { kind: 'unrolled' }, relaxation: { maxSteps: t, ...(classifier.relaxation?.converge ? { converge: classifier.relaxation.converge } : {}) } }), request.budget.pgdSteps, `attacker-${t}`),
    }));
    if (accuracyVsAttackerSteps.length) say(`PGD-${request.budget.pgdSteps} accuracy against the attacker's unrolled steps (defender ${T}): ${accuracyVsAttackerSteps.map((a) => `${a.attackerSteps}: ${(100 * a.accuracy).toFixed(1)}%`).join(', ')}`);
    tf.dispose([xk, yk]);
    return { epsilon: eps, examples: rows.length, clean, adversarial, gradientNormByHorizon: norms, ...(cosine ? { bpttImplicitCosine: cosine } : {}), accuracyVsAttackSteps, accuracyVsAttackerSteps };
  } finally {
    tf.dispose([xs, ys, xa]);
  }
}

/**
 * The warning signs of obfuscated gradients (Athalye, Carlini & Wagner 2018, §3.1; Carlini et al. 2019
 * checklist; AutoAttack's flags): a gradient-free or transfer attack beats the white-box ones; a one-step
 * attack beats the iterative ones; accuracy does not fall to about 0 at the largest ε; the input gradient
 * through the defender's own relaxation is (nearly) zero.
 */
export function gradientMaskingSigns(robustness: RobustnessReport, attacks: readonly Attack[], diagnostics?: DiagnosticsReport): string[] {
  const out: string[] = [];
  const n = robustness.examples;
  const noise = Math.max(0.002, 1 / n);
  for (const p of robustness.perEpsilon) {
    const white = attacks.filter((a) => a.access === 'white-box');
    const iterative = white.filter((a) => a.name !== 'fgsm');
    const others = attacks.filter((a) => a.access !== 'white-box');
    const acc = (a: Attack) => p.attacks[a.name]!.accuracy;
    if (white.length && others.length) {
      const bestWhite = Math.min(...white.map(acc));
      for (const a of others) {
        if (acc(a) < bestWhite - noise) out.push(`ε = ${p.epsilon}: ${a.name} (${a.access}) leaves ${(100 * acc(a)).toFixed(1)}% against ${(100 * bestWhite).toFixed(1)}% for the best white-box attack`);
      }
    }
    const fgsm = white.find((a) => a.name === 'fgsm');
    if (fgsm && iterative.length && acc(fgsm) < Math.min(...iterative.map(acc)) - noise) {
      out.push(`ε = ${p.epsilon}: one-step FGSM (${(100 * acc(fgsm)).toFixed(1)}%) beats the iterative attacks (${(100 * Math.min(...iterative.map(acc))).toFixed(1)}%)`);
    }
  }
  const last = robustness.perEpsilon[robustness.perEpsilon.length - 1];
  if (last && last.robustAccuracy > 0.1) out.push(`accuracy does not reach about 0 at the largest ε = ${last.epsilon} (${(100 * last.robustAccuracy).toFixed(1)}%): raise ε until it does, or the attacks are not reaching the model`);
  const atT = diagnostics?.gradientNormByHorizon[diagnostics.gradientNormByHorizon.length - 1];
  if (atT && (atT.zero > 0 || atT.median < 1e-8 || atT.nonFinite > 0)) {
    out.push(`the input gradient through the defender's ${atT.steps} steps vanishes or explodes (median norm ${atT.median.toExponential(1)}, ${(100 * atT.zero).toFixed(0)}% exactly zero, ${(100 * atT.nonFinite).toFixed(0)}% NaN/Inf): gradient attacks through the full relaxation are unreliable`);
  }
  return out;
}
