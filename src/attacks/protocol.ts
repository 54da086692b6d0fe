/**
 * The robustness-evaluation protocol behind `neurodyn attack` (reference/attacks-and-corruptions.md §1,
 * "Concrete protocol"): clean accuracy; the per-example worst case at every ε over *every* attack the run
 * performs (the chosen attacks and the diagnostics' sweeps over attack steps and attacker horizons, all
 * kept per example in an ExampleLedger, breaks carried to larger ε); the median minimal adversarial
 * perturbation over the clean-correct examples; and, for attacked examples, the attractor diagnostics
 * (trajectories clean vs adversarial, residuals, gradient norms by horizon, BPTT vs implicit cosine).
 * Before anything runs it times a warm-up batch and says what the evaluation will cost (cost.ts); progress
 * goes to an optional reporter (progress.ts). Pure computation: the CLI writes the results into a run folder.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UnknownNameError } from '../base/errors.js';
import { formatGradientMode } from '../core/gradient-mode.js';
import type { Rng } from '../base/rng.js';
import { apgd } from './apgd.js';
import type { Attack } from './attack.js';
import { attackModel, type AttackModel, type GradientSettings } from './attack-model.js';
import type { DynamicsClassifier } from './classifier.js';
import { gatherRows } from './attack.js';
import { attackWork, formatEstimate, protocolWork, timeRelaxations, totalWork, workSeconds, type Timing, type WorkStage } from './cost.js';
import { bpttImplicitCosine, gradientNormByHorizon, medianOf, trajectory, type GradientNormAtHorizon, type TrajectorySummary } from './diagnostics.js';
import { expectationOverTransformation } from './eot.js';
import { wilsonInterval } from '../base/statistics.js';
import { evaluateRobustness, type RobustnessReport } from './evaluate.js';
import { ExampleLedger } from './ledger.js';
import { attackLoss } from './losses.js';
import { formatMinimalPerturbation, minimalPerturbation, summarizeMinimalPerturbation, type MinimalPerturbationSummary } from './minimal-perturbation.js';
import { reportingModel, type AttackProgress } from './progress.js';
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
  /** Bisection rounds of the minimal-perturbation search (default 8). */
  readonly bisections?: number;
  readonly diagnostics: boolean;
  /** Examples used for the diagnostics (the first n). */
  readonly diagnosticExamples?: number;
  readonly say: (line: string) => void;
  /**
   * Time a warm-up batch and say the estimated cost before starting (default true); `progress` then gets the
   * estimate and may return a reporter, which receives every relaxation and the per-attack lines.
   */
  readonly estimate?: boolean;
  readonly progress?: (estimate: CostEstimate) => AttackProgress | undefined;
}

