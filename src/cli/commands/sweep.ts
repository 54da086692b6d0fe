import os from 'node:os';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { embeddedExecutor } from '../../app/sweep/embedded-executor.js';
import { loadSweepFile } from '../../app/sweep/load-sweep.js';
import { queueExecutor } from '../../app/sweep/queue-executor.js';
import { parseRedisUrl } from '../../app/sweep/redis.js';
import { openSweepFolder, runSweep } from '../../app/sweep/run-sweep.js';

export interface SweepOptions {
  readonly out?: string;
  readonly workers?: string;
  readonly queue?: string;
  readonly resume?: boolean;
  readonly retryFailed?: boolean;
  readonly redisTimeout?: string;
  readonly quiet?: boolean;
}

function positiveInt(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new SpecError(option, `must be a positive integer; got ${JSON.stringify(text)}`);
  return Number(text);
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
}

export async function sweepCommand(file: string, options: SweepOptions): Promise<void> {
  const loaded = loadSweepFile(file);
  const workers = positiveInt(options.workers, '--workers');
  const redisTimeout = positiveInt(options.redisTimeout, '--redis-timeout') ?? 600;
  const resume = (options.resume ?? false) || (options.retryFailed ?? false);
  if (resume && !options.out) throw new SpecError('--resume', 'pass the --out of the sweep to continue');
  const connection = options.queue !== undefined ? parseRedisUrl(options.queue) : undefined;
  const dir = openSweepFolder(loaded, options.out ?? path.join('sweeps', `${loaded.sweep.name}-${timestamp()}`), resume);
  const mode = connection ? `queue ${connection.display}${workers ? `, at most ${workers} trials in flight` : ''}` : `${workers ?? os.availableParallelism()} local worker(s)`;
  process.stdout.write(`sweep ${loaded.sweep.name}: ${loaded.trials.length} trials (${loaded.sweep.method}, sampler seed ${loaded.sweep.seed}) on ${mode}; folder ${path.relative(process.cwd(), dir) || '.'}/\n`);
  const resumeHint = `neurodyn sweep ${file} --out ${dir}${connection ? ` --queue ${connection.display}` : ''} --resume`;
  const result = await runSweep(
    loaded,
    dir,
    (emit) =>
      connection
        ? queueExecutor(connection, { sweepDir: dir, ...(workers ? { maxInFlight: workers } : {}), retryFailed: options.retryFailed ?? false, redisTimeoutSeconds: redisTimeout, resumeHint }, emit)
        : embeddedExecutor(dir, workers ?? os.availableParallelism(), emit),
    { out: dir, resume, retryFailed: options.retryFailed ?? false, quiet: options.quiet ?? false },
  );
  process.stdout.write(`\n${result.table}`);
  process.stdout.write(`sweep folder ${path.relative(process.cwd(), dir) || '.'}/ (${result.seconds.toFixed(1)} s): trials.jsonl, summary.md, summary.json, <metric>-vs-<parameter>.svg, trials/<id>/\n`);
  if (result.summary.trials.failed > 0) process.stdout.write(`${result.summary.trials.failed} trial(s) failed (see trials.jsonl); rerun only those with --retry-failed --out ${dir}\n`);
}
