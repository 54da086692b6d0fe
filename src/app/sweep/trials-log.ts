/**
 * `trials.jsonl`: one line per finished trial, appended as each finishes (a line is written whole by one
 * append, so an interrupt leaves whole lines). It is the sweep's memory: `--resume` reads it back and
 * runs only what is not in it, `--retry-failed` also what failed.
 */
import fs from 'node:fs';
import type { EpochValue } from './early-stopping.js';

export interface TrialRecord {
  readonly id: string;
  readonly configIndex: number;
  readonly config: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly status: 'completed' | 'stopped' | 'failed';
  /** The sweep's metric from the trial's summary (completed), or its last per-epoch value (stopped). */
  readonly metric: number | null;
  /** The per-epoch early-stopping metric, with its arrival order. */
  readonly history: readonly EpochValue[];
  readonly seconds: number;
  readonly wallSeconds: number;
  /** Seconds from the controller launching the trial to learning its result (queueing and dispatch included). */
  readonly turnaroundSeconds: number | null;
  /** Run folder, relative to the sweep folder. */
  readonly folder: string;
  readonly host: string;
  readonly resumed: boolean;
  readonly error?: string;
  readonly finishedAt: string;
}

export function readTrialsLog(file: string): TrialRecord[] {
  if (!fs.existsSync(file)) return [];
  const byId = new Map<string, TrialRecord>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const record = JSON.parse(line) as TrialRecord;
      byId.set(record.id, record);
    } catch {
      // A torn last line from a crash mid-append: that trial is simply run again.
    }
  }
  return [...byId.values()];
}

export function appendTrialRecord(file: string, record: TrialRecord): void {
  fs.appendFileSync(file, `${JSON.stringify(record)}\n`);
}
