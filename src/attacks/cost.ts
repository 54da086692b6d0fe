/**
 * What an attack evaluation will cost, said before it starts: the number of relaxations per stage, and
 * seconds from a timed warm-up batch.
 *
 * Work is counted in example-relaxations of the defender: a *forward* relaxation (logits only) and a
 * *backward* one (a relaxation the attacker differentiates: the forward pass with its tape, the backward
 * pass, and, where the attacker's horizon differs from the defender's, the defender's own forward pass that
 * judges the point). Every count is an upper bound: examples leave an attack as soon as it breaks them, and
 * only clean-correct examples are attacked, so an evaluation of a weak model finishes well inside it.
 * Relaxations through a different horizon (the diagnostics' sweep, the default transfer source) are counted
 * in proportion to their steps.
 *
 * Per example, for R restarts: FGSM 2 forward + 1 backward; PGD-N 1 + R forward + R·N backward; APGD-N
 * 1 forward + R·(N + 1) backward; Square with Q queries Q + 1 forward; SPSA with I iterations of S pairs
 * 1 + I·(2S + 1) forward; a transfer attack its PGD on the source plus 1 forward on the defender; and one
 * forward per attack for the per-example record (the defender's margin and prediction at the point).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AttackModel } from './attack-model.js';

export interface Work {
  readonly forward: number;
  readonly backward: number;
}

export interface WorkStage extends Work {
  readonly stage: string;
}

export interface WorkBudget {
  readonly pgdSteps: number;
  readonly apgdSteps: number;
  readonly restarts: number;
  readonly queries: number;
  /** SPSA's iterations and perturbation pairs (defaults of spsa.ts: 50 and 32). */
  readonly spsaIterations?: number;
  readonly spsaSamples?: number;
}

const add = (a: Work, b: Work, times = 1): Work => ({ forward: a.forward + times * b.forward, backward: a.backward + times * b.backward });

/** Upper bound on one attack's work per example at one ε (`sourceScale`: a transfer source's cost relative to the defender). */
export function attackWork(name: string, budget: WorkBudget, sourceScale = 1): Work {
  const { pgdSteps: N, apgdSteps: M, restarts: R, queries: Q } = budget;
  const record = { forward: 1, backward: 0 };
  const pgdWork = { forward: 1 + R, backward: R * N };
  switch (name) {
    case 'fgsm':
      return add(record, { forward: 2, backward: 1 });
    case 'pgd':
    case 'pgd-margin':
    case 'pgd-dlr':
      return add(record, pgdWork);
    case 'apgd-ce':
    case 'apgd-dlr':
      return add(record, { forward: 1, backward: R * (M + 1) });
    case 'square':
      return add(record, { forward: Q + 1, backward: 0 });
    case 'spsa':
      return add(record, { forward: 1 + (budget.spsaIterations ?? 50) * (2 * (budget.spsaSamples ?? 32) + 1), backward: 0 });
    case 'transfer':
      return add(add(record, { forward: 1, backward: 0 }), { forward: pgdWork.forward * sourceScale, backward: pgdWork.backward * sourceScale });
    default:
      return record;
  }
}

export interface ProtocolPlan {
  readonly examples: number;
  readonly epsilons: number;
  readonly attacks: readonly string[];
  readonly budget: WorkBudget;
  readonly sourceScale: number;
  /** The defender's steps T (1 for a feed-forward net). */
  readonly defenderSteps: number;
  readonly minimalPerturbation?: { readonly bisections: number };
  readonly diagnostics?: { readonly examples: number; readonly horizons: readonly number[]; readonly attackSteps: readonly number[]; readonly attackerHorizons: readonly number[] };
}

