/**
 * `neurodyn run`: from a validated spec to a committed run folder. Everything that can be checked is
 * checked before the folder is opened (spec, backend, data); the folder is renamed into place only after
 * the job succeeded, so a failure leaves nothing behind.
 */
import path from 'node:path';
import { makeRng } from '../base/rng.js';
import { loadDataset } from '../data/index.js';
import { jobs, systems } from '../families/index.js';
import { validateSpec } from '../spec/parse.js';
import type { ResolvedSpec } from '../spec/schema.js';
import { liveTensorCount, useBackend } from '../tensor/index.js';
import { createProgress } from '../runs/progress.js';
import { openRunFolder } from '../runs/run-folder.js';

export interface RunOverrides {
  readonly backend?: string;
  readonly seed?: number;
  readonly dataDir?: string;
  /** Run folder; default runs/<name>-<UTC time>. */
  readonly out?: string;
  /** No progress output. */
  readonly quiet?: boolean;
  /** Where result lines go (default stdout). */
  readonly say?: (line: string) => void;
  /** Continue an interrupted training from its checkpoints (jobs that write them). */
  readonly resume?: boolean;
}

export interface Summary {
  readonly spec: string;
  readonly backend: string;
  readonly seed: number;
  readonly seconds: number;
  readonly metrics: Readonly<Record<string, unknown>>;
}

export interface RunResult {
  readonly folder: string;
  readonly summary: Summary;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
}

/** Applies command-line overrides and re-validates, so an override is checked like the spec itself. */
export function applyOverrides(spec: ResolvedSpec, overrides: RunOverrides): ResolvedSpec {
  return validateSpec({
    ...spec,
    ...(overrides.backend !== undefined ? { backend: overrides.backend } : {}),
    ...(overrides.seed !== undefined ? { seed: overrides.seed } : {}),
    ...(overrides.dataDir !== undefined ? { data: { ...spec.data, dataDir: overrides.dataDir } } : {}),
  });
}

export async function executeRun(specIn: ResolvedSpec, overrides: RunOverrides = {}): Promise<RunResult> {
  const spec = applyOverrides(specIn, overrides);
  const say = overrides.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const backend = await useBackend(spec.backend, overrides.backend !== undefined ? '--backend' : 'backend');
  const system = systems.get(spec.system.kind, 'system.kind');
  const job = jobs.get(spec.job.kind, 'job.kind');
  const { kind: _kind, ...jobOptions } = spec.job;
  const data = loadDataset(spec.data.name, spec.data.dataDir !== undefined ? { dataDir: spec.data.dataDir } : {});
  const folder = openRunFolder(overrides.out ?? path.join('runs', `${spec.name}-${timestamp()}`));
  const tensorsBefore = liveTensorCount();
  const start = performance.now();
  try {
    folder.writeJson('spec.json', spec);
    const metrics = await job.run({
      spec,
      options: jobOptions,
      system,
      data,
      rng: makeRng(spec.seed),
      folder,
      progress: (label, total) => createProgress({ label, total, quiet: overrides.quiet ?? false }),
      say,
      resume: overrides.resume ?? false,
    });
    const summary: Summary = { spec: spec.name, backend, seed: spec.seed, seconds: Number(((performance.now() - start) / 1000).toFixed(3)), metrics };
    folder.writeJson('summary.json', summary);
    const leaked = liveTensorCount() - tensorsBefore;
    if (leaked !== 0) throw new Error(`internal error: job ${job.kind} left ${leaked} tensors allocated`);
    folder.commit();
    return { folder: folder.destination, summary };
  } catch (e) {
    folder.abort();
    throw e;
  }
}
