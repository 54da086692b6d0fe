/**
 * Runs trials on this machine, at most `workers` at once, each a child process (run-trial.ts).
 */
import type { PlannedTrial } from './load-sweep.js';
import type { Emit, Executor } from './executor.js';
import { runTrial } from './run-trial.js';

export function embeddedExecutor(sweepDir: string, workers: number, emit: Emit): Executor {
  const running = new Map<string, { stop: boolean; done: Promise<void> }>();
  const interrupt = new AbortController();
  return {
    capacity: () => workers - running.size,
    start(trial: PlannedTrial) {
      const entry = { stop: false, done: Promise.resolve() };
      running.set(trial.id, entry);
      entry.done = runTrial(
        { id: trial.id, spec: trial.spec, sweepDir },
        { onRecords: (records) => emit({ kind: 'records', id: trial.id, records }), shouldStop: () => entry.stop, signal: interrupt.signal },
      )
        .catch((e: unknown) => ({
          id: trial.id,
          status: 'failed' as const,
          records: [],
          seconds: 0,
          wallSeconds: 0,
          resumed: false,
          reused: false,
          host: '',
          error: (e as Error).message,
        }))
        .then((outcome) => {
          running.delete(trial.id);
          emit({ kind: 'done', outcome });
        });
    },
    stop(id: string) {
      const entry = running.get(id);
      if (entry) entry.stop = true;
    },
    async close() {
      interrupt.abort();
      await Promise.all([...running.values()].map((e) => e.done));
    },
  };
}
