/**
 * What runs trials for the sweep loop. The embedded executor runs them as child processes of this
 * machine; the queue executor puts them on BullMQ for `neurodyn worker`s. Both report the same events, so
 * the loop and the controller do not know which one they drive.
 */
import type { PlannedTrial } from './load-sweep.js';
import type { EpochRecord, TrialOutcome } from './run-trial.js';

export type ExecutorEvent =
  | { readonly kind: 'records'; readonly id: string; readonly records: readonly EpochRecord[] }
  | { readonly kind: 'done'; readonly outcome: TrialOutcome }
  /** Something the person running the sweep must know (Redis went away, came back). */
  | { readonly kind: 'notice'; readonly text: string }
  /** The executor cannot go on; the sweep ends with this error. */
  | { readonly kind: 'fatal'; readonly error: Error };

export interface Executor {
  /** How many more trials may be started now. */
  capacity(): number;
  start(trial: PlannedTrial): void;
  /** Ask a running trial to stop (idempotent). */
  stop(id: string): void;
  /** Ends what this executor started (embedded: the child processes) and its connections. */
  close(): Promise<void>;
}

export type Emit = (event: ExecutorEvent) => void;
