/**
 * The figures of a run folder, built from what its files hold: metrics.jsonl records, diagnostics.json,
 * traces. Jobs call these with the records they have just written (so the SVG pictures in the folder are
 * exactly the report's charts), and the report calls them with the records it reads back. A record kind no
 * builder knows still gets `genericFigures`: every numeric field against the record's step-like key, so a
 * family added later appears without a line here.
 */
import type { BarRow, Figure, HeatFigure, LineFigure, Series } from './figure.js';

export type MetricsRecord = Readonly<Record<string, unknown>>;

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v === 'inf' ? Infinity : Number.NaN);
const ACCURACY = { label: 'accuracy', domain: [0, 1] as const };
/** Step-like record keys that count (their axis reads in whole numbers). */
const INTEGER_KEYS: ReadonlySet<string> = new Set(['epoch', 'severity', 'step']);

/** Learning curves: test (solid) and running train accuracy (dashed) per epoch, one pair per method or arm. */
export function learningCurves(records: readonly MetricsRecord[], title: string): LineFigure | undefined {
  const rows = records.filter((r) => typeof r.epoch === 'number' && (typeof r.test_accuracy === 'number' || typeof r.train_accuracy === 'number'));
  if (!rows.length) return undefined;
  const groupOf = (r: MetricsRecord) => String(r.method ?? r.phase ?? '');
  const groups = [...new Set(rows.map(groupOf))];
  // Jobs count epochs from 1 (EP, PC, CNN-F) or from 0 (LCA, the similarity job): a 0 anywhere means the latter.
  const shift = rows.some((r) => num(r.epoch) === 0) ? 1 : 0;
  const series: Series[] = [];
  for (const key of ['test_accuracy', 'train_accuracy'] as const) {
    for (const g of groups) {
      const mine = rows.filter((r) => groupOf(r) === g && typeof r[key] === 'number');
      if (!mine.length) continue;
      const who = g ? `${g.toUpperCase() === g || g.length <= 4 ? g.toUpperCase() : g} ` : '';
      series.push({ name: `${who}${key === 'test_accuracy' ? 'test' : 'train (running mean)'}`, x: mine.map((r) => num(r.epoch) + shift), y: mine.map((r) => num(r[key])), dashed: key === 'train_accuracy' });
    }
  }
  return { kind: 'line', id: 'learning-curves', title, note: 'Accuracy after each epoch; dashed: the running training accuracy during the epoch.', x: { label: 'epoch', integer: true }, y: ACCURACY, series };
}

/** Accuracy against ε per attack, the worst case over attacks beneath them, and its 95% interval. */
export function accuracyVsEpsilon(records: readonly MetricsRecord[], clean: number, norm: string, model: string): LineFigure | undefined {
  const rows = records.filter((r) => typeof r.epsilon === 'number' && typeof r.robust_accuracy === 'number');
  if (!rows.length) return undefined;
  const eps = [0, ...rows.map((r) => num(r.epsilon))];
  const attacks = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k.startsWith('accuracy_')).map((k) => k.slice('accuracy_'.length))))];
  const interval = rows.map((r) => (Array.isArray(r.interval95) ? (r.interval95 as number[]) : [Number.NaN, Number.NaN]));
  return {
    kind: 'line',
    id: 'accuracy-vs-eps',
    title: `Accuracy under attack (${norm})`,
    note: `${model}. The worst case over attacks is the wide pale line with its 95% interval (Wilson); ε = 0 is the clean accuracy.`,
    x: { label: `ε (${norm})` },
    y: ACCURACY,
    series: [
      { name: 'worst case', x: eps, y: [clean, ...rows.map((r) => num(r.robust_accuracy))], lo: [Number.NaN, ...interval.map((i) => i[0]!)], hi: [Number.NaN, ...interval.map((i) => i[1]!)], underlay: true },
      ...attacks.map((name) => ({ name, x: eps, y: [clean, ...rows.map((r) => num(r[`accuracy_${name}`]))] })),
    ],
  };
}

