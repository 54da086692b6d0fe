/**
 * One trial, run the way a user would run it: `node dist/src/cli/main.js run <spec> --out <trial folder>`
 * in a child process, so a CPU-bound relaxation never blocks the process that schedules it (the sweep's
 * event loop, or a BullMQ worker renewing its job lock). This is the processor both modes share.
 *
 * Idempotent and resumable: a trial whose run folder is complete is not run again (its summary is read
 * back); a trial that an earlier process left checkpoints for continues from them with `--resume`. Before
 * starting, it ends any process on this host still running the same trial (a worker that was killed
 * leaves its child behind), so two processes never write one trial's checkpoints.
 *
 * While it runs, the per-epoch records are read from the trial's checkpoints (the jobs that train write
 * their history there after every epoch) and passed to `onRecords`; `shouldStop` is asked at the same
 * times and a yes ends the child: the trial is then "stopped" and its folder holds `stopped.json` and the
 * records so far in `metrics.jsonl`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NeurodynError } from '../../base/errors.js';
import { writeFileAtomic } from '../../runs/atomic-write.js';
import { checkpointDirFor } from '../../runs/checkpoints.js';
import { isRunning } from '../../runs/run-folder.js';
import type { ResolvedSpec } from '../../spec/schema.js';

export type EpochRecord = Readonly<Record<string, unknown>>;

export interface TrialTask {
  readonly id: string;
  readonly spec: ResolvedSpec;
  /** The sweep folder (absolute); the trial runs in `<sweepDir>/trials/<id>`. */
  readonly sweepDir: string;
}

export interface TrialOutcome {
  readonly id: string;
  readonly status: 'completed' | 'stopped' | 'failed';
  /** summary.json's metrics, for a completed trial. */
  readonly metrics?: Readonly<Record<string, unknown>>;
  /** Per-epoch records (metrics.jsonl lines, or the checkpointed history of a stopped trial). */
  readonly records: readonly EpochRecord[];
  /** Seconds of the run as `neurodyn run` measured it (completed), else wall seconds of this attempt. */
  readonly seconds: number;
  /** Wall seconds this call took, child start-up included. */
  readonly wallSeconds: number;
  /** Whether this attempt continued from checkpoints, or found the trial already complete. */
  readonly resumed: boolean;
  readonly reused: boolean;
  readonly host: string;
  readonly error?: string;
}

export interface TrialHooks {
  onRecords?(records: readonly EpochRecord[]): void;
  shouldStop?(): boolean | Promise<boolean>;
  /** Ends the child without marking the trial stopped: its checkpoints stay for a resume. */
  readonly signal?: AbortSignal;
  /** How often the checkpoints and shouldStop are polled (default 500 ms). */
  readonly pollMs?: number;
}

export const trialDir = (sweepDir: string, id: string) => path.join(sweepDir, 'trials', id);
export const trialSpecFile = (sweepDir: string, id: string) => path.join(sweepDir, 'specs', `${id}.json`);
const ownerFile = (sweepDir: string, id: string) => path.join(sweepDir, 'trials', `.${id}.owner.json`);

/** The built CLI (`dist/src/cli/main.js` of this package); NEURODYN_CLI overrides it. */
export function cliPath(): string {
  if (process.env.NEURODYN_CLI) return process.env.NEURODYN_CLI;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // From dist/src/app/sweep the nearest package.json is the package root; from src/ (tests) too.
  const cli = path.join(dir, 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(cli)) throw new NeurodynError(`trials run the built CLI, and ${cli} does not exist; build it first (npm run build)`);
  return cli;
}

function readJsonl(file: string): EpochRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EpochRecord);
}

/** The per-epoch history the trial's checkpoints hold now (every label's, in label order). */
export function checkpointedRecords(dir: string): EpochRecord[] {
  const ckpt = checkpointDirFor(dir);
  if (!fs.existsSync(ckpt)) return [];
  const records: EpochRecord[] = [];
  for (const label of fs.readdirSync(ckpt).sort()) {
    try {
      const latest = path.join(ckpt, label, 'latest.json');
      if (!fs.existsSync(latest)) continue;
      const { folder } = JSON.parse(fs.readFileSync(latest, 'utf8')) as { folder: string };
      const saved = JSON.parse(fs.readFileSync(path.join(ckpt, label, folder, 'record.json'), 'utf8')) as { record?: { history?: EpochRecord[] } };
      records.push(...(saved.record?.history ?? []));
    } catch {
      // A checkpoint being replaced right now: read it at the next poll.
    }
  }
  return records;
}

async function endOrphan(file: string): Promise<void> {
  if (!fs.existsSync(file)) return;
  let owner: { host?: string; pid?: number };
  try {
    owner = JSON.parse(fs.readFileSync(file, 'utf8')) as { host?: string; pid?: number };
  } catch {
    return;
  }
  if (owner.host !== os.hostname() || typeof owner.pid !== 'number' || owner.pid === process.pid || !isRunning(owner.pid)) return;
  process.kill(owner.pid, 'SIGKILL');
  for (let i = 0; i < 100 && isRunning(owner.pid); i++) await new Promise((r) => setTimeout(r, 50));
}

