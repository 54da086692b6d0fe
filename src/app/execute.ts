/**
 * `neurodyn run`: from a validated spec to a committed run folder. Everything that can be checked is
 * checked before the folder is opened (spec, backend, data); the folder is renamed into place only after
 * the job succeeded, so a failure leaves nothing behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../base/errors.js';
import { checkpointDirFor, latestCheckpointedDestination } from '../runs/checkpoints.js';
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
  /** Continue an interrupted training from its checkpoints (jobs that write them); without `out`, the newest checkpointed run of this spec under runs/. */
  readonly resume?: boolean;
  /** The command that ran this (`neurodyn run sims/x.json`): an interrupted run prints it with `--resume --out`. */
  readonly command?: string;
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
  const folder = openRunFolder(destinationOf(spec, overrides));
  const tensorsBefore = liveTensorCount();
  const start = performance.now();
  const interrupted = (signal: NodeJS.Signals) => {
    folder.abort();
    const kept = fs.existsSync(checkpointDirFor(folder.destination));
    const again = `${overrides.command ?? 'neurodyn run <spec>'} --resume --out ${path.relative(process.cwd(), folder.destination) || '.'}`;
    process.stderr.write(`\nneurodyn: interrupted (${signal}); ${kept ? `the checkpoints are kept: continue with\n  ${again}` : 'no checkpoint was written yet, so nothing is kept'}\n`);
    process.exit(130);
  };
  // Ctrl-C only: SIGTERM (a sweep stopping a trial, a scheduler) keeps its immediate default. Node runs this
  // handler between batches (training yields there), not inside one synchronous relaxation.
  process.once('SIGINT', interrupted);
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
  } finally {
    process.removeListener('SIGINT', interrupted);
  }
}

/** --out, or with --resume alone the newest checkpointed run of this spec, or runs/<name>-<time>. */
function destinationOf(spec: ResolvedSpec, overrides: RunOverrides): string {
  if (overrides.out !== undefined) return overrides.out;
  if (!overrides.resume) return path.join('runs', `${spec.name}-${timestamp()}`);
  const found = latestCheckpointedDestination('runs', spec.name);
  if (!found) throw new SpecError('--resume', `no checkpoints of ${JSON.stringify(spec.name)} under runs/ (looked for runs/.${spec.name}-<time>.checkpoint); pass the --out of the interrupted run, or run without --resume`);
  (overrides.say ?? ((line: string) => process.stdout.write(`${line}\n`)))(`resuming ${found} (the newest checkpointed run of ${spec.name})`);
  return found;
}
