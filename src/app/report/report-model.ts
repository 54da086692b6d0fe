/**
 * What the report page shows for one run folder, as plain data: the figures (the same builders the jobs use
 * for their SVG pictures), the pictures with captions, the summary and spec, and the warnings in words.
 * Everything here is JSON, inlined into the page and drawn there by the bundled Observable Plot.
 */
import type { Figure } from '../../runs/plot/figure.js';
import { decimateMinMax, MAX_BUCKETS } from '../../runs/plot/decimate.js';
import {
  accuracyVsEpsilon,
  accuracyVsNoise,
  corruptionFigures,
  diagnosticsFigures,
  genericFigures,
  hardwareFigure,
  learningCurves,
  tracesFigure,
  type DiagnosticsRecord,
} from '../../runs/plot/run-figures.js';
import type { RunContents } from './read-run.js';
import type { ReportRun } from './report-types.js';

export type { ReportImage, ReportRun } from './report-types.js';

const IMAGE_CAPTIONS: Readonly<Record<string, string>> = {
  'atoms.png': 'Dictionary atoms, one tile each, labelled with the atom index (lca-dictionary shows the most used first; grey = 0; for signed atoms white is positive and black negative, scaled symmetrically).',
  'reconstructions.png': 'Test images (“in i”) and their reconstructions from the sparse code (“rec i”, the row below), labelled with the test example i.',
};

function captionOf(name: string): string {
  const file = name.split('/').pop()!;
  const repair = /^repair-(.+)\.png$/.exec(file);
  if (repair) return `CNN-F image repair under ${repair[1]}: one test example per row; columns clean, corrupted, then the reconstruction after each cycle (labelled).`;
  const similarity = /^similarity-(.+)\.png$/.exec(file);
  if (similarity) return `Representational similarity matrices for target ${similarity[1]}, stimuli sorted alike: the target, the baseline, the regularized arm, the shuffled target and the shuffled arm (similarity −1 black to 1 white).`;
  return IMAGE_CAPTIONS[file] ?? name;
}

/** Flattens the summary to key/value rows ("metrics.robust_accuracy.0.1" → "0.25"). */
function flatten(value: unknown, prefix: string, out: Array<[string, string]>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) {
    out.push([prefix, value.map((v) => (typeof v === 'number' ? formatNumber(v) : String(v))).join(', ')]);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else out.push([prefix, typeof value === 'number' ? formatNumber(value) : String(value)]);
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(5)));
}

function kindOf(run: RunContents): string {
  const job = (run.spec?.job as { kind?: string } | undefined)?.kind;
  if (run.settings && run.diagnostics !== undefined) return 'attack';
  if (run.settings && run.metrics.some((r) => typeof r.corruption === 'string')) return 'corrupt';
  if (run.settings && 'attacks' in run.settings) return 'attack';
  if (run.settings && 'corruptions' in run.settings) return 'corrupt';
  return job ? `run: ${job}` : 'run';
}

/** The gradient-masking warnings of an attack, as sentences, plus anything else a reader should not miss. */
function warningsOf(run: RunContents): string[] {
  const metrics = (run.summary?.metrics ?? {}) as Record<string, unknown>;
  const out: string[] = [];
  const masking = metrics.gradient_masking_warnings;
  if (Array.isArray(masking)) {
    for (const w of masking) out.push(`Possible gradient masking: ${String(w)}`);
    if (masking.length === 0 && run.settings) out.push('No sign of gradient masking was found by the checks (gradient-free and transfer attacks no stronger than the gradient ones; accuracy falls with ε and with attack steps).');
  }
  for (const r of run.metrics) if (r.stopped === 'diverged') out.push(`A relaxation diverged (${JSON.stringify(r)}).`);
  return out;
}

function pngUri(bytes: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
}