function completedOutcome(task: TrialTask, dir: string, start: number, resumed: boolean, reused: boolean): TrialOutcome {
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { seconds: number; metrics: Record<string, unknown> };
  return {
    id: task.id,
    status: 'completed',
    metrics: summary.metrics,
    records: readJsonl(path.join(dir, 'metrics.jsonl')),
    seconds: summary.seconds,
    wallSeconds: (performance.now() - start) / 1000,
    resumed,
    reused,
    host: os.hostname(),
  };
}

export async function runTrial(task: TrialTask, hooks: TrialHooks = {}): Promise<TrialOutcome> {
  const start = performance.now();
  const dir = trialDir(task.sweepDir, task.id);
  if (fs.existsSync(path.join(dir, 'summary.json'))) return completedOutcome(task, dir, start, false, true);
  if (fs.existsSync(path.join(dir, 'stopped.json'))) {
    const stopped = JSON.parse(fs.readFileSync(path.join(dir, 'stopped.json'), 'utf8')) as { seconds: number };
    return { id: task.id, status: 'stopped', records: readJsonl(path.join(dir, 'metrics.jsonl')), seconds: stopped.seconds, wallSeconds: 0, resumed: false, reused: true, host: os.hostname() };
  }
  const cli = cliPath();
  const specFile = trialSpecFile(task.sweepDir, task.id);
  fs.mkdirSync(path.dirname(specFile), { recursive: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const specText = `${JSON.stringify(task.spec, null, 2)}\n`;
  if (!fs.existsSync(specFile) || fs.readFileSync(specFile, 'utf8') !== specText) writeFileAtomic(specFile, specText);
  const owner = ownerFile(task.sweepDir, task.id);
  await endOrphan(owner);
  const resumed = fs.existsSync(path.join(checkpointDirFor(dir), 'spec.json'));
  const child = spawn(process.execPath, [cli, 'run', specFile, '--out', dir, '--quiet', ...(resumed ? ['--resume'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileAtomic(owner, JSON.stringify({ host: os.hostname(), pid: child.pid, trial: task.id }));
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const abort = () => child.kill('SIGTERM');
  hooks.signal?.addEventListener('abort', abort, { once: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  let stopRequested = false;
  let seen = 0;
  let lastRecords: EpochRecord[] = [];
  let finished = false;
  const poll = async () => {
    const records = checkpointedRecords(dir);
    if (records.length > seen) {
      seen = records.length;
      lastRecords = records;
      hooks.onRecords?.(records);
    }
    if (!stopRequested && hooks.shouldStop && (await hooks.shouldStop())) {
      stopRequested = true;
      child.kill('SIGTERM');
    }
  };
  const poller = (async () => {
    while (!finished) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, hooks.pollMs ?? 500))]);
      if (!finished) await poll().catch(() => {});
    }
  })();
  const { code, signal } = await exited;
  finished = true;
  hooks.signal?.removeEventListener('abort', abort);
  await poller;
  fs.rmSync(owner, { force: true });
  if (code === 0 && fs.existsSync(path.join(dir, 'summary.json'))) {
    const outcome = completedOutcome(task, dir, start, resumed, false);
    if (outcome.records.length > seen) hooks.onRecords?.(outcome.records);
    return outcome;
  }
  const wallSeconds = (performance.now() - start) / 1000;
  if (stopRequested) {
    const records = checkpointedRecords(dir).length >= lastRecords.length ? checkpointedRecords(dir) : lastRecords;
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(path.join(dir, 'metrics.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    writeFileAtomic(path.join(dir, 'stopped.json'), `${JSON.stringify({ status: 'stopped', epochs: records.length, seconds: Number(wallSeconds.toFixed(3)) }, null, 2)}\n`);
    fs.rmSync(checkpointDirFor(dir), { recursive: true, force: true });
    return { id: task.id, status: 'stopped', records, seconds: wallSeconds, wallSeconds, resumed, reused: false, host: os.hostname() };
  }
  if (hooks.signal?.aborted) return { id: task.id, status: 'failed', records: lastRecords, seconds: wallSeconds, wallSeconds, resumed, reused: false, host: os.hostname(), error: 'interrupted (its checkpoints are kept for a resume)' };
  const errorLine = tail
    .split('\n')
    .filter((l) => l.startsWith('neurodyn:'))
    .pop();
  const error = errorLine ?? (signal ? `the trial process was killed by ${signal}` : `the trial process exited with code ${code}: ${tail.trim().split('\n').slice(-3).join(' | ')}`);
  return { id: task.id, status: 'failed', records: lastRecords, seconds: wallSeconds, wallSeconds, resumed, reused: false, host: os.hostname(), error };
}