export interface TrajectoryRecord {
  readonly steps: readonly number[];
  readonly energy?: readonly number[];
  readonly accuracy: readonly number[];
}

export interface DiagnosticsRecord {
  readonly epsilon: number;
  readonly examples: number;
  readonly clean: TrajectoryRecord;
  readonly adversarial: TrajectoryRecord;
  readonly accuracyVsAttackSteps?: readonly { readonly steps: number; readonly accuracy: number }[];
  readonly accuracyVsAttackerSteps?: readonly { readonly attackerSteps: number; readonly accuracy: number }[];
}

/** The attractor diagnostics: energy and readout accuracy per step clean vs adversarial, accuracy against PGD
 * steps, and, on its own axis, against the attacker's unrolled steps. */
export function diagnosticsFigures(d: DiagnosticsRecord): Figure[] {
  const out: Figure[] = [];
  const both = (key: 'energy' | 'accuracy'): Series[] => [
    { name: 'clean', x: [...d.clean.steps], y: [...(d.clean[key] ?? [])] },
    { name: `adversarial (ε = ${d.epsilon})`, x: [...d.adversarial.steps], y: [...(d.adversarial[key] ?? [])] },
  ];
  if (d.clean.energy && d.adversarial.energy) {
    out.push({ kind: 'line', id: 'energy-trajectories', title: 'Energy along the relaxation, clean vs adversarial', note: `Mean over ${d.examples} examples; the adversarial inputs are PGD's at ε = ${d.epsilon}.`, x: { label: 'relaxation step', integer: true }, y: { label: 'energy' }, series: both('energy') });
  }
  out.push({ kind: 'line', id: 'readout-accuracy-per-step', title: 'Readout accuracy at every relaxation step', note: `${d.examples} examples, clean and under PGD at ε = ${d.epsilon}.`, x: { label: 'relaxation step', integer: true }, y: ACCURACY, series: both('accuracy') });
  if (d.accuracyVsAttackSteps?.length) {
    out.push({ kind: 'line', id: 'accuracy-vs-attack-steps', title: 'Robust accuracy against PGD iterations', note: `ε = ${d.epsilon}; accuracy that keeps falling with more iterations means the attack had not converged.`, x: { label: 'PGD iterations' }, y: ACCURACY, series: [{ name: 'PGD', x: d.accuracyVsAttackSteps.map((a) => a.steps), y: d.accuracyVsAttackSteps.map((a) => a.accuracy) }] });
  }
  if (d.accuracyVsAttackerSteps?.length) {
    out.push({ kind: 'line', id: 'accuracy-vs-attacker-horizon', title: "Robust accuracy against the attacker's unrolled relaxation steps", note: `PGD at ε = ${d.epsilon} differentiating through this many steps; the defender always runs its own.`, x: { label: 'relaxation steps the attacker unrolls' }, y: ACCURACY, series: [{ name: 'PGD', x: d.accuracyVsAttackerSteps.map((a) => a.attackerSteps), y: d.accuracyVsAttackerSteps.map((a) => a.accuracy) }] });
  }
  return out;
}

/** Corruptions: the corruption × severity heat map, accuracy against severity (graded ones), and the readout
 * accuracy along the relaxation for every corruption at its highest severity (all of them: small multiples
 * would hide nothing either, but one chart per ten keeps the colours apart). */
