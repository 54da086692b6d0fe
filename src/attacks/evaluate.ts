/**
 * Robust accuracy: the fraction of examples that the defender classifies correctly clean *and* under every
 * attack run, at each ε: the per-example worst case over the attacks (Carlini et al. 2019: report
 * mean_x min_a, not min_a mean_x). Examples are processed in batches.
 *
 * `independent` runs every attack on every clean-correct example, which also gives each attack's own
 * accuracy (needed to compare white-box against gradient-free and transfer attacks, the gradient-masking
 * checks); `cascade` runs each attack only on the examples the earlier ones did not break (AutoAttack's
 * order, cheaper). An example an attack broke at a smaller ε counts as broken by it at every larger ε
 * without running it again (the point lies inside the larger ball). Every adversarial point is checked to
 * lie inside the threat model; one outside is a bug and stops the evaluation.
 *
 * Confidence intervals are Wilson score intervals at 95%.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../base/rng.js';
import { wilsonInterval } from '../base/statistics.js';
import { gatherRows, type Attack } from './attack.js';
import type { AttackModel } from './attack-model.js';
import { misclassified } from './losses.js';
import { insideThreat, type Norm } from './threat-model.js';

export interface RobustnessRequest {
  readonly model: AttackModel;
  readonly attacks: readonly Attack[];
  readonly x: tf.Tensor;
  readonly labels: tf.Tensor1D;
  readonly norm: Norm;
  readonly epsilons: readonly number[];
  readonly rng: Rng;
  readonly batchSize?: number;
  readonly order?: 'independent' | 'cascade';
  /** Called with each attack's adversarial points (rows of the whole set) before they are disposed. */
  readonly onAdversarial?: (epsilon: number, attack: string, rows: readonly number[], adversarial: tf.Tensor, fooled: Uint8Array) => void;
  readonly onProgress?: (line: string) => void;
  /** Called before and after each attack on each batch at each ε (progress reporting). */
  readonly onAttackStart?: (event: AttackEvent) => void;
  readonly onAttackDone?: (event: AttackEvent & { readonly broken: number; readonly seconds: number }) => void;
}

export interface AttackEvent {
  /** Batch number from 1, and the number of batches. */
  readonly batch: number;
  readonly batches: number;
  readonly epsilon: number;
  readonly attack: string;
  /** Examples the attack runs on in this batch. */
  readonly attacked: number;
}

export interface AttackOutcome {
  /** Accuracy under this attack alone (independent order), or after it in the cascade. */
  readonly accuracy: number;
  /** Examples this attack broke that no earlier attack in the list had broken. */
  readonly newlyBroken: number;
  readonly seconds: number;
}

export interface EpsilonOutcome {
  readonly epsilon: number;
  /** 1 where the example survived every attack (and was correct clean). */
  readonly robust: Uint8Array;
  readonly robustAccuracy: number;
  readonly interval: readonly [number, number];
  readonly attacks: Readonly<Record<string, AttackOutcome>>;
  /** Per attack, 1 where that attack broke the example. */
  readonly brokenBy: Readonly<Record<string, Uint8Array>>;
}

export interface RobustnessReport {
  readonly examples: number;
  readonly cleanCorrect: Uint8Array;
  readonly cleanAccuracy: number;
  readonly perEpsilon: readonly EpsilonOutcome[];
}

const sum = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);

