/**
 * `neurodyn sweep` end to end: open (or reopen) the sweep folder, loop {controller decides → executor
 * starts and stops trials → their epochs and results come back}, record each finished trial in
 * trials.jsonl, and write the summary, the best configuration and the plots.
 *
 * Sweep folder: `sweep.json` (the sweep as resolved: base spec, sampler seed, every planned trial with
 * its id, configuration and seed), `specs/<id>.json`, `trials/<id>/` (one run folder per trial),
 * `trials.jsonl`, `summary.json`, `summary.md` and `<metric>-vs-<parameter>.svg`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { writeFileAtomic } from '../../runs/atomic-write.js';
import { createProgress, type Progress } from '../../runs/progress.js';
import { decide, type TrialView } from './controller.js';
import type { EpochValue } from './early-stopping.js';
import type { Executor, ExecutorEvent } from './executor.js';
import type { LoadedSweep } from './load-sweep.js';
import { parameterPlot, summarize, summaryTable, type SweepSummary } from './results.js';
import type { EpochRecord, TrialOutcome } from './run-trial.js';
import { canonicalJson } from './trial-id.js';
import { appendTrialRecord, readTrialsLog, type TrialRecord } from './trials-log.js';

export interface SweepRunOptions {
  readonly out: string;
  readonly resume: boolean;
  readonly retryFailed: boolean;
  readonly quiet?: boolean;
  readonly say?: (line: string) => void;
}

export interface SweepResult {
  readonly folder: string;
  readonly summary: SweepSummary;
  readonly table: string;
  readonly seconds: number;
}

/** What identifies a sweep: its resolved definition and planned trials (not its file name or folder). */
function sweepRecord(loaded: LoadedSweep) {
  return {
    name: loaded.sweep.name,
    method: loaded.sweep.method,
    samplerSeed: loaded.sweep.seed,
    parameters: loaded.sweep.parameters,
    seeds: loaded.sweep.seeds,
    metric: loaded.sweep.metric,
    earlyStopping: loaded.sweep.earlyStopping ?? null,
    runCap: loaded.sweep.runCap ?? null,
    base: loaded.base,
    trials: loaded.trials.map((t) => ({ id: t.id, configIndex: t.configIndex, config: t.config, seed: t.seed })),
  };
}

/** Prepares the folder; an existing sweep there is continued only with --resume/--retry-failed, and only if it is this sweep. */
export function openSweepFolder(loaded: LoadedSweep, out: string, resume: boolean): string {
  const dir = path.resolve(out);
  const recordFile = path.join(dir, 'sweep.json');
  const record = sweepRecord(loaded);
  if (fs.existsSync(recordFile)) {
    if (!resume) throw new SpecError('--out', `${dir} already holds a sweep; pass --resume (or --retry-failed) to continue it, or choose another --out`);
    const existing = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as unknown;
    if (canonicalJson(existing) !== canonicalJson(record)) throw new SpecError('--resume', `${recordFile} was written by a different sweep (its parameters, seeds, metric or base spec differ); resume with the sweep file that started it, or choose another --out`);
    return dir;
  }
  if (resume) throw new SpecError('--resume', `no sweep to resume in ${dir} (no sweep.json); run without --resume, or pass the --out of the interrupted sweep`);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new SpecError('--out', `${dir} exists and is not an empty folder or a sweep folder; choose another --out`);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  return dir;
}

function describeConfig(config: Readonly<Record<string, unknown>>, seed: number): string {
  return [...Object.entries(config).map(([k, v]) => `${k}=${JSON.stringify(v)}`), `seed=${seed}`].join(' ');
}