export function corruptionFigures(records: readonly MetricsRecord[], model: string): Figure[] {
  const rows = records.filter((r) => typeof r.corruption === 'string' && typeof r.accuracy === 'number');
  if (!rows.length) return [];
  const clean = rows.find((r) => r.corruption === 'clean');
  const corrupted = rows.filter((r) => r.corruption !== 'clean');
  const names = [...new Set(corrupted.map((r) => String(r.corruption)))];
  const severities = [...new Set(corrupted.map((r) => num(r.severity)))].sort((a, b) => a - b);
  const out: Figure[] = [];
  const heat: HeatFigure = {
    kind: 'heat',
    id: 'corruption-heatmap',
    title: 'Accuracy per corruption and severity',
    note: `${model}${clean ? `; clean accuracy ${num(clean.accuracy).toFixed(3)}` : ''}.`,
    x: { label: 'severity', order: severities.map(String) },
    y: { label: 'corruption', order: names },
    value: { label: 'accuracy', domain: [0, 1] },
    cells: corrupted.map((r) => ({ x: String(num(r.severity)), y: String(r.corruption), value: num(r.accuracy) })),
  };
  if (names.length) out.push(heat);
  const graded = names.filter((n) => corrupted.filter((r) => r.corruption === n).length > 1);
  for (let start = 0; start < graded.length; start += 10) {
    const chunk = graded.slice(start, start + 10);
    out.push({
      kind: 'line',
      id: `accuracy-vs-severity${start ? `-${start / 10 + 1}` : ''}`,
      title: `Accuracy against severity${graded.length > 10 ? ` (${start + 1}–${start + chunk.length} of ${graded.length})` : ''}`,
      note: `${model}; severity 0 is the clean accuracy.`,
      x: { label: 'severity (0 = clean)' },
      y: ACCURACY,
      series: chunk.map((n) => {
        const mine = corrupted.filter((r) => r.corruption === n).sort((a, b) => num(a.severity) - num(b.severity));
        return { name: n.replace(/^cifar-10-c\//, ''), x: [...(clean ? [0] : []), ...mine.map((r) => num(r.severity))], y: [...(clean ? [num(clean.accuracy)] : []), ...mine.map((r) => num(r.accuracy))] };
      }),
    });
  }
  const strongest = names.map((n) => corrupted.filter((r) => r.corruption === n).sort((a, b) => num(b.severity) - num(a.severity))[0]!).filter((r) => Array.isArray(r.accuracy_per_step));
  const perStep = (r: MetricsRecord, name: string): Series => ({ name, x: (r.steps as number[]) ?? [], y: r.accuracy_per_step as number[] });
  for (let start = 0; start < strongest.length; start += 9) {
    const chunk = strongest.slice(start, start + 9);
    out.push({
      kind: 'line',
      id: `accuracy-per-step${start ? `-${start / 9 + 1}` : ''}`,
      title: `Readout accuracy along the relaxation${strongest.length > 9 ? ` (${start + 1}–${start + chunk.length} of ${strongest.length} corruptions)` : ''}`,
      note: 'Clean, and each corruption at its highest severity.',
      x: { label: 'relaxation step', integer: true },
      y: ACCURACY,
      series: [...(clean && Array.isArray(clean.accuracy_per_step) ? [perStep(clean, 'clean')] : []), ...chunk.map((r) => perStep(r, `${String(r.corruption)} (severity ${num(r.severity)})`))],
    });
  }
  return out;
}

/** Every numeric field of records sharing a step-like key, one chart per field, grouped by method/phase. */
export function genericFigures(records: readonly MetricsRecord[], skip: ReadonlySet<string> = new Set()): Figure[] {
  const xKey = ['epoch', 'epsilon', 'noise', 'sigma', 'severity', 'step'].find((k) => records.filter((r) => typeof r[k] === 'number').length >= Math.max(2, records.length / 2));
  if (!xKey) return [];
  const groupKey = ['method', 'phase', 'arm'].find((k) => records.some((r) => typeof r[k] === 'string'));
  const rows = records.filter((r) => typeof r[xKey] === 'number');
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== xKey && !skip.has(k) && rows.filter((r) => typeof r[k] === 'number').length >= 1);
  const out: Figure[] = [];
  const seriesOf = (field: string): Series[] => {
    const groups = groupKey ? [...new Set(rows.filter((r) => typeof r[field] === 'number').map((r) => String(r[groupKey] ?? '')))] : [''];
    return groups.map((g) => {
      const mine = rows.filter((r) => typeof r[field] === 'number' && (!groupKey || String(r[groupKey] ?? '') === g));
      return { name: [g, field.replace(/_/g, ' ')].filter(Boolean).join(': '), x: mine.map((r) => num(r[xKey])), y: mine.map((r) => num(r[field])) };
    });
  };
  const varies = (series: Series[]) => {
    const values = series.flatMap((s) => s.y);
    return values.length === 1 || new Set(values).size > 1;
  };
  // Fractions (accuracies, recall, overlaps: every value in [0, 1]) share one chart; the rest get one each.
  const fractions = fields.filter((f) => /accuracy|recall|overlap|fraction/.test(f) && rows.every((r) => typeof r[f] !== 'number' || (num(r[f]) >= 0 && num(r[f]) <= 1)));
  const fractionSeries = fractions.flatMap(seriesOf);
  if (fractionSeries.length && varies(fractionSeries)) {
    out.push({ kind: 'line', id: `fractions-vs-${xKey}`, title: `${fractions.map((f) => f.replace(/_/g, ' ')).join(', ')} against ${xKey}`, x: { label: xKey, ...(INTEGER_KEYS.has(xKey) ? { integer: true } : {}) }, y: { label: 'fraction', domain: [0, 1] }, series: fractionSeries });
  }
  for (const field of fields.filter((f) => !fractions.includes(f))) {
    const series = seriesOf(field);
    if (!varies(series)) continue;
    out.push({ kind: 'line', id: `metric-${field}`, title: `${field.replace(/_/g, ' ')} against ${xKey}`, x: { label: xKey, ...(INTEGER_KEYS.has(xKey) ? { integer: true } : {}) }, y: { label: field.replace(/_/g, ' ') }, series });
  }
  return out;
}

/** An energy (or any scalar) trace per step for several runs of one quantity, e.g. Hopfield's per noise level. */
export function tracesFigure(id: string, title: string, yLabel: string, traces: readonly { name: string; values: readonly number[] }[], note?: string): LineFigure {
  return { kind: 'line', id, title, ...(note ? { note } : {}), x: { label: 'relaxation step', integer: true }, y: { label: yLabel }, series: traces.map((t) => ({ name: t.name, x: t.values.map((_, i) => i), y: [...t.values] })) };
}

/** A hardware estimate's terms per profile as stacked bars. */
export function hardwareFigure(rows: readonly BarRow[], unit: string, title: string): Figure {
  return { kind: 'bar', id: 'hardware-energy', title, value: { label: unit }, rows };
}

/** Accuracy against the standard deviation of Gaussian pixel noise (LCANet vs its convolutional baseline). */
export function accuracyVsNoise(records: readonly MetricsRecord[], clean?: Readonly<Record<string, number>>): LineFigure | undefined {
  const rows = records.filter((r) => r.phase === 'noise' && typeof r.sigma === 'number').sort((a, b) => num(a.sigma) - num(b.sigma));
  if (!rows.length) return undefined;
  const arms = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k.endsWith('_accuracy'))))];
  return {
    kind: 'line',
    id: 'accuracy-vs-noise',
    title: 'Accuracy under Gaussian pixel noise',
    note: 'σ is the standard deviation of the noise added to pixels in [0, 1]; σ = 0 is the clean test accuracy.',
    x: { label: 'noise σ' },
    y: ACCURACY,
    series: arms.map((arm) => {
      const c = clean?.[arm];
      return { name: arm.replace(/_accuracy$/, '').replace(/_/g, ' '), x: [...(c !== undefined ? [0] : []), ...rows.map((r) => num(r.sigma))], y: [...(c !== undefined ? [c] : []), ...rows.map((r) => num(r[arm]))] };
    }),
  };
}