export function reportRun(run: RunContents): ReportRun {
  const figures: Figure[] = [];
  const metrics = (run.summary?.metrics ?? {}) as Record<string, unknown>;
  const covered = new Set<string>();
  const title = (run.spec?.name as string | undefined) ?? run.name;
  const curves = learningCurves(run.metrics, `Learning curves: ${title}`);
  if (curves) {
    figures.push(curves);
    for (const k of ['test_accuracy', 'train_accuracy', 'epoch', 'method']) covered.add(k);
  }
  const model = String(metrics.model ?? (run.settings?.model as string | undefined) ?? title);
  if (typeof metrics.clean_accuracy === 'number' && run.metrics.some((r) => typeof r.epsilon === 'number')) {
    const f = accuracyVsEpsilon(run.metrics, metrics.clean_accuracy, String(metrics.threat ?? 'linf'), model);
    if (f) figures.push(f);
    for (const r of run.metrics) for (const k of Object.keys(r)) covered.add(k);
  }
  if (run.diagnostics) figures.push(...diagnosticsFigures(run.diagnostics as unknown as DiagnosticsRecord));
  const corruption = corruptionFigures(run.metrics, model);
  if (corruption.length) {
    figures.push(...corruption);
    for (const r of run.metrics) for (const k of Object.keys(r)) covered.add(k);
  }
  const cleanOnNoise = metrics.clean_accuracy_on_noise_examples as { lcanet?: number; baseline?: number } | undefined;
  const cleanArms: Record<string, number> = {};
  const lcanetClean = cleanOnNoise?.lcanet ?? metrics.test_accuracy;
  const baselineClean = cleanOnNoise ? cleanOnNoise.baseline : metrics.baseline_test_accuracy;
  if (typeof lcanetClean === 'number') cleanArms.lcanet_accuracy = lcanetClean;
  if (typeof baselineClean === 'number') cleanArms.baseline_accuracy = baselineClean;
  const noise = accuracyVsNoise(run.metrics, cleanArms);
  if (noise) {
    figures.push(noise);
    for (const k of ['sigma', 'lcanet_accuracy', 'baseline_accuracy']) covered.add(k);
  }
  figures.push(...traceFigures(run.traces));
  for (const e of run.energy) figures.push(...hardwareFigures(e.name, e.record));
  if (!corruption.length) figures.push(...genericFigures(run.metrics.filter((r) => r.phase !== 'noise'), covered));
  const summary: Array<[string, string]> = [];
  flatten(run.summary ?? {}, '', summary);
  const description = (run.spec?.description as string | undefined) ?? (run.settings ? `${kindOf(run)} of ${String(run.settings.model ?? '')}` : undefined);
  return {
    name: run.name,
    dir: run.dir,
    kind: kindOf(run),
    ...(description ? { description } : {}),
    summary,
    ...(run.spec || run.settings ? { spec: run.spec ?? run.settings } : {}),
    figures: figures.map(decimated),
    images: run.images.map((img) => ({ name: img.name, caption: captionOf(img.name), dataUri: pngUri(img.bytes) })),
    warnings: warningsOf(run),
    files: run.files,
  };
}

/** The figure with every series decimated as the chart will draw it, so the page does not carry points
 * it would drop (a 100,000-step trace would otherwise be megabytes of JSON). */
function decimated(figure: Figure): Figure {
  if (figure.kind !== 'line') return figure;
  return {
    ...figure,
    series: figure.series.map((s) => {
      const d = decimateMinMax(s.x, s.y, MAX_BUCKETS);
      if (d.kept.length === s.x.length) return s;
      return { ...s, x: d.x, y: d.y, ...(s.lo && s.hi ? { lo: d.kept.map((i) => s.lo![i]!), hi: d.kept.map((i) => s.hi![i]!) } : {}) };
    }),
  };
}

interface EnergyProfileRecord {
  readonly cost?: { readonly energy?: { readonly terms?: ReadonlyArray<{ readonly term: string; readonly joules: number }> } };
  readonly emulation?: { readonly accuracyByStep?: Readonly<Record<string, number>> };
}

