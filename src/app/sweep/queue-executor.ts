/**
 * Runs trials through BullMQ: each trial is a job whose id is the trial id, so adding it again (a second
 * controller, a resumed sweep, the same sweep enqueued twice) does nothing and its result is shared. The
 * controller polls the jobs it waits for (one HGETALL each per poll: state, per-epoch progress, result),
 * which needs no event stream and cannot miss anything across a lost connection; a job that Redis has
 * lost is added again, and the trial's run folder answers for it if it had finished. Early stopping is a
 * key (`neurodyn:stop:<id>`) the worker running the trial reads at every poll.
 *
 * While Redis is away, the executor says so once (with what to do), keeps its state, and carries on when
 * Redis answers again; after `redisTimeoutSeconds` without an answer the sweep ends with a QueueError
 * saying how to resume it.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { NeurodynError } from '../../base/errors.js';
import type { Emit, Executor } from './executor.js';
import type { PlannedTrial } from './load-sweep.js';
import { ioredisOptions, QUEUE_NAME, stopKey, type RedisConnection } from './redis.js';
import type { EpochRecord, TrialOutcome } from './run-trial.js';

/** Redis could not be reached for longer than the sweep waits. */
export class QueueError extends NeurodynError {
  override readonly exitCode = 6;
}

export interface QueueExecutorOptions {
  readonly sweepDir: string;
  /** Trials enqueued and not yet finished, at most (default: no limit). */
  readonly maxInFlight?: number;
  /** Remove a failed job before adding its trial again. */
  readonly retryFailed: boolean;
  readonly redisTimeoutSeconds: number;
  readonly pollMs?: number;
  /** How the command resumes this sweep, for the error message. */
  readonly resumeHint: string;
}

export interface TrialJobData {
  readonly id: string;
  readonly spec: PlannedTrial['spec'];
  readonly sweepDir: string;
}

export function queueExecutor(connection: RedisConnection, options: QueueExecutorOptions, emit: Emit): Executor {
  const bullConnection = { ...ioredisOptions(connection, false), maxRetriesPerRequest: 1 };
  const queue = new Queue<TrialJobData>(QUEUE_NAME, { connection: bullConnection });
  const redis = new Redis({ ...ioredisOptions(connection, false), lazyConnect: false });
  queue.on('error', () => {});
  redis.on('error', () => {});
  const toAdd = new Map<string, PlannedTrial>();
  const inFlight = new Map<string, { trial: PlannedTrial; seen: number }>();
  const stopWanted = new Set<string>();
  const stopSent = new Set<string>();
  let downSince: number | undefined;
  let closed = false;
  let wake: (() => void) | undefined;

  const finish = (id: string, outcome: TrialOutcome) => {
    inFlight.delete(id);
    emit({ kind: 'done', outcome });
  };

  const add = async (trial: PlannedTrial) => {
    const existing = await queue.getJob(trial.id);
    if (existing && options.retryFailed && existing.finishedOn && existing.failedReason) await existing.remove();
    await queue.add('trial', { id: trial.id, spec: trial.spec, sweepDir: options.sweepDir }, { jobId: trial.id, attempts: 1, removeOnComplete: false, removeOnFail: false });
  };

  const poll = async () => {
    for (const [id, trial] of toAdd) {
      await add(trial);
      toAdd.delete(id);
      inFlight.set(id, { trial, seen: 0 });
    }
    for (const id of stopWanted) {
      if (stopSent.has(id)) continue;
      await redis.set(stopKey(id), '1', 'EX', 7 * 24 * 3600);
      stopSent.add(id);
    }
    for (const [id, entry] of inFlight) {
      const job = await queue.getJob(id);
      if (!job) {
        // Redis lost it (restarted without persistence): add it again; a finished trial's folder answers at once.
        inFlight.delete(id);
        toAdd.set(id, entry.trial);
        continue;
      }
      const records = (job.progress as { records?: EpochRecord[] } | number | undefined) ?? undefined;
      if (records && typeof records === 'object' && Array.isArray(records.records) && records.records.length > entry.seen) {
        entry.seen = records.records.length;
        emit({ kind: 'records', id, records: records.records });
      }
      if (!job.finishedOn) continue;
      if (job.failedReason) {
        finish(id, { id, status: 'failed', records: [], seconds: 0, wallSeconds: 0, resumed: false, reused: false, host: '', error: job.failedReason });
      } else if (job.returnvalue) {
        finish(id, job.returnvalue as TrialOutcome);
      }
    }
  };

  const loop = (async () => {
    while (!closed) {
      try {
        await poll();
        if (downSince !== undefined) {
          emit({ kind: 'notice', text: `Redis at ${connection.display} answers again after ${((Date.now() - downSince) / 1000).toFixed(0)} s; the sweep continues` });
          downSince = undefined;
        }
      } catch (e) {
        if (closed) break;
        if (downSince === undefined) {
          downSince = Date.now();
          emit({
            kind: 'notice',
            text: `error: lost the connection to Redis at ${connection.display} (${(e as Error).message}); trials already on workers keep running, and every finished trial is in trials.jsonl; waiting up to ${options.redisTimeoutSeconds} s for Redis to come back`,
          });
        } else if (Date.now() - downSince > options.redisTimeoutSeconds * 1000) {
          emit({
            kind: 'fatal',
            error: new QueueError(`Redis at ${connection.display} has not answered for ${options.redisTimeoutSeconds} s (${(e as Error).message}); the sweep stopped waiting. Finished trials are in trials.jsonl and trials on workers keep their checkpoints; when Redis is back, continue with: ${options.resumeHint}`),
          });
          break;
        }
      }
      const interval = Math.max(options.pollMs ?? 1000, inFlight.size / 2);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, interval);
      });
    }
  })();

  return {
    capacity: () => (options.maxInFlight ?? Infinity) - inFlight.size - toAdd.size,
    start(trial: PlannedTrial) {
      toAdd.set(trial.id, trial);
      wake?.();
    },
    stop(id: string) {
      stopWanted.add(id);
    },
    async close() {
      closed = true;
      wake?.();
      await loop;
      await queue.close().catch(() => {});
      redis.disconnect();
    },
  };
}
