/**
 * An interrupted sweep continues with --resume without losing or rerunning a finished trial; --retry-failed
 * reruns the failed trials and only those. The controller is the real CLI, killed with SIGKILL (with its
 * trial) as when its machine goes down.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedExecutor } from '../../../src/app/sweep/embedded-executor.js';
import { validateSweep, type LoadedSweep } from '../../../src/app/sweep/load-sweep.js';
import { openSweepFolder, runSweep } from '../../../src/app/sweep/run-sweep.js';
import { cliPath } from '../../../src/app/sweep/run-trial.js';
import { readTrialsLog } from '../../../src/app/sweep/trials-log.js';
import { tempDir, waitFor } from './harness.js';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');

function logLines(dir: string): { id: string; status: string }[] {
  const file = path.join(dir, 'trials.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; status: string });
}

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('resuming sweeps', () => {
  it('--resume after the controller was killed: finished trials are kept, the rest run, nothing is lost or run twice', async () => {
    const dir = tempDir('resume');
    const sweepFile = path.join(dir, '..', `${path.basename(dir)}.sweep.json`);
    fs.writeFileSync(sweepFile, JSON.stringify({ name: 'resume', base: path.join(fixtures, 'tiny-ep.json'), parameters: { 'job.epochs': { values: [2] } }, seeds: [31, 32, 33], metric: { name: 'test_accuracy', goal: 'maximize' } }));
    const out = path.join(dir, 'sweep');
    const child = spawn(process.execPath, [cliPath(), 'sweep', sweepFile, '--out', out, '--workers', '1', '--quiet'], { stdio: 'ignore', detached: true });
    await waitFor('the first finished trial', () => logLines(out).length >= 1, 300_000);
    process.kill(-child.pid!, 'SIGKILL');
    const before = logLines(out);
    expect(before.length).toBeLessThan(3);
    const again = await runCli(['sweep', sweepFile, '--out', out]);
    expect(again.output).toContain('already holds a sweep; pass --resume');
    expect(again.code).toBe(2);
    const resumed = await runCli(['sweep', sweepFile, '--out', out, '--workers', '1', '--resume', '--quiet']);
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain(`resuming: ${before.length} of 3 trials already finished`);
    const after = logLines(out);
    expect(after.length).toBe(3);
    expect(new Set(after.map((l) => l.id)).size).toBe(3);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.every((l) => l.status === 'completed')).toBe(true);
  }, 600_000);

  it('--retry-failed reruns the failed trials and only those', async () => {
    const loaded = {
      ...validateSweep(
        {
          name: 'failing',
          base: 'tiny-ep.json',
          parameters: { data: { values: [{ name: 'mnist-embedded' }, { name: 'idx-folder', dataDir: '/nonexistent-neurodyn-data' }] }, 'job.epochs': { values: [1] } },
          seeds: [41],
          metric: { name: 'test_accuracy', goal: 'maximize' },
        },
        fixtures,
      ),
      file: 'inline',
    } as LoadedSweep;
    const dir = tempDir('retry');
    const run = async (retryFailed: boolean) => {
      const folder = openSweepFolder(loaded, dir, retryFailed);
      return runSweep(loaded, folder, (emit) => embeddedExecutor(folder, 2, emit), { out: folder, resume: retryFailed, retryFailed, quiet: true, say: () => {} });
    };
    const first = await run(false);
    expect(first.summary.trials).toEqual({ planned: 2, completed: 1, stopped: 0, failed: 1 });
    const failed = readTrialsLog(path.join(dir, 'trials.jsonl')).find((r) => r.status === 'failed')!;
    expect(failed.error).toMatch(/neurodyn: error: .*nonexistent-neurodyn-data/);
    await run(true);
    const lines = logLines(dir);
    expect(lines.length).toBe(3);
    expect(lines.filter((l) => l.id === failed.id).length).toBe(2);
    expect(lines.filter((l) => l.status === 'completed').length).toBe(1);
  }, 600_000);
});