/** A `neurodyn energy` estimate: its energy terms per profile (stacked), and the emulation's accuracy against time steps. */
function hardwareFigures(name: string, record: Readonly<Record<string, unknown>>): Figure[] {
  const profiles = (record.profiles ?? {}) as Record<string, EnergyProfileRecord>;
  const rows = Object.entries(profiles).flatMap(([id, p]) => (p.cost?.energy?.terms ?? []).map((t) => ({ group: id, part: t.term, value: t.joules })));
  const out: Figure[] = [];
  if (rows.length) out.push({ ...hardwareFigure(rows, 'joules per inference', `Energy per inference by term and profile (${name})`), id: `hardware-${name.replace(/\.json$/, '')}` });
  const emulated = Object.entries(profiles).filter(([, p]) => p.emulation?.accuracyByStep);
  if (emulated.length) {
    out.push({
      kind: 'line',
      id: `emulation-${name.replace(/\.json$/, '')}`,
      title: 'Spiking emulation accuracy against time steps',
      note: `From ${name}; the float model's accuracy is ${typeof (record.float as { accuracy?: number } | undefined)?.accuracy === 'number' ? (record.float as { accuracy: number }).accuracy.toFixed(3) : 'not recorded'}.`,
      x: { label: 'time steps' },
      y: { label: 'accuracy', domain: [0, 1] },
      series: emulated.map(([id, p]) => {
        const entries = Object.entries(p.emulation!.accuracyByStep!).map(([k, v]) => [Number(k), v] as const).sort((a, b) => a[0] - b[0]);
        return { name: id, x: entries.map((e) => e[0]), y: entries.map((e) => e[1]) };
      }),
    });
  }
  return out;
}

/** Quantities a trace's file name may carry in any position ('clean-energy', 'energy-noise-0.2'). */
const QUANTITIES = new Set(['energy', 'distance', 'residual', 'readout', 'class', 'loss', 'error', 'overlap', 'accuracy', 'state', 'cost', 'margin', 'change']);

/**
 * Charts of the traces that run along a step axis: a float trace [steps, ...] (a probe's record, whose
 * first axis is the step) is drawn as its mean over the other axes against the step, one chart per
 * quantity, with a series per condition. The quantity is the name's token that names one (energy,
 * distance, …) wherever it stands, else its first token. Left out: integer traces (per-example labels such
 * as `labels.npy`, class indices per step: a mean of class indices means nothing) and single records. So
 * quantities of different kinds never share a y axis, and a label vector is never drawn as a series.
 */
export function traceFigures(traces: readonly RunContents['traces'][number][]): Figure[] {
  const groups = new Map<string, Array<{ name: string; values: number[]; file: string }>>();
  for (const t of traces) {
    if (t.shape.length < 1 || t.shape[0]! < 2 || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) continue;
    const tokens = t.name.split('-');
    const at = Math.max(0, tokens.findIndex((k) => QUANTITIES.has(k)));
    const quantity = tokens[at]!;
    const rest = tokens.filter((_, i) => i !== at).join(' ');
    const list = groups.get(quantity) ?? [];
    list.push({ name: rest || quantity, values: meanOverBatch(t), file: `traces/${t.name}.npy` });
    groups.set(quantity, list);
  }
  return [...groups].map(([quantity, list]) => {
    list.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    return tracesFigure(`trace-${quantity}`, `${quantity} along the relaxation`, quantity, list, `Mean over the other axes of ${list.map((l) => l.file).join(', ')}.`);
  });
}

/** Mean over every axis but the first (the step axis) of a trace [steps, ...]. */
function meanOverBatch(t: { shape: readonly number[]; data: ArrayLike<number> }): number[] {
  const steps = t.shape[0]!;
  const per = t.data.length / steps;
  return Array.from({ length: steps }, (_, s) => {
    let sum = 0;
    for (let i = 0; i < per; i++) sum += t.data[s * per + i]!;
    return sum / per;
  });
}