export async function runSweep(loaded: LoadedSweep, dir: string, makeExecutor: (emit: (e: ExecutorEvent) => void) => Executor, options: SweepRunOptions): Promise<SweepResult> {
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const start = performance.now();
  const logFile = path.join(dir, 'trials.jsonl');
  const planned = new Map(loaded.trials.map((t) => [t.id, t]));
  const { sweep } = loaded;
  const esMetric = sweep.earlyStopping?.metric ?? sweep.metric.name;
  const finished = new Map<string, TrialRecord>();
  for (const r of readTrialsLog(logFile)) if (planned.has(r.id) && !(options.retryFailed && r.status === 'failed')) finished.set(r.id, r);
  let seq = Math.max(0, ...[...finished.values()].flatMap((r) => r.history.map((h) => h.seq + 1)));
  const views = new Map<string, TrialView>([...finished.values()].map((r) => [r.id, { status: r.status, history: r.history }]));
  const histories = new Map<string, EpochValue[]>();
  const launchedAt = new Map<string, number>();
  const progress: Progress = createProgress({ label: `sweep ${sweep.name}`, total: loaded.trials.length, quiet: options.quiet ?? false });
  if (finished.size > 0) {
    say(`resuming: ${finished.size} of ${loaded.trials.length} trials already finished (${dir}/trials.jsonl)`);
    progress.tick(finished.size);
  }

  const events: ExecutorEvent[] = [];
  let wake: (() => void) | undefined;
  const executor = makeExecutor((e) => {
    events.push(e);
    wake?.();
  });

  const absorbRecords = (id: string, records: readonly EpochRecord[]) => {
    const history = histories.get(id) ?? [];
    const byEpoch = records.filter((r) => typeof r.epoch === 'number' && typeof r[esMetric] === 'number');
    for (const r of byEpoch.slice(history.length)) {
      history.push({ epoch: r.epoch as number, value: r[esMetric] as number, seq: seq++ });
      const t = planned.get(id)!;
      say(`trial ${id} (${describeConfig(t.config, t.seed)}): epoch ${r.epoch as number} ${esMetric} ${(r[esMetric] as number).toFixed(4)}`);
    }
    histories.set(id, history);
    const view = views.get(id);
    if (view?.status === 'running') views.set(id, { status: 'running', history: [...history] });
  };

  const record = (outcome: TrialOutcome) => {
    const t = planned.get(outcome.id);
    if (!t || finished.has(outcome.id)) return;
    absorbRecords(outcome.id, outcome.records);
    const history = histories.get(outcome.id) ?? [];
    const final = outcome.metrics?.[sweep.metric.name];
    const metric = outcome.status === 'completed' ? (typeof final === 'number' ? final : null) : outcome.status === 'stopped' ? (history[history.length - 1]?.value ?? null) : null;
    const line: TrialRecord = {
      id: t.id,
      configIndex: t.configIndex,
      config: t.config,
      seed: t.seed,
      status: outcome.status,
      metric,
      history,
      seconds: Number(outcome.seconds.toFixed(3)),
      wallSeconds: Number(outcome.wallSeconds.toFixed(3)),
      turnaroundSeconds: launchedAt.has(t.id) ? Number(((performance.now() - launchedAt.get(t.id)!) / 1000).toFixed(3)) : null,
      folder: path.join('trials', t.id),
      host: outcome.host,
      resumed: outcome.resumed,
      ...(outcome.error ? { error: outcome.error } : {}),
      finishedAt: new Date().toISOString(),
    };
    appendTrialRecord(logFile, line);
    finished.set(t.id, line);
    views.set(t.id, { status: outcome.status, history });
    progress.tick();
    const metricText = metric === null ? '' : ` ${sweep.metric.name} ${metric.toFixed(4)}`;
    say(`trial ${t.id} (${describeConfig(t.config, t.seed)}) ${outcome.status}${metricText} in ${outcome.wallSeconds.toFixed(1)} s${outcome.resumed ? ' (resumed from checkpoints)' : ''}${outcome.error ? `: ${outcome.error}` : ''}`);
    if (final === undefined && outcome.status === 'completed') say(`  note: the trial's summary has no metric ${JSON.stringify(sweep.metric.name)}; its metrics are ${Object.keys(outcome.metrics ?? {}).join(', ')}`);
  };

  try {
    for (;;) {
      while (events.length > 0) {
        const e = events.shift()!;
        if (e.kind === 'records') absorbRecords(e.id, e.records);
        else if (e.kind === 'done') record(e.outcome);
        else if (e.kind === 'notice') say(e.text);
        else throw e.error;
      }
      const decision = decide({ planned: loaded.trials, goal: sweep.metric.goal, ...(sweep.earlyStopping ? { earlyStopping: sweep.earlyStopping } : {}), trials: views, capacity: executor.capacity() });
      for (const id of decision.stop) {
        if (views.get(id)?.status === 'running') executor.stop(id);
      }
      for (const t of decision.launch) {
        views.set(t.id, { status: 'running', history: histories.get(t.id) ?? [] });
        say(`trial ${t.id} (${describeConfig(t.config, t.seed)}) queued`);
        launchedAt.set(t.id, performance.now());
        executor.start(t);
      }
      if (decision.done) break;
      if (events.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  } finally {
    await executor.close();
    progress.done();
  }
  const summary = summarize(loaded, [...finished.values()]);
  const paths = Object.keys(sweep.parameters);
  const table = summaryTable(summary, paths);
  writeFileAtomic(path.join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(path.join(dir, 'summary.md'), `# Sweep ${sweep.name}\n\n${table}`);
  // A parameter with one value is an override of the base spec, not an axis: it gets no plot.
  const axes = paths.filter((p) => new Set(loaded.trials.map((t) => JSON.stringify(t.config[p]))).size > 1);
  for (const p of axes) {
    if (summary.configurations.some((c) => c.mean !== null)) writeFileAtomic(path.join(dir, `${sweep.metric.name}-vs-${p.replace(/[^A-Za-z0-9_.-]/g, '_')}.svg`), parameterPlot(summary, loaded, p));
  }
  return { folder: dir, summary, table, seconds: (performance.now() - start) / 1000 };
}