/** The work of the whole protocol, stage by stage. */
export function protocolWork(plan: ProtocolPlan): WorkStage[] {
  const { examples: n, budget } = plan;
  const T = Math.max(1, plan.defenderSteps);
  const stages: WorkStage[] = [{ stage: 'clean', forward: n, backward: 0 }];
  for (const name of plan.attacks) {
    const w = attackWork(name, budget, plan.sourceScale);
    stages.push({ stage: name, forward: n * plan.epsilons * w.forward, backward: n * plan.epsilons * w.backward });
  }
  const d = plan.diagnostics;
  if (d) {
    const k = d.examples;
    let w: Work = { forward: 4 * k, backward: 2 * k + (k * d.horizons.reduce((s, h) => s + h, 0)) / T };
    for (const steps of d.attackSteps) w = add(w, { forward: k * 3, backward: k * steps });
    for (const h of d.attackerHorizons) w = add(w, { forward: k * (3 + budget.pgdSteps), backward: (k * budget.pgdSteps * h) / T });
    stages.push({ stage: 'diagnostics', ...w });
  }
  if (plan.minimalPerturbation) {
    const rounds = 1 + plan.minimalPerturbation.bisections;
    stages.push({ stage: 'minimal perturbation', forward: n * (1 + rounds * 2), backward: n * rounds * budget.pgdSteps });
  }
  return stages;
}

export interface Timing {
  /** Seconds per example of a forward relaxation and of a differentiated one, at the evaluation's batch size. */
  readonly forward: number;
  readonly backward: number;
  /** Examples in the timed batch. */
  readonly batch: number;
}

/**
 * Times one forward and one differentiated relaxation of a batch, after an untimed call on two examples
 * (the backend compiles its kernels on first use). The calls go to `model` directly, so they count in its
 * usage like any other.
 */
export function timeRelaxations(model: AttackModel, x: tf.Tensor, labels: tf.Tensor1D, batch: number): Timing {
  const n = Math.max(1, Math.min(batch, x.shape[0]!));
  const take = <T extends tf.Tensor>(t: T, count: number) => tf.slice(t, [0], [count]) as T;
  const small = take(x, Math.min(2, n));
  const smallLabels = take(labels, Math.min(2, n));
  const xs = take(x, n);
  const ys = take(labels, n);
  try {
    tf.dispose(model.logits(small));
    const first = model.gradient(small, smallLabels, 'ce');
    tf.dispose([first.gradient, first.logits]);
    let began = performance.now();
    tf.dispose(model.logits(xs));
    const forward = (performance.now() - began) / 1000 / n;
    began = performance.now();
    const g = model.gradient(xs, ys, 'ce');
    tf.dispose([g.gradient, g.logits]);
    const backward = (performance.now() - began) / 1000 / n;
    // A differentiated relaxation includes a forward one: a forward time above it is a load spike during the timing.
    return { forward: Math.min(forward, backward), backward, batch: n };
  } finally {
    tf.dispose([small, smallLabels, xs, ys]);
  }
}

export function workSeconds(work: Work, timing: Timing): number {
  return work.forward * timing.forward + work.backward * timing.backward;
}

export function totalWork(stages: readonly Work[]): Work {
  return stages.reduce<Work>((s, w) => add(s, w), { forward: 0, backward: 0 });
}

function compact(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e4 ? `${Math.round(v / 1e3)}k` : String(Math.round(v));
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The estimate as printed before the evaluation starts. */
export function formatEstimate(stages: readonly WorkStage[], timing: Timing): string {
  const total = totalWork(stages);
  const parts = stages.filter((s) => s.stage !== 'clean').map((s) => `${s.stage} ${formatDuration(workSeconds(s, timing))}`);
  return (
    `estimated cost (an upper bound: broken examples leave early): ${compact(total.forward)} forward and ${compact(total.backward)} differentiated relaxations, ` +
    `about ${formatDuration(workSeconds(total, timing))} at ${(1000 * timing.forward).toFixed(1)} ms forward and ${(1000 * timing.backward).toFixed(1)} ms differentiated per example ` +
    `(timed on a warm-up batch of ${timing.batch}); ${parts.join(', ')}`
  );
}
