/**
 * The sweep controller: a pure function from what is known about the trials to what to do next, shared
 * by the embedded and the queue modes (in the spirit of W&B's `next_run`/`stop_runs`). It never touches
 * a process, a file or Redis; the executors do what it says and report back.
 */
import type { PlannedTrial } from './load-sweep.js';
import { earlyStops, type EpochValue, type Goal } from './early-stopping.js';
import type { EarlyStopping } from './sweep-schema.js';

export type TrialStatus = 'running' | 'completed' | 'stopped' | 'failed';

export interface TrialView {
  readonly status: TrialStatus;
  /** The per-epoch early-stopping metric, as it arrived. */
  readonly history: readonly EpochValue[];
}

export interface ControllerInput {
  readonly planned: readonly PlannedTrial[];
  readonly goal: Goal;
  readonly earlyStopping?: EarlyStopping;
  /** Trials launched so far, by id (running or finished). */
  readonly trials: ReadonlyMap<string, TrialView>;
  /** How many more trials may run at once now. */
  readonly capacity: number;
}

export interface Decision {
  /** Next trials to start, in plan order. */
  readonly launch: readonly PlannedTrial[];
  /** Running trials to stop now. */
  readonly stop: readonly string[];
  /** Every planned trial has finished (completed, stopped or failed). */
  readonly done: boolean;
}

export function decide(input: ControllerInput): Decision {
  const { planned, trials } = input;
  const launch = planned.filter((t) => !trials.has(t.id)).slice(0, Math.max(0, input.capacity));
  const views = [...trials.entries()].map(([id, v]) => ({ id, running: v.status === 'running', history: v.history }));
  const stop = earlyStops(views, input.earlyStopping, input.goal);
  const done = planned.every((t) => {
    const status = trials.get(t.id)?.status;
    return status !== undefined && status !== 'running';
  });
  return { launch, stop, done };
}
