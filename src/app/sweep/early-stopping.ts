/**
 * Early stopping as pure functions of the trials' per-epoch metric histories. Every history entry carries
 * `seq`, the order in which the sweep learned of it, so a decision about a trial's latest epoch depends
 * only on what was known when that epoch arrived (as it would in a live scheduler) and is the same
 * whenever it is recomputed: embedded and queue modes, and a resumed sweep, decide alike.
 *
 * Median stopping rule (Golovin et al., "Google Vizier", KDD 2017, §3.2.2): stop trial t at epoch e ≥
 * gracePeriod if its best value over epochs 1..e is worse than the median, over the other trials that had
 * reached epoch e, of their running averages over epochs 1..e (at least `minTrials` of them).
 *
 * ASHA as a stopping rule (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020,
 * Algorithm 2, in the asynchronous "stop" form Ray Tune uses): rungs at r_k = minEpochs·η^k < maxEpochs.
 * When t reaches rung k its value there is ranked among the values recorded at rung k up to then (t's
 * included, n of them); t continues only if it is among the top max(1, ⌊n/η⌋). The first trials to reach a
 * rung always continue, which is what makes the scheme asynchronous.
 */
import type { EarlyStopping } from './sweep-schema.js';

export type Goal = 'maximize' | 'minimize';

export interface EpochValue {
  /** 1-based epoch. */
  readonly epoch: number;
  readonly value: number;
  /** Global arrival order of this entry within the sweep. */
  readonly seq: number;
}

export interface TrialHistory {
  readonly id: string;
  readonly running: boolean;
  readonly history: readonly EpochValue[];
}

const better = (goal: Goal) => (a: number, b: number) => (goal === 'maximize' ? a > b : a < b);

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Entries of `h` for epochs 1..e known before `seq`. */
function upTo(h: readonly EpochValue[], epoch: number, seq: number): EpochValue[] {
  return h.filter((v) => v.epoch <= epoch && v.seq < seq);
}

export function medianStops(trials: readonly TrialHistory[], rule: Extract<EarlyStopping, { kind: 'median' }>, goal: Goal): string[] {
  const isBetter = better(goal);
  const stops: string[] = [];
  for (const t of trials) {
    if (!t.running || t.history.length === 0) continue;
    const latest = t.history[t.history.length - 1]!;
    if (latest.epoch < rule.gracePeriod) continue;
    const averages = trials
      .filter((o) => o.id !== t.id)
      .map((o) => upTo(o.history, latest.epoch, latest.seq))
      .filter((h) => h.some((v) => v.epoch === latest.epoch))
      .map((h) => h.reduce((s, v) => s + v.value, 0) / h.length);
    if (averages.length < rule.minTrials) continue;
    const best = t.history.filter((v) => v.epoch <= latest.epoch).reduce((b, v) => (isBetter(v.value, b) ? v.value : b), goal === 'maximize' ? -Infinity : Infinity);
    const m = median(averages);
    if (isBetter(m, best)) stops.push(t.id);
  }
  return stops;
}

export function ashaRungs(rule: Extract<EarlyStopping, { kind: 'asha' }>): number[] {
  const rungs: number[] = [];
  for (let r = rule.minEpochs; r < rule.maxEpochs; r *= rule.reductionFactor) rungs.push(r);
  return rungs;
}

export function ashaStops(trials: readonly TrialHistory[], rule: Extract<EarlyStopping, { kind: 'asha' }>, goal: Goal): string[] {
  const isBetter = better(goal);
  const stops: string[] = [];
  for (const t of trials) {
    if (!t.running) continue;
    for (const rung of ashaRungs(rule)) {
      const mine = t.history.find((v) => v.epoch === rung);
      if (!mine) break;
      const recorded = trials.flatMap((o) => o.history.filter((v) => v.epoch === rung && (o.id === t.id || v.seq < mine.seq)));
      const keep = Math.max(1, Math.floor(recorded.length / rule.reductionFactor));
      const ahead = recorded.filter((v) => isBetter(v.value, mine.value)).length;
      if (ahead >= keep) {
        stops.push(t.id);
        break;
      }
    }
  }
  return stops;
}

export function earlyStops(trials: readonly TrialHistory[], rule: EarlyStopping | undefined, goal: Goal): string[] {
  if (!rule) return [];
  return rule.kind === 'median' ? medianStops(trials, rule, goal) : ashaStops(trials, rule, goal);
}
