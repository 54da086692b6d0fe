/**
 * A job is what `neurodyn run` does with a spec: relax a network on data and measure recall, train it,
 * attack it. Jobs are registered by `job.kind`; each declares its options (zod, strict) and a `run` that
 * receives everything already built and validated, and returns its summary metrics.
 */
import type { z } from 'zod';
import type { Rng } from '../base/rng.js';
import type { SystemEntry } from '../systems/index.js';
import type { Split } from '../data/index.js';
import type { Progress } from '../runs/progress.js';
import type { RunFolder } from '../runs/run-folder.js';
import type { ResolvedSpec } from '../spec/schema.js';

export interface JobContext<O> {
  readonly spec: ResolvedSpec;
  readonly options: O;
  readonly system: SystemEntry;
  readonly data: Split;
  readonly rng: Rng;
  readonly folder: RunFolder;
  readonly progress: (label: string, total: number) => Progress;
  /** One line for the person running it (stdout). */
  readonly say: (line: string) => void;
  /** Continue from the checkpoints an interrupted run with the same spec and destination left (`--resume`). */
  readonly resume?: boolean;
}

export type Metrics = Readonly<Record<string, unknown>>;

export interface JobEntry<O = any> {
  readonly kind: string;
  readonly description: string;
  readonly options: z.ZodObject;
  /** Systems the job can drive. */
  readonly systems: readonly string[];
  run(context: JobContext<O>): Promise<Metrics>;
}