export interface CostEstimate {
  readonly seconds: number;
  readonly timing: Timing;
  readonly stages: readonly WorkStage[];
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

/** An attack the diagnostics ran on the first examples at one ε; its breaks are in the worst case. */
export interface DiagnosticAttack {
  readonly attack: string;
  readonly epsilon: number;
  readonly examples: number;
  /** Its own robust accuracy on those examples, and the worst case over every attack on the same examples. */
  readonly accuracy: number;
  readonly worstCase: number;
}

/** The worst case over every attack the evaluation ran, per ε. */
export interface WorstCase {
  readonly epsilon: number;
  readonly robust: Uint8Array;
  readonly robustAccuracy: number;
  readonly interval: readonly [number, number];
}

export interface ProtocolReport {
  readonly description: string;
  /** Signs of gradient masking (Athalye, Carlini & Wagner 2018; AutoAttack's checks), one sentence each, with the remedy. */
  readonly maskingWarnings: readonly string[];
  /** The chosen attacks, each over every example (their own accuracies, and their worst case). */
  readonly robustness: RobustnessReport;
  /** The worst case over every attack the run performed: the chosen ones, the diagnostics' sweeps, breaks carried up in ε. */
  readonly worstCase: readonly WorstCase[];
  readonly diagnosticAttacks: readonly DiagnosticAttack[];
  /** Per example and ε: which attacks broke it, the margin each reached, the stored adversarial point. */
  readonly ledger: ExampleLedger;
  /** Per example: NaN for clean mistakes, ∞ where nothing broke it within the search's ε_max. */
  readonly minimalPerturbations?: Float32Array;
  readonly minimalPerturbation?: MinimalPerturbationSummary;
  readonly diagnostics?: DiagnosticsReport;
  readonly estimate?: CostEstimate;
  readonly seconds: number;
}

/** The horizons and step counts the diagnostics sweep, from the defender's steps T and PGD's N. */
export function diagnosticSweeps(T: number, N: number, relaxes: boolean) {
  return {
    horizons: relaxes ? [...new Set([1, 2, 4, 8, 16, 32, 64, 128, 256, 512].filter((t) => t < T).concat([T]))] : [1],
    attackSteps: [...new Set([1, Math.ceil(N / 4), Math.ceil(N / 2), N, 2 * N])],
    attackerHorizons: relaxes ? [...new Set([1, Math.max(1, Math.round(T / 4)), Math.max(1, Math.round(T / 2)), T, 2 * T])] : [],
  };
}

const percent = (v: number) => `${(100 * v).toFixed(1)}%`;

export function runProtocol(request: ProtocolRequest): ProtocolReport {
  const began = performance.now();
  const { classifier, rng, x, labels, epsilons } = request;
  const n = x.shape[0]!;
  let base = attackModel(classifier, request.gradient);
  if (request.eot && request.eot > 1) base = expectationOverTransformation(base, request.eot, rng.split('eot'));
  const T = classifier.relaxation?.maxSteps ?? 1;
  const transferSteps = request.transferSteps ?? Math.max(1, Math.ceil(T / 10));
  const k = Math.min(request.diagnosticExamples ?? 32, n);
  const bisections = request.bisections ?? 8;
  const sourceScale = request.transferFrom ? 1 : transferSteps / T;
  const sweeps = diagnosticSweeps(T, request.budget.pgdSteps, classifier.relaxation !== undefined);
  const stages = protocolWork({
    examples: n,
    epsilons: epsilons.length,
    attacks: request.attacks,
    budget: request.budget,
    sourceScale,
    defenderSteps: T,
    ...(request.minimalPerturbation ? { minimalPerturbation: { bisections } } : {}),
    ...(request.diagnostics ? { diagnostics: { examples: k, ...sweeps } } : {}),
  });
  let say = request.say;
  let progress: AttackProgress | undefined;
  let estimate: CostEstimate | undefined;
  say(`attacking ${base.description}: ${n} examples, ${request.norm} ε ∈ {${epsilons.join(', ')}}, attacks ${request.attacks.join(', ')}`);
  if (request.estimate ?? true) {
    const timing = timeRelaxations(base, x, labels, request.batchSize);
    estimate = { seconds: workSeconds(totalWork(stages), timing), timing, stages };
    say(formatEstimate(stages, timing));
    progress = request.progress?.(estimate);
    if (progress) say = progress.line;
  }
  const model = progress ? reportingModel(base, progress) : base;
  const stageBound = (name: string) => (estimate ? workSeconds(stages.find((st) => st.stage === name) ?? { forward: 0, backward: 0 }, estimate.timing) : 0);
  const transferSource = () => {
    const source = request.transferFrom
      ? attackModel(request.transferFrom, { gradient: { kind: 'unrolled' } })
      : attackModel(classifier, { gradient: { kind: 'unrolled' }, relaxation: { maxSteps: transferSteps } });
    return progress ? reportingModel(source, progress, request.transferFrom ? 1 : transferSteps / T) : source;
  };
  const attacks = buildAttacks(request.attacks, request.budget, transferSource);
  try {
    const ledger = openLedger(model, x, labels, epsilons, request.norm, request.batchSize);
    const record = (epsilon: number, attack: string, rows: readonly number[], adversarial: tf.Tensor, fooled: Uint8Array) => recordAttempt(ledger, model, labels, epsilon, attack, rows, adversarial, fooled);
    const robustness = evaluateRobustness({
      model,
      attacks,
      x,
      labels,
      norm: request.norm,
      epsilons,
      rng: rng.split('evaluate'),
      batchSize: request.batchSize,
      order: request.order,
      onAdversarial: record,
      onAttackStart: (e) => progress?.stage(`ε ${e.epsilon}, batch ${e.batch}/${e.batches}: ${e.attack} on ${e.attacked}`, estimate ? workSeconds(attackWork(e.attack, request.budget, sourceScale), estimate.timing) * e.attacked : 0),
      onAttackDone: (e) => say(`ε ${e.epsilon}, batch ${e.batch}/${e.batches}, ${e.attack}: broke ${e.broken} of ${e.attacked} in ${e.seconds.toFixed(1)} s${progress ? `; ${progress.status()}` : ''}`),
    });
    ledger.finish();
    for (const p of robustness.perEpsilon) {
      say(`ε = ${p.epsilon}: chosen attacks' worst case ${percent(p.robustAccuracy)} [${p.interval.map((v) => (100 * v).toFixed(1)).join(', ')}] (${Object.entries(p.attacks).map(([name, a]) => `${name} ${percent(a.accuracy)}`).join(', ')})`);
    }
    let diagnostics: DiagnosticsReport | undefined;
    let diagnosticAttacks: DiagnosticAttack[] = [];
    if (request.diagnostics) {
      progress?.stage('diagnostics', stageBound('diagnostics'));
      const wrap = (m: AttackModel, scale: number) => (progress ? reportingModel(m, progress, scale, true) : m);
      ({ diagnostics, diagnosticAttacks } = runDiagnostics(request, model, robustness.cleanAccuracy, ledger, k, sweeps, say, record, wrap));
      ledger.finish();
    }
    let minimalPerturbations: Float32Array | undefined;
    let minimal: MinimalPerturbationSummary | undefined;
    if (request.minimalPerturbation) {
      progress?.stage('minimal perturbation', stageBound('minimal perturbation'));
      const maxEpsilon = 2 * Math.max(...epsilons);
      // Every fooling point the search finds is an attack like any other: recorded at the smallest ε of the
      // evaluation that holds it (and, through finish(), every larger one).
      const sorted = [...epsilons].sort((a, b) => a - b);
      const onAdversarial = (rows: readonly number[], adversarial: tf.Tensor, fooled: Uint8Array, norms: Float32Array) => {
        sorted.forEach((epsilon) => {
          const pick = rows.map((_, j) => j).filter((j) => fooled[j] && norms[j]! <= epsilon * (1 + 1e-5) + 1e-6 && !(sorted.find((e) => norms[j]! <= e * (1 + 1e-5) + 1e-6)! < epsilon));
          if (!pick.length) return;
          const points = gatherRows(adversarial, pick);
          record(epsilon, 'min-perturbation-search', pick.map((j) => rows[j]!), points, Uint8Array.from(pick, () => 1));
          points.dispose();
        });
      };
      // The smallest fooling point of any attack so far bounds the search from above (and spares it the check at ε_max).
      const anyAttack = ledger.smallestFoolingDistance();
      const searched = minimalPerturbation({ model, attack: pgd({ steps: request.budget.pgdSteps, loss: 'margin' }), x, labels, norm: request.norm, maxEpsilon, bisections, rng: rng.split('minimal'), knownUpperBounds: anyAttack, onAdversarial });
      ledger.finish();
      minimalPerturbations = Float32Array.from(searched, (v, i) => (ledger.cleanCorrect(i) ? Math.min(Number.isNaN(v) ? Number.POSITIVE_INFINITY : v, anyAttack[i]!) : Number.NaN));
      minimal = summarizeMinimalPerturbation(minimalPerturbations, maxEpsilon);
      say(`median smallest adversarial ${request.norm} norm: ${formatMinimalPerturbation(minimal)} (PGD-${request.budget.pgdSteps} margin, ${bisections} bisections up to ε_max = ${maxEpsilon}, or the smallest fooling point of any attack)`);
    }
    diagnosticAttacks = diagnosticAttacks.map((a) => ({ ...a, worstCase: ledger.robustAccuracy(a.epsilon, Array.from({ length: a.examples }, (_, i) => i)) }));
    const worstCase = epsilons.map((epsilon) => {
      const robust = ledger.robust(epsilon);
      const survivors = robust.reduce((s, v) => s + v, 0);
      return { epsilon, robust, robustAccuracy: survivors / n, interval: wilsonInterval(survivors, n) };
    });
    for (const w of worstCase) say(`ε = ${w.epsilon}: robust accuracy ${percent(w.robustAccuracy)} [${w.interval.map((v) => (100 * v).toFixed(1)).join(', ')}], the worst case over every attack this run performed`);
    const maskingWarnings = gradientMaskingSigns(robustness, attacks, diagnostics, { worstCase, diagnosticAttacks, family: classifier.family, defenderSteps: T, attacks: request.attacks });
    for (const w of maskingWarnings) say(`warning: ${w}`);
    return {
      description: `${base.description}; ${formatGradientMode(request.gradient.gradient)}`,
      maskingWarnings,
      robustness,
      worstCase,
      diagnosticAttacks,
      ledger,
      ...(minimalPerturbations && minimal ? { minimalPerturbations, minimalPerturbation: minimal } : {}),
      ...(diagnostics ? { diagnostics } : {}),
      ...(estimate ? { estimate } : {}),
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    progress?.done();
  }
}

/** The ledger opened with the clean inputs, the defender's clean predictions and margins. */
function openLedger(model: AttackModel, x: tf.Tensor, labels: tf.Tensor1D, epsilons: readonly number[], norm: Norm, batchSize: number): ExampleLedger {
  const n = x.shape[0]!;
  const prediction = new Int32Array(n);
  const margin = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const xb = gatherRows(x, rows);
    const yb = gatherRows(labels, rows);
    const logits = model.logits(xb);
    const [p, m] = tf.tidy(() => [tf.argMax(logits, 1), attackLoss('margin', logits, yb)]);
    prediction.set(p!.dataSync() as Int32Array, start);
    margin.set(m!.dataSync() as Float32Array, start);
    tf.dispose([xb, yb, logits, p!, m!]);
  }
  return new ExampleLedger(Float32Array.from(x.dataSync() as Float32Array), Int32Array.from(labels.dataSync()), prediction, margin, epsilons, norm);
}

/** The defender's margin and prediction at an attack's points (one forward relaxation), into the ledger. */
function recordAttempt(ledger: ExampleLedger, model: AttackModel, labels: tf.Tensor1D, epsilon: number, attack: string, rows: readonly number[], adversarial: tf.Tensor, fooled: Uint8Array): void {
  const ys = gatherRows(labels, rows);
  const logits = model.logits(adversarial);
  const [p, m] = tf.tidy(() => [tf.argMax(logits, 1), attackLoss('margin', logits, ys)]);
  ledger.record({ epsilon, attack, rows, points: Float32Array.from(adversarial.dataSync() as Float32Array), fooled, margin: m!.dataSync(), prediction: p!.dataSync() });
  tf.dispose([ys, logits, p!, m!]);
}

type Recorder = (epsilon: number, attack: string, rows: readonly number[], adversarial: tf.Tensor, fooled: Uint8Array) => void;

function runDiagnostics(
  request: ProtocolRequest,
  model: AttackModel,
  cleanAccuracy: number,
  ledger: ExampleLedger,
  k: number,
  sweeps: ReturnType<typeof diagnosticSweeps>,
  say: (line: string) => void,
  record: Recorder,
  wrap: (model: AttackModel, scale: number) => AttackModel,
): { diagnostics: DiagnosticsReport; diagnosticAttacks: DiagnosticAttack[] } {
  const { classifier, rng } = request;
  // The diagnostic ε: the smallest at which the worst case so far leaves at most half of the clean accuracy, else the largest.
  const eps = request.epsilons.find((e) => ledger.robustAccuracy(e) <= cleanAccuracy / 2) ?? Math.max(...request.epsilons);
  // The attacked examples among the first k, at their strongest stored point (a fooling one where any attack fooled them).
  const rows = Array.from({ length: k }, (_, i) => i).filter((i) => ledger.cleanCorrect(i));
  const d = request.x.size / request.x.shape[0]!;
  const picked = rows.length ? rows : [0];
  const xs = gatherRows(request.x, picked);
  const ys = gatherRows(request.labels, picked);
  const stored = ledger.adversarial(eps);
  const adversarialValues = new Float32Array(picked.length * d);
  picked.forEach((row, j) => adversarialValues.set(stored.subarray(row * d, (row + 1) * d), j * d));
  const xa = tf.tensor(adversarialValues, xs.shape);
  const xk = tf.tidy(() => tf.slice(request.x, [0], [k]));
  const yk = tf.tidy(() => tf.slice(request.labels, [0], [k])) as tf.Tensor1D;
  try {
    const clean = trajectory(classifier, xs, ys);
    const adversarial = trajectory(classifier, xa, ys);
    say(`diagnostics at ε = ${eps} on ${rows.length} attacked examples: steps ${clean.stepsTaken} (${clean.stopped}) clean, ${adversarial.stepsTaken} (${adversarial.stopped}) adversarial; residual median ${clean.residualMedian.toExponential(2)} clean, ${adversarial.residualMedian.toExponential(2)} adversarial`);
    const T = classifier.relaxation?.maxSteps ?? 1;
    const norms = gradientNormByHorizon(classifier, xs, ys, sweeps.horizons.filter((t) => t <= T));
    say(`input-gradient norm by unrolled horizon: ${norms.map((g) => `T=${g.steps}: ${g.median.toExponential(2)}${g.zero ? ` (${(100 * g.zero).toFixed(0)}% zero)` : ''}`).join(', ')}`);
    let cosine: DiagnosticsReport['bpttImplicitCosine'];
    if (classifier.relaxation) {
      const c = Array.from(bpttImplicitCosine(classifier, xs, ys)).filter(Number.isFinite);
      cosine = { median: medianOf(c), min: c.length ? Math.min(...c) : Number.NaN };
      say(`cosine(BPTT, implicit) median ${cosine.median.toFixed(4)}, lowest ${cosine.min.toFixed(4)}`);
    }
    // Accuracy against attack steps and against the attacker's horizon, at the diagnostic ε, on the first k
    // examples; every point these attacks find goes into the ledger, so the worst case includes them.
    const diagnosticAttacks: DiagnosticAttack[] = [];
    const accuracyOf = (m: AttackModel, steps: number, label: string) => {
      const r = evaluateRobustness({ model: m, attacks: [pgd({ steps, name: label })], x: xk, labels: yk, norm: request.norm, epsilons: [eps], rng: rng.split(label), batchSize: request.batchSize, onAdversarial: record });
      const accuracy = r.perEpsilon[0]!.robustAccuracy;
      diagnosticAttacks.push({ attack: label, epsilon: eps, examples: k, accuracy, worstCase: Number.NaN });
      return accuracy;
    };
    const N = request.budget.pgdSteps;
    const accuracyVsAttackSteps = sweeps.attackSteps.map((steps) => ({ steps, accuracy: accuracyOf(model, steps, `pgd-${steps}-steps`) }));
    say(`PGD accuracy against attack steps (ε = ${eps}, first ${k} examples): ${accuracyVsAttackSteps.map((a) => `${a.steps}: ${percent(a.accuracy)}`).join(', ')}`);
    const accuracyVsAttackerSteps = sweeps.attackerHorizons.map((t) => {
      const horizon = attackModel(classifier, { ...request.gradient, gradient: { kind: 'unrolled' }, relaxation: { maxSteps: t, ...(classifier.relaxation?.converge ? { converge: classifier.relaxation.converge } : {}) } });
      return { attackerSteps: t, accuracy: accuracyOf(wrap(horizon, t / T), N, `pgd-attacker-${t}`) };
    });
    if (accuracyVsAttackerSteps.length) say(`PGD-${N} accuracy against the attacker's unrolled steps (defender ${T}): ${accuracyVsAttackerSteps.map((a) => `${a.attackerSteps}: ${percent(a.accuracy)}`).join(', ')}`);
    return {
      diagnostics: { epsilon: eps, examples: rows.length, clean, adversarial, gradientNormByHorizon: norms, ...(cosine ? { bpttImplicitCosine: cosine } : {}), accuracyVsAttackSteps, accuracyVsAttackerSteps },
      diagnosticAttacks,
    };
  } finally {
    tf.dispose([xs, ys, xa, xk, yk]);
  }
}

export interface MaskingContext {
  /** The worst case over every attack the run performed (else the chosen attacks' worst case is used). */
  readonly worstCase?: readonly { readonly epsilon: number; readonly robustAccuracy: number }[];
  readonly diagnosticAttacks?: readonly DiagnosticAttack[];
  /** The defender's system kind (BPDA is offered for equilibrium-prop and cnn-f nets) and steps. */
  readonly family?: string;
  readonly defenderSteps?: number;
  /** The chosen attacks (a remedy already taken is not offered again). */
  readonly attacks?: readonly string[];
}

/**
 * What to do about masked gradients, named in every warning: an attacker that unrolls fewer steps
 * (`--attacker-steps`, with the horizon the diagnostics found strongest when one beat the full horizon), a
 * transfer attack, and BPDA (`--bpda`) where the defender has clips to differentiate straight-through or
 * switches (CNN-F's AdaReLU/AdaPool) to differentiate through a smooth surrogate.
 */
export function maskingRemedy(context: MaskingContext = {}): string {
  const T = context.defenderSteps ?? Number.POSITIVE_INFINITY;
  const horizons = (context.diagnosticAttacks ?? []).filter((a) => a.attack.startsWith('pgd-attacker-'));
  const stepsOf = (a: DiagnosticAttack) => Number(a.attack.slice('pgd-attacker-'.length));
  const full = horizons.find((a) => stepsOf(a) === T);
  const shorter = horizons.filter((a) => stepsOf(a) < T);
  const best = shorter.length ? shorter.reduce((a, b) => (b.accuracy < a.accuracy ? b : a)) : undefined;
  const options =
    best && full && best.accuracy < full.accuracy
      ? [`--attacker-steps ${stepsOf(best)} (PGD through ${stepsOf(best)} step${stepsOf(best) === 1 ? '' : 's'} left ${(100 * best.accuracy).toFixed(1)}% at ε = ${best.epsilon} in the diagnostics, against ${(100 * full.accuracy).toFixed(1)}% through all ${T}; success is still judged on the full relaxation)`]
      : ['--attacker-steps T with T below the defender\'s steps (the attacker differentiates a shorter relaxation; success is still judged on the full one)'];
  if (!(context.attacks ?? []).includes('transfer')) options.push('--attacks ...,transfer (or --transfer-from <spec-or-run>)');
  if (!context.family || context.family.startsWith('equilibrium-prop')) options.push("--bpda (straight-through through an equilibrium-prop net's clips)");
  if (context.family === 'cnn-f') options.push("--bpda (a sigmoid surrogate for the gradient of CNN-F's AdaReLU/AdaPool switches)");
  return `remedy: rerun with ${options.join(', or ')}`;
}

/**
 * The warning signs of obfuscated gradients (Athalye, Carlini & Wagner 2018, §3.1; Carlini et al. 2019
 * checklist; AutoAttack's flags): a gradient-free or transfer attack beats the white-box ones; a one-step
 * attack beats the iterative ones; PGD through a shorter attacker horizon beats the chosen attacks through
 * the defender's own relaxation; accuracy does not fall to about 0 at the largest ε; the input gradient
 * through the defender's own relaxation is (nearly) zero. Each warning ends with the remedy.
 */
export function gradientMaskingSigns(robustness: RobustnessReport, attacks: readonly Attack[], diagnostics?: DiagnosticsReport, context: MaskingContext = {}): string[] {
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
  // A shorter attacker horizon against the chosen attacks on the same (first) examples.
  const horizons = (context.diagnosticAttacks ?? []).filter((a) => a.attack.startsWith('pgd-attacker-') && Number(a.attack.slice('pgd-attacker-'.length)) < (context.defenderSteps ?? Number.POSITIVE_INFINITY));
  if (horizons.length) {
    const best = horizons.reduce((a, b) => (b.accuracy < a.accuracy ? b : a));
    const chosen = robustness.perEpsilon.find((p) => p.epsilon === best.epsilon);
    if (chosen) {
      const rows = Array.from({ length: best.examples }, (_, i) => i);
      const chosenOnRows = rows.reduce((s, i) => s + (chosen.robust[i] ?? 0), 0) / Math.max(1, rows.length);
      if (best.accuracy < chosenOnRows - Math.max(0.002, 1 / Math.max(1, best.examples))) {
        out.push(
          `ε = ${best.epsilon}: PGD through a ${best.attack.slice('pgd-attacker-'.length)}-step attacker horizon leaves ${(100 * best.accuracy).toFixed(1)}% of the first ${best.examples} examples against ${(100 * chosenOnRows).toFixed(1)}% for the chosen attacks through the defender's ${context.defenderSteps} steps (the worst case counts its breaks, but it ran on ${best.examples} examples at one ε only)`,
        );
      }
    }
  }
  const worst = context.worstCase ?? robustness.perEpsilon;
  const last = worst[worst.length - 1];
  if (last && last.robustAccuracy > 0.1) out.push(`accuracy does not reach about 0 at the largest ε = ${last.epsilon} (${(100 * last.robustAccuracy).toFixed(1)}%): raise ε until it does, or the attacks are not reaching the model`);
  const atT = diagnostics?.gradientNormByHorizon[diagnostics.gradientNormByHorizon.length - 1];
  if (atT && (atT.zero > 0 || atT.median < 1e-8 || atT.nonFinite > 0)) {
    out.push(`the input gradient through the defender's ${atT.steps} steps vanishes or explodes (median norm ${atT.median.toExponential(1)}, ${(100 * atT.zero).toFixed(0)}% exactly zero, ${(100 * atT.nonFinite).toFixed(0)}% NaN/Inf): gradient attacks through the full relaxation are unreliable`);
  }
  const remedy = maskingRemedy(context);
  return out.map((w) => `${w}; ${remedy}`);
}
