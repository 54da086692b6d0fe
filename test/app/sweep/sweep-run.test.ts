/**
 * Sweeps end to end with real trial processes, a real redis-server and real `neurodyn worker`s. The trials
 * are tiny EP trainings (3 epochs on 200 digits: a few seconds each, most of it Node start-up), so on this
 * shared 2-core machine a test takes one to a few minutes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedExecutor } from '../../../src/app/sweep/embedded-executor.js';
import { loadSweepFile, validateSweep, type LoadedSweep } from '../../../src/app/sweep/load-sweep.js';
import { queueExecutor } from '../../../src/app/sweep/queue-executor.js';
import { parseRedisUrl } from '../../../src/app/sweep/redis.js';
import { openSweepFolder, runSweep, type SweepResult } from '../../../src/app/sweep/run-sweep.js';
import { checkpointedRecords, trialDir } from '../../../src/app/sweep/run-trial.js';
import { readTrialsLog, type TrialRecord } from '../../../src/app/sweep/trials-log.js';
import { startRedis, startWorker, tempDir, waitFor, type RedisServer, type WorkerProcess } from './harness.js';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
const gridFile = path.join(fixtures, 'tiny-grid.sweep.json');

interface Mode {
  readonly queue?: string;
  readonly workers?: number;
  readonly resume?: boolean;
  readonly retryFailed?: boolean;
  readonly redisTimeoutSeconds?: number;
}

async function sweep(loaded: LoadedSweep, out: string, mode: Mode, lines: string[] = []): Promise<SweepResult> {
  const resume = (mode.resume ?? false) || (mode.retryFailed ?? false);
  const dir = openSweepFolder(loaded, out, resume);
  return runSweep(
    loaded,
    dir,
    (emit) =>
      mode.queue
        ? queueExecutor(parseRedisUrl(mode.queue), { sweepDir: dir, retryFailed: mode.retryFailed ?? false, redisTimeoutSeconds: mode.redisTimeoutSeconds ?? 300, resumeHint: 'neurodyn sweep ... --resume', pollMs: 250 }, emit)
        : embeddedExecutor(dir, mode.workers ?? 2, emit),
    { out: dir, resume, retryFailed: mode.retryFailed ?? false, quiet: true, say: (l) => lines.push(l) },
  );
}

/** What must not depend on how a trial was run: its final metric and every per-epoch number but time and memory. */
function numbers(records: readonly TrialRecord[], dir: string) {
  return Object.fromEntries(
    [...records]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((r) => {
        const lines = fs.readFileSync(path.join(dir, r.folder, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
        return [r.id, { status: r.status, metric: r.metric, epochs: lines.map((l) => [l.epoch, l.train_accuracy, l.test_accuracy, l.cost]) }];
      }),
  );
}

function startedCount(workers: readonly WorkerProcess[], id: string): number {
  return workers.reduce((n, w) => n + w.output().split('\n').filter((l) => l.includes(`trial ${id}`) && l.includes('started')).length, 0);
}

describe('sweeps, embedded and on BullMQ', () => {
  let redis: RedisServer;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.killHard()));
    await redis?.stop();
  });

  it('a 2×3-seed grid gives the same results embedded and through Redis; two controllers enqueuing it at once run each trial once', async () => {
    const loaded = loadSweepFile(gridFile);
    const embeddedDir = tempDir('embedded');
    const embedded = await sweep(loaded, embeddedDir, { workers: 2 });
    expect(embedded.summary.trials).toEqual({ planned: 6, completed: 6, stopped: 0, failed: 0 });

    workers.push(startWorker(redis.url), startWorker(redis.url));
    const [dirB, dirC] = [tempDir('queue-b'), tempDir('queue-c')];
    const [b, c] = await Promise.all([sweep(loaded, dirB, { queue: redis.url }), sweep(loaded, dirC, { queue: redis.url })]);
    for (const r of [b, c]) expect(r.summary.trials).toEqual({ planned: 6, completed: 6, stopped: 0, failed: 0 });

    // Each trial ran once across both controllers: one worker start per id, one run folder per id over both folders.
    for (const t of loaded.trials) expect(startedCount(workers, t.id)).toBe(1);
    // The jobs carry the folder of whichever controller added them first, so the run folders may be in either.
    const folders = [dirB, dirC].flatMap((d) => (fs.existsSync(path.join(d, 'trials')) ? fs.readdirSync(path.join(d, 'trials')) : [])).filter((f) => !f.startsWith('.'));
    expect(folders.sort()).toEqual(loaded.trials.map((t) => t.id).sort());

    // The same numbers whichever way they ran (the run folders live where the first controller's jobs said).
    const where = (id: string) => (fs.existsSync(path.join(dirB, 'trials', id)) ? dirB : dirC);
    const queued = Object.assign({}, ...readTrialsLog(path.join(dirB, 'trials.jsonl')).map((r) => numbers([r], where(r.id))));
    expect(queued).toEqual(numbers(readTrialsLog(path.join(embeddedDir, 'trials.jsonl')), embeddedDir));
    expect(b.summary.configurations).toEqual(embedded.summary.configurations.map((cfg) => ({ ...cfg, meanSeconds: expect.any(Number) })));
    expect(c.summary.best?.config).toEqual(embedded.summary.best?.config);
    // The summary's table and plot exist and show the configurations.
    expect(fs.readFileSync(path.join(embeddedDir, 'summary.md'), 'utf8')).toMatch(/\| 1 \| 0\.2 \| 0 1 2 \| 0\.\d{4} ± 0\.\d{4} \|/);
    expect(fs.readFileSync(path.join(embeddedDir, 'test_accuracy-vs-job.optimizer.lr_0_.svg'), 'utf8')).toContain('<circle');
  }, 900_000);

  it('a worker killed (SIGKILL) mid-trial: the trial finishes on another worker, resumed from its checkpoint, with the numbers of an uninterrupted run', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const base = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-ep.json'), 'utf8')) as { job: Record<string, unknown> };
    const loaded = validateSweep({ name: 'kill', base: { ...base, job: { ...base.job, epochs: 6 } }, parameters: {}, seeds: [11], metric: { name: 'test_accuracy', goal: 'maximize' } }, fixtures) as LoadedSweep;
    const reference = tempDir('reference');
    await sweep({ ...loaded, file: 'inline' }, reference, { workers: 1 });

    const first = startWorker(redis.url);
    workers.push(first);
    const dir = tempDir('killed');
    const id = loaded.trials[0]!.id;
    const running = sweep({ ...loaded, file: 'inline' }, dir, { queue: redis.url });
    await waitFor('two checkpointed epochs', () => checkpointedRecords(trialDir(dir, id)).length >= 2, 300_000);
    await first.killHard();
    const second = startWorker(redis.url);
    workers.push(second);
    const result = await running;
    expect(result.summary.trials.completed).toBe(1);
    const [record] = readTrialsLog(path.join(dir, 'trials.jsonl'));
    expect(record!.resumed).toBe(true);
    expect(second.output()).toMatch(new RegExp(`trial ${id} completed \\(resumed from its checkpoints\\)`));
    expect(numbers([record!], dir)).toEqual(numbers(readTrialsLog(path.join(reference, 'trials.jsonl')), reference));
  }, 900_000);

  it('Redis going away mid-sweep: a clear error, then the sweep carries on when it is back, with every trial result', async () => {
    const loaded = validateSweep({ name: 'outage', base: 'tiny-ep.json', parameters: { 'job.beta': { values: [0.5, 1] } }, seeds: [21], metric: { name: 'test_accuracy', goal: 'maximize' } }, fixtures) as LoadedSweep;
    const dir = tempDir('outage');
    const lines: string[] = [];
    const running = sweep({ ...loaded, file: 'inline' }, dir, { queue: redis.url }, lines);
    await waitFor('the first epoch of a trial', () => lines.some((l) => / epoch 1 /.test(l)), 300_000);
    await redis.kill();
    await waitFor('the lost-connection message', () => lines.some((l) => l.includes('lost the connection to Redis')), 60_000);
    const message = lines.find((l) => l.includes('lost the connection to Redis'))!;
    expect(message).toMatch(new RegExp(`error: lost the connection to Redis at redis://127\\.0\\.0\\.1:${redis.port} .*every finished trial is in trials\\.jsonl; waiting up to 300 s`));
    await new Promise((r) => setTimeout(r, 3000));
    await redis.start();
    const result = await running;
    expect(lines.some((l) => l.includes('answers again'))).toBe(true);
    expect(result.summary.trials).toEqual({ planned: 2, completed: 2, stopped: 0, failed: 0 });
    expect(readTrialsLog(path.join(dir, 'trials.jsonl')).map((r) => r.id).sort()).toEqual(loaded.trials.map((t) => t.id).sort());
  }, 900_000);
});
