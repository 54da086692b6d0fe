/**
 * Early stopping end to end: the controller's decision reaches the trial's process and ends it, and the
 * trial is recorded as stopped with the epochs it had. Constructed so the answer is known: one worker runs
 * a learning configuration to the end first; then a configuration whose learning rates are 10⁻⁶ (it stays
 * at chance) reports its first epoch, falls below the median (here: the one other trial's running average)
 * and is stopped long before its 400 epochs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedExecutor } from '../../../src/app/sweep/embedded-executor.js';
import { validateSweep, type LoadedSweep } from '../../../src/app/sweep/load-sweep.js';
import { openSweepFolder, runSweep } from '../../../src/app/sweep/run-sweep.js';
import { readTrialsLog } from '../../../src/app/sweep/trials-log.js';
import { tempDir } from './harness.js';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
const baseJob = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-ep.json'), 'utf8')).job as { optimizer: Record<string, unknown> };
const BAD_EPOCHS = 400;

describe('early stopping in a running sweep', () => {
  it('the median rule stops the trial that does not learn, and only it', async () => {
    const loaded = {
      ...validateSweep(
        {
          name: 'median',
          base: 'tiny-ep.json',
          // The whole job per trial, so the trial that does not learn can have far more epochs than the one that
          // does: the stop must arrive before it ends on its own, and on a loaded machine 12 quick epochs
          // could finish before the controller's next poll (a race this test lost under load).
          parameters: { job: { values: [{ ...baseJob, optimizer: { ...baseJob.optimizer, lr: [0.05, 0.02] }, epochs: 12 }, { ...baseJob, optimizer: { ...baseJob.optimizer, lr: [1e-6, 1e-6] }, epochs: BAD_EPOCHS }] } },
          seeds: [0],
          metric: { name: 'test_accuracy', goal: 'maximize' },
          earlyStopping: { kind: 'median', gracePeriod: 1, minTrials: 1 },
        },
        fixtures,
      ),
      file: 'inline',
    } as LoadedSweep;
    const dir = openSweepFolder(loaded, tempDir('median'), false);
    const result = await runSweep(loaded, dir, (emit) => embeddedExecutor(dir, 1, emit), { out: dir, resume: false, retryFailed: false, quiet: true, say: () => {} });
    expect(result.summary.trials).toEqual({ planned: 2, completed: 1, stopped: 1, failed: 0 });
    const [good, bad] = loaded.trials.map((t) => readTrialsLog(path.join(dir, 'trials.jsonl')).find((r) => r.id === t.id)!);
    expect(good!.status).toBe('completed');
    expect(good!.history.length).toBe(12);
    expect(bad!.status).toBe('stopped');
    expect(bad!.history.length).toBeGreaterThanOrEqual(1);
    expect(bad!.history.length).toBeLessThan(BAD_EPOCHS);
    // It was below the good trial's running average at the epoch it was judged on.
    const e = bad!.history[0]!.epoch;
    const goodAverage = good!.history.filter((h) => h.epoch <= e).reduce((s, h) => s + h.value, 0) / e;
    expect(bad!.history[0]!.value).toBeLessThan(goodAverage);
    expect(fs.existsSync(path.join(dir, 'trials', bad!.id, 'stopped.json'))).toBe(true);
    expect((result.summary.best?.config.job as { optimizer: { lr: number[] } }).optimizer.lr).toEqual([0.05, 0.02]);
  }, 600_000);
});
