import { describe, expect, it } from 'vitest';
import { decide, type TrialView } from '../../../src/app/sweep/controller.js';
import { ashaRungs, ashaStops, medianStops, type EpochValue, type TrialHistory } from '../../../src/app/sweep/early-stopping.js';
import type { PlannedTrial } from '../../../src/app/sweep/load-sweep.js';

/** Histories built from per-epoch values, arriving round-robin (epoch 1 of every trial, then epoch 2, ...). */
function roundRobin(values: Record<string, number[]>, running: readonly string[] = Object.keys(values)): TrialHistory[] {
  const ids = Object.keys(values);
  const histories = new Map<string, EpochValue[]>(ids.map((id) => [id, []]));
  let seq = 0;
  const longest = Math.max(...Object.values(values).map((v) => v.length));
  for (let e = 0; e < longest; e++) for (const id of ids) if (values[id]![e] !== undefined) histories.get(id)!.push({ epoch: e + 1, value: values[id]![e]!, seq: seq++ });
  return ids.map((id) => ({ id, running: running.includes(id), history: histories.get(id)! }));
}

describe('median stopping rule', () => {
  const rule = { kind: 'median' as const, gracePeriod: 2, minTrials: 3 };

  // a, b, c have finished; d, e, f are running and report each epoch after them.
  const values = { a: [0.5, 0.6], b: [0.4, 0.5], c: [0.3, 0.4], d: [0.1, 0.2], e: [0.45, 0.5], f: [0.2, 0.3] };
  const running = ['d', 'e', 'f'];

  it('stops the trials whose best value is below the median of the others’ running averages, and only those', () => {
    // Running averages at epoch 2: a .55, b .45, c .35, d .15, e .475.
    // d (others a b c): median .45 > best .2 → stop. e (others a b c d): median .40 < best .5 → runs.
    // f (others a b c d e): median .45 > best .3 → stop.
    expect(medianStops(roundRobin(values, running), rule, 'maximize').sort()).toEqual(['d', 'f']);
  });

  it('waits for the grace period and for minTrials others at the same epoch', () => {
    expect(medianStops(roundRobin({ a: [0.9], b: [0.8], c: [0.7], d: [0.1] }), rule, 'maximize')).toEqual([]);
    expect(medianStops(roundRobin({ a: [0.9, 0.9], b: [0.8, 0.8], d: [0.1, 0.1] }), rule, 'maximize')).toEqual([]);
  });

  it('only judges running trials, and reads the goal', () => {
    expect(medianStops(roundRobin(values, ['e']), rule, 'maximize')).toEqual([]);
    // Minimising, lower is better: d's best .1 beats the median .45, e's best .45 is worse than .40 → stop, f's .2 beats .45.
    expect(medianStops(roundRobin(values, running), rule, 'minimize')).toEqual(['e']);
  });

  it('judges an epoch by what was known when it arrived (the same answer however late it is recomputed)', () => {
    // d reports epoch 2 before anyone else: with nothing to compare it to then, it is never stopped for that epoch.
    const trials: TrialHistory[] = [
      { id: 'd', running: true, history: [{ epoch: 1, value: 0.1, seq: 0 }, { epoch: 2, value: 0.1, seq: 1 }] },
      ...['a', 'b', 'c'].map((id, k) => ({ id, running: true, history: [{ epoch: 1, value: 0.9, seq: 2 + 2 * k }, { epoch: 2, value: 0.9, seq: 3 + 2 * k }] })),
    ];
    expect(medianStops(trials, rule, 'maximize')).toEqual([]);
  });
});