export function evaluateRobustness(request: RobustnessRequest): RobustnessReport {
  const { model, attacks, x, labels, norm, epsilons, rng } = request;
  const n = x.shape[0]!;
  const batchSize = request.batchSize ?? 100;
  const order = request.order ?? 'independent';
  const cleanCorrect = new Uint8Array(n);
  const robust = epsilons.map(() => new Uint8Array(n));
  const brokenBy = epsilons.map(() => Object.fromEntries(attacks.map((a) => [a.name, new Uint8Array(n)])) as Record<string, Uint8Array>);
  const seconds = epsilons.map(() => Object.fromEntries(attacks.map((a) => [a.name, 0])) as Record<string, number>);
  const newly = epsilons.map(() => Object.fromEntries(attacks.map((a) => [a.name, 0])) as Record<string, number>);
  const batches = Math.ceil(n / batchSize);
  const smaller = epsilons.map((eps) => epsilons.map((_, j) => j).filter((j) => epsilons[j]! < eps));
  for (let start = 0; start < n; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, n - start) }, (_, k) => start + k);
    const xb = gatherRows(x, rows);
    const yb = gatherRows(labels, rows);
    const logits = model.logits(xb);
    const wrong = misclassified(logits, yb);
    logits.dispose();
    rows.forEach((row, k) => (cleanCorrect[row] = wrong[k] ? 0 : 1));
    epsilons.forEach((epsilon, e) => {
      const alive = new Uint8Array(rows.length).map((_, k) => cleanCorrect[rows[k]!]!);
      attacks.forEach((attack) => {
        // A point this attack found at a smaller ε lies inside this ball too: those examples are broken here
        // without running the attack again.
        const carried = (k: number) => smaller[e]!.some((j) => brokenBy[j]![attack.name]![rows[k]!] === 1);
        const open = rows.map((_, k) => k).filter((k) => (order === 'cascade' ? alive[k] : cleanCorrect[rows[k]!]));
        for (const k of open.filter(carried)) {
          brokenBy[e]![attack.name]![rows[k]!] = 1;
          if (alive[k]) newly[e]![attack.name]! += 1;
          alive[k] = 0;
        }
        const targets = open.filter((k) => !carried(k));
        if (targets.length === 0) return;
        const xs = gatherRows(xb, targets);
        const ys = gatherRows(yb, targets);
        const threat = { norm, epsilon, bounds: model.bounds };
        const event = { batch: start / batchSize + 1, batches, epsilon, attack: attack.name, attacked: targets.length };
        request.onAttackStart?.(event);
        const began = performance.now();
        const result = attack.run({ model, x: xs, labels: ys, threat, rng: rng.split(`eps-${epsilon}-${attack.name}-${start}`) });
        const took = (performance.now() - began) / 1000;
        seconds[e]![attack.name]! += took;
        request.onAttackDone?.({ ...event, broken: result.fooled.reduce((s, v) => s + v, 0), seconds: took });
        const inside = insideThreat(result.adversarial, xs, threat);
        const outside = inside.indexOf(false);
        if (outside >= 0) {
          tf.dispose([xs, ys, result.adversarial]);
          throw new Error(`internal error: attack ${attack.name} returned a point outside the ${norm} ball of radius ${epsilon} (example ${rows[targets[outside]!]})`);
        }
        const wholeRows = targets.map((k) => rows[k]!);
        request.onAdversarial?.(epsilon, attack.name, wholeRows, result.adversarial, result.fooled);
        targets.forEach((k, j) => {
          if (!result.fooled[j]) return;
          brokenBy[e]![attack.name]![rows[k]!] = 1;
          if (alive[k]) newly[e]![attack.name]! += 1;
          alive[k] = 0;
        });
        tf.dispose([xs, ys, result.adversarial]);
      });
      rows.forEach((row, k) => (robust[e]![row] = alive[k]!));
      request.onProgress?.(`examples ${start + rows.length}/${n}, eps ${epsilon}: robust so far ${sum(robust[e]!.subarray(0, start + rows.length))}`);
    });
    tf.dispose([xb, yb]);
  }
  const correct = sum(cleanCorrect);
  return {
    examples: n,
    cleanCorrect,
    cleanAccuracy: correct / n,
    perEpsilon: epsilons.map((epsilon, e) => {
      const survivors = sum(robust[e]!);
      let alive = correct;
      const outcomes: Record<string, AttackOutcome> = {};
      for (const attack of attacks) {
        const broken = sum(brokenBy[e]![attack.name]!);
        alive -= newly[e]![attack.name]!;
        outcomes[attack.name] = {
          accuracy: order === 'independent' ? (correct - broken) / n : alive / n,
          newlyBroken: newly[e]![attack.name]!,
          seconds: seconds[e]![attack.name]!,
        };
      }
      return { epsilon, robust: robust[e]!, robustAccuracy: survivors / n, interval: wilsonInterval(survivors, n), attacks: outcomes, brokenBy: brokenBy[e]! };
    }),
  };
}
