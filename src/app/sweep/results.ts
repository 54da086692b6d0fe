/**
 * What a sweep folder shows once its trials are in: per configuration, the metric's mean ± sample
 * standard deviation over the seeds that completed, the mean time, and how its trials ended; the best
 * configuration by the metric's goal; and an SVG of the metric against each swept parameter.
 */
import type { Goal } from './early-stopping.js';
import type { LoadedSweep } from './load-sweep.js';
import type { TrialRecord } from './trials-log.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import type { LineFigure } from '../../runs/plot/figure.js';

export interface ConfigurationResult {
  readonly configIndex: number;
  readonly config: Readonly<Record<string, unknown>>;
  /** Seeds whose trial completed with a numeric metric. */
  readonly seeds: readonly number[];
  readonly values: readonly number[];
  readonly mean: number | null;
  readonly std: number | null;
  readonly meanSeconds: number | null;
  readonly statuses: Readonly<Record<string, number>>;
}

export interface SweepSummary {
  readonly sweep: string;
  readonly method: string;
  readonly samplerSeed: number;
  readonly metric: { readonly name: string; readonly goal: Goal };
  readonly trials: { readonly planned: number; readonly completed: number; readonly stopped: number; readonly failed: number };
  readonly configurations: readonly ConfigurationResult[];
  readonly best: ConfigurationResult | null;
}

function stats(values: readonly number[]): { mean: number | null; std: number | null } {
  if (values.length === 0) return { mean: null, std: null };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, std };
}

export function summarize(loaded: LoadedSweep, records: readonly TrialRecord[]): SweepSummary {
  const { sweep } = loaded;
  const byId = new Map(records.map((r) => [r.id, r]));
  const indices = [...new Set(loaded.trials.map((t) => t.configIndex))];
  const configurations = indices.map((configIndex) => {
    const planned = loaded.trials.filter((t) => t.configIndex === configIndex);
    const done = planned.map((t) => byId.get(t.id)).filter((r): r is TrialRecord => r !== undefined);
    const completed = done.filter((r) => r.status === 'completed' && typeof r.metric === 'number');
    const statuses: Record<string, number> = {};
    for (const t of planned) {
      const status = byId.get(t.id)?.status ?? 'not run';
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    const values = completed.map((r) => r.metric as number);
    return {
      configIndex,
      config: planned[0]!.config,
      seeds: completed.map((r) => r.seed),
      values,
      ...stats(values),
      meanSeconds: stats(completed.map((r) => r.seconds)).mean,
      statuses,
    };
  });
  const sign = sweep.metric.goal === 'maximize' ? 1 : -1;
  const best = configurations.filter((c) => c.mean !== null).reduce<ConfigurationResult | null>((b, c) => (b === null || sign * c.mean! > sign * b.mean! ? c : b), null);
  const count = (s: string) => records.filter((r) => r.status === s && loaded.trials.some((t) => t.id === r.id)).length;
  return {
    sweep: sweep.name,
    method: sweep.method,
    samplerSeed: sweep.seed,
    metric: sweep.metric,
    trials: { planned: loaded.trials.length, completed: count('completed'), stopped: count('stopped'), failed: count('failed') },
    configurations,
    best,
  };
}

function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
  return JSON.stringify(v);
}

const pm = (c: ConfigurationResult) => (c.mean === null ? '–' : `${c.mean.toFixed(4)} ± ${c.std!.toFixed(4)}`);

/** The summary as a Markdown table (also printed by the command). */
export function summaryTable(summary: SweepSummary, parameterPaths: readonly string[]): string {
  const header = ['#', ...parameterPaths, 'seeds', `${summary.metric.name} (mean ± std)`, 'time s (mean)', 'status'];
  const rows = summary.configurations.map((c) => [
    String(c.configIndex),
    ...parameterPaths.map((p) => formatValue(c.config[p])),
    c.seeds.join(' ') || '–',
    pm(c),
    c.meanSeconds === null ? '–' : c.meanSeconds.toFixed(1),
    Object.entries(c.statuses)
      .map(([s, n]) => `${n} ${s}`)
      .join(', '),
  ]);
  const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  const best = summary.best ? `best (${summary.metric.goal} ${summary.metric.name}): #${summary.best.configIndex} ${parameterPaths.map((p) => `${p}=${formatValue(summary.best!.config[p])}`).join(', ') || '(base spec)'}: ${pm(summary.best)} over ${summary.best.seeds.length} seed(s)` : 'best: none (no configuration completed)';
  const t = summary.trials;
  return `${lines.join('\n')}\n\n${best}\ntrials: ${t.planned} planned, ${t.completed} completed, ${t.stopped} stopped early, ${t.failed} failed\n`;
}

/**
 * The metric against one parameter: one line per combination of the other parameters' values (a grid's
 * slices), points at each configuration's mean over seeds. Categorical values are placed at their index
 * in the order they are listed, named in the axis label.
 */
export function parameterPlot(summary: SweepSummary, loaded: LoadedSweep, parameter: string): string {
  return renderFigureSvg(parameterFigure(summary, loaded, parameter));
}

export function parameterFigure(summary: Pick<SweepSummary, 'sweep' | 'metric' | 'configurations'>, loaded: { readonly sweep: Pick<LoadedSweep['sweep'], 'parameters' | 'method'> }, parameter: string): LineFigure {
  const others = Object.keys(loaded.sweep.parameters).filter((p) => p !== parameter);
  const done = summary.configurations.filter((c) => c.mean !== null);
  const raw = done.map((c) => c.config[parameter]);
  const numeric = raw.every((v) => typeof v === 'number');
  const categories = numeric ? [] : [...new Set(raw.map((v) => JSON.stringify(v)))];
  const xOf = (v: unknown) => (numeric ? (v as number) : categories.indexOf(JSON.stringify(v)));
  const groups = new Map<string, ConfigurationResult[]>();
  for (const c of done) {
    const key = loaded.sweep.method === 'grid' ? others.map((p) => `${p}=${formatValue(c.config[p])}`).join(', ') : 'configurations';
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const series = [...groups.entries()].map(([name, cs]) => {
    const sorted = [...cs].sort((a, b) => xOf(a.config[parameter]) - xOf(b.config[parameter]));
    return { name: name || 'mean over seeds', x: sorted.map((c) => xOf(c.config[parameter])), y: sorted.map((c) => c.mean!) };
  });
  const logX = loaded.sweep.parameters[parameter]?.distribution === 'log-uniform';
  return {
    kind: 'line',
    id: `sweep-${parameter}`,
    title: `${summary.sweep}: ${summary.metric.name} against ${parameter}`,
    ...(numeric ? {} : { note: `${parameter} is categorical; its values are placed at their index: ${categories.map((c, i) => `${i}: ${c}`).join(', ')}.` }),
    x: { label: numeric ? parameter : `${parameter} (index of the value)`, ...(logX ? { type: 'log' as const } : {}), ...(numeric ? {} : { integer: true }) },
    y: { label: `${summary.metric.name} (mean over seeds)` },
    series,
  };
}