describe('ASHA as a stopping rule', () => {
  const rule = { kind: 'asha' as const, minEpochs: 1, maxEpochs: 9, reductionFactor: 3 };

  it('places rungs at minEpochs·η^k below maxEpochs', () => {
    expect(ashaRungs(rule)).toEqual([1, 3]);
    expect(ashaRungs({ ...rule, minEpochs: 2, reductionFactor: 2, maxEpochs: 20 })).toEqual([2, 4, 8, 16]);
  });

  it('the first to reach a rung continue; later ones continue only in the top 1/η of what the rung has recorded', () => {
    // Arrival order at rung 1: a 0.5 (alone → keep 1 → continues), b 0.6, c 0.4 (3 recorded → keep 1: c has 2 ahead → stop),
    // d 0.7 (4 recorded → keep 1: nobody ahead → continues), e 0.55 (5 → keep 1; b, d ahead → stop), f 0.65 (6 → keep 2; d ahead only → continues).
    // b arrived second: 2 recorded → keep max(1, 0) = 1, a is behind it → continues.
    const trials = roundRobin({ a: [0.5], b: [0.6], c: [0.4], d: [0.7], e: [0.55], f: [0.65] });
    expect(ashaStops(trials, rule, 'maximize').sort()).toEqual(['c', 'e']);
  });

  it('judges each rung a trial passed: a trial that was good at rung 1 can be stopped at rung 3', () => {
    const trials: TrialHistory[] = [
      { id: 'x', running: false, history: [1, 2, 3].map((e) => ({ epoch: e, value: 0.9, seq: e })) },
      { id: 'y', running: false, history: [1, 2, 3].map((e) => ({ epoch: e, value: 0.8, seq: 10 + e })) },
      { id: 'z', running: true, history: [{ epoch: 1, value: 0.95, seq: 20 }, { epoch: 2, value: 0.5, seq: 21 }, { epoch: 3, value: 0.5, seq: 22 }] },
    ];
    expect(ashaStops(trials, rule, 'maximize')).toEqual(['z']);
    expect(ashaStops(trials.map((t) => (t.id === 'z' ? { ...t, history: t.history.slice(0, 2) } : t)), rule, 'maximize')).toEqual([]);
  });
});

describe('the controller', () => {
  const planned = ['t0', 't1', 't2', 't3'].map((id, i) => ({ id, configIndex: i >> 1, config: {}, seed: i % 2, spec: {} }) as unknown as PlannedTrial);
  const view = (status: TrialView['status']): TrialView => ({ status, history: [] });

  it('launches unstarted trials in plan order up to the capacity, and is done only when every trial has finished', () => {
    const trials = new Map<string, TrialView>([['t0', view('completed')], ['t1', view('running')]]);
    const d = decide({ planned, goal: 'maximize', trials, capacity: 1 });
    expect(d.launch.map((t) => t.id)).toEqual(['t2']);
    expect(d.done).toBe(false);
    expect(decide({ planned, goal: 'maximize', trials, capacity: 0 }).launch).toEqual([]);
    const all = new Map<string, TrialView>(planned.map((t, i) => [t.id, view((['completed', 'stopped', 'failed', 'completed'] as const)[i]!)]));
    const end = decide({ planned, goal: 'maximize', trials: all, capacity: 4 });
    expect(end).toEqual({ launch: [], stop: [], done: true });
  });

  it('passes the early-stopping decisions through for running trials', () => {
    const h = (values: number[], offset: number): EpochValue[] => values.map((value, i) => ({ epoch: i + 1, value, seq: offset + i * 4 }));
    const trials = new Map<string, TrialView>([
      ['t0', { status: 'completed', history: h([0.5, 0.6], 0) }],
      ['t1', { status: 'completed', history: h([0.4, 0.5], 1) }],
      ['t2', { status: 'completed', history: h([0.3, 0.4], 2) }],
      ['t3', { status: 'running', history: h([0.1, 0.2], 3) }],
    ]);
    const d = decide({ planned, goal: 'maximize', earlyStopping: { kind: 'median', gracePeriod: 2, minTrials: 3 }, trials, capacity: 2 });
    expect(d.stop).toEqual(['t3']);
    expect(d.done).toBe(false);
  });
});
