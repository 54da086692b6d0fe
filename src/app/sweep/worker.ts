/**
 * `neurodyn worker`: pulls trials from the queue and runs each as a child process (run-trial.ts), so the
 * worker's own event loop only waits and keeps renewing its job locks however long a trial computes. A
 * worker that dies leaves its jobs locked until the lock expires; BullMQ then hands them to another worker
 * (at-least-once delivery), which resumes the trial from its checkpoints in the shared sweep folder.
 *
 * On SIGINT/SIGTERM (Ctrl-C, a pod or Slurm job being ended) it ends its trials' processes, keeping their
 * checkpoints, and leaves without reporting them (the command exits the process), so they are re-delivered and resumed elsewhere.
 */
import os from 'node:os';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ioredisOptions, QUEUE_NAME, stopKey, type RedisConnection } from './redis.js';
import type { TrialJobData } from './queue-executor.js';
import { runTrial, type TrialOutcome } from './run-trial.js';

export interface WorkerOptions {
  /** Trials run at once (default: the number of cores). */
  readonly concurrency?: number;
  /** Job lock: a dead worker's trial is re-delivered after about twice this. */
  readonly lockSeconds?: number;
  readonly say: (line: string) => void;
}

const STOP_CHECK_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

export async function runWorker(connection: RedisConnection, options: WorkerOptions): Promise<void> {
  const lockMs = (options.lockSeconds ?? 30) * 1000;
  const concurrency = options.concurrency ?? os.availableParallelism();
  const redis = new Redis(ioredisOptions(connection, true));
  redis.on('error', () => {});
  const interrupt = new AbortController();
  const host = os.hostname();
  let lostSince: number | undefined;

  const process_ = async (job: Job<TrialJobData>): Promise<TrialOutcome> => {
    const { id, spec, sweepDir } = job.data;
    let lastAsked = 0;
    options.say(`worker ${host}/${process.pid}: trial ${id} (${spec.name}, seed ${spec.seed}) started${job.attemptsStarted > 1 ? `, delivery ${job.attemptsStarted}` : ''}`);
    const outcome = await runTrial(
      { id, spec, sweepDir },
      {
        onRecords: (records) => void job.updateProgress({ records }).catch(() => {}),
        shouldStop: async () => {
          // Stop decisions follow epochs, so asking Redis every few seconds is enough and keeps its load per running trial small.
          if (Date.now() - lastAsked < STOP_CHECK_MS) return false;
          lastAsked = Date.now();
          return (await withTimeout(redis.get(stopKey(id)), 1000).catch(() => undefined)) === '1';
        },
        signal: interrupt.signal,
      },
    );
    if (interrupt.signal.aborted) return new Promise<TrialOutcome>(() => {});
    options.say(`worker ${host}/${process.pid}: trial ${id} ${outcome.status}${outcome.resumed ? ' (resumed from its checkpoints)' : ''}${outcome.reused ? ' (already finished: read back)' : ''} in ${outcome.wallSeconds.toFixed(1)} s${outcome.error ? `: ${outcome.error}` : ''}`);
    if (outcome.status === 'failed') throw new Error(outcome.error ?? 'the trial failed');
    return outcome;
  };

  const worker = new Worker<TrialJobData, TrialOutcome>(QUEUE_NAME, process_, {
    connection: ioredisOptions(connection, true),
    concurrency,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A trial is re-delivered each time a worker dies under it; only a trial that keeps killing its workers fails.
    maxStalledCount: 10,
  });
  worker.on('error', (e) => {
    if (lostSince === undefined) {
      lostSince = Date.now();
      options.say(`worker ${host}/${process.pid}: error: lost the connection to Redis at ${connection.display} (${e.message}); trials in progress keep running; reconnecting`);
    }
  });
  worker.on('ready', () => {
    if (lostSince !== undefined) options.say(`worker ${host}/${process.pid}: Redis at ${connection.display} is back`);
    lostSince = undefined;
  });
  options.say(`worker ${host}/${process.pid}: pulling trials from ${connection.display} (${concurrency} at a time)`);
  await new Promise<void>((resolve) => {
    const end = () => {
      options.say(`worker ${host}/${process.pid}: ending; its trials keep their checkpoints and will be resumed by another worker`);
      interrupt.abort();
      resolve();
    };
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
  });
  // Give the trials' processes a moment to end, then leave without reporting their jobs.
  await new Promise((r) => setTimeout(r, 500));
  redis.disconnect();
  // The caller exits the process: closing the BullMQ worker would wait for (or report) the jobs it holds.
}
