/**
 * Per-example attack results on disk, so that two evaluations of one model can be compared example by
 * example:
 *
 * - `examples.jsonl`: one line per example and ε: `example` (index into the test split), `epsilon`,
 *   `label`, `clean_prediction`, `clean_correct`, `robust`, `broken_by` (every attack that broke it, a
 *   carried break named with the ε it came from), `margin` (the defender's margin max_{i≠y} z_i − z_y that
 *   each attack reached, positive when broken), `worst_attack`, `prediction` and `worst_margin` at the
 *   stored point, `distance` (its ‖x' − x‖), and `min_perturbation` (null for clean mistakes, "> ε_max"
 *   where nothing broke it);
 * - `adversarial/eps-<ε>.npy`: the stored points [examples, ...input shape], float32, row i for example i
 *   (the clean input where no attack raised the margin or the example was misclassified clean).
 *
 * `compareExamples` lines two such folders up by (example, ε).
 */
import fs from 'node:fs';
import path from 'node:path';
import { NeurodynError } from '../base/errors.js';
import { mcnemarExact, pairedGainInterval } from '../base/statistics.js';
import { decodeNpy, encodeNpy } from '../export/npy.js';
import type { ExampleLedger, ExampleOutcome } from './ledger.js';

export interface ExampleRow {
  readonly example: number;
  readonly epsilon: number;
  readonly label: number;
  readonly clean_prediction: number;
  readonly clean_correct: boolean;
  readonly robust: boolean;
  readonly broken_by: readonly string[];
  readonly margin: Readonly<Record<string, number>>;
  readonly worst_attack: string | null;
  readonly prediction: number;
  readonly worst_margin: number | null;
  readonly distance: number;
  readonly min_perturbation?: number | string | null;
}

export interface FileSink {
  writeText(name: string, text: string): void;
  writeBytes(name: string, bytes: Uint8Array): void;
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

export function exampleRows(outcomes: readonly ExampleOutcome[], minimal?: { readonly sizes: ArrayLike<number>; readonly maxEpsilon: number }): ExampleRow[] {
  return outcomes.map((o) => {
    const size = minimal?.sizes[o.example];
    return {
      example: o.example,
      epsilon: o.epsilon,
      label: o.label,
      clean_prediction: o.cleanPrediction,
      clean_correct: o.cleanCorrect,
      robust: o.robust,
      broken_by: o.brokenBy,
      margin: Object.fromEntries(Object.entries(o.margin).map(([k, v]) => [k, Number(v.toPrecision(6))])),
      worst_attack: o.worstAttack,
      prediction: o.prediction,
      worst_margin: finiteOrNull(Number(o.worstMargin.toPrecision(6))),
      distance: Number(o.distance.toPrecision(6)),
      ...(minimal ? { min_perturbation: size === undefined || Number.isNaN(size) ? null : Number.isFinite(size) ? Number(size.toPrecision(6)) : `> ${minimal.maxEpsilon}` } : {}),
    };
  });
}

export function adversarialFile(epsilon: number): string {
  return `adversarial/eps-${epsilon}.npy`;
}

/** Writes examples.jsonl and one adversarial .npy per ε. */
export function writeExamples(sink: FileSink, ledger: ExampleLedger, inputShape: readonly number[], minimal?: { readonly sizes: ArrayLike<number>; readonly maxEpsilon: number }): void {
  const rows = exampleRows(ledger.outcomes(), minimal);
  sink.writeText('examples.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  for (const epsilon of ledger.epsilons) sink.writeBytes(adversarialFile(epsilon), encodeNpy(ledger.adversarial(epsilon), [ledger.examples, ...inputShape]));
}

export interface ExamplesFolder {
  readonly folder: string;
  readonly rows: readonly ExampleRow[];
  readonly settings: Readonly<Record<string, unknown>>;
}

/** Reads an attack folder's examples.jsonl (and attack.json); a clear error when it is not one. */
export function readExamples(folder: string): ExamplesFolder {
  const file = path.join(folder, 'examples.jsonl');
  if (!fs.existsSync(file)) throw new NeurodynError(`${folder} has no examples.jsonl: it is not the run folder of a neurodyn attack (or one written before per-example results existed)`);
  const rows: ExampleRow[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push(JSON.parse(line) as ExampleRow);
      } catch {
        throw new NeurodynError(`${file}:${i + 1} is not a JSON line`);
      }
    });
  const settingsFile = path.join(folder, 'attack.json');
  const settings = fs.existsSync(settingsFile) ? (JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>) : {};
  return { folder, rows, settings };
}

/** The stored adversarial points of one ε, as written by writeExamples. */
export function readAdversarial(folder: string, epsilon: number): { shape: number[]; data: Float32Array } {
  const file = path.join(folder, adversarialFile(epsilon));
  if (!fs.existsSync(file)) throw new NeurodynError(`${file} does not exist (the folder's ε values are in its examples.jsonl)`);
  const { shape, data } = decodeNpy(new Uint8Array(fs.readFileSync(file)));
  return { shape, data: Float32Array.from(data as ArrayLike<number>) };
}

export interface ExampleDifference {
  readonly example: number;
  readonly epsilon: number;
  readonly a: Pick<ExampleRow, 'clean_correct' | 'robust' | 'broken_by' | 'prediction' | 'worst_margin'>;
  readonly b: Pick<ExampleRow, 'clean_correct' | 'robust' | 'broken_by' | 'prediction' | 'worst_margin'>;
}

export interface ExamplesComparison {
  /** (example, ε) pairs present in both. */
  readonly shared: number;
  readonly onlyInA: number;
  readonly onlyInB: number;
  /**
   * Per ε over the shared examples: robust in a, robust in b, robust in both; the difference of robust
   * accuracy b − a with its paired 95% interval and the exact McNemar p-value, from the examples robust in
   * one only (base/statistics.ts). Meaningful when a and b attacked the same examples (two models, or two
   * attack settings on one model).
   */
  readonly perEpsilon: readonly {
    readonly epsilon: number;
    readonly examples: number;
    readonly robustA: number;
    readonly robustB: number;
    readonly robustBoth: number;
    readonly difference: number;
    readonly interval: [number, number];
    readonly p: number;
  }[];
  /** Pairs whose clean verdict or robust verdict differs. */
  readonly differences: readonly ExampleDifference[];
}

export function compareExamples(a: readonly ExampleRow[], b: readonly ExampleRow[]): ExamplesComparison {
  const key = (r: ExampleRow) => `${r.example}@${r.epsilon}`;
  const byKey = new Map(b.map((r) => [key(r), r]));
  const pick = (r: ExampleRow) => ({ clean_correct: r.clean_correct, robust: r.robust, broken_by: r.broken_by, prediction: r.prediction, worst_margin: r.worst_margin });
  const differences: ExampleDifference[] = [];
  const counts = new Map<number, { examples: number; robustA: number; robustB: number; robustBoth: number }>();
  let shared = 0;
  for (const ra of a) {
    const rb = byKey.get(key(ra));
    if (!rb) continue;
    shared++;
    const c = counts.get(ra.epsilon) ?? { examples: 0, robustA: 0, robustB: 0, robustBoth: 0 };
    counts.set(ra.epsilon, c);
    c.examples++;
    c.robustA += ra.robust ? 1 : 0;
    c.robustB += rb.robust ? 1 : 0;
    c.robustBoth += ra.robust && rb.robust ? 1 : 0;
    if (ra.robust !== rb.robust || ra.clean_correct !== rb.clean_correct) differences.push({ example: ra.example, epsilon: ra.epsilon, a: pick(ra), b: pick(rb) });
  }
  return {
    shared,
    onlyInA: a.length - shared,
    onlyInB: b.length - shared,
    perEpsilon: [...counts.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([epsilon, c]) => {
        const onlyA = c.robustA - c.robustBoth;
        const onlyB = c.robustB - c.robustBoth;
        return { epsilon, ...c, difference: (onlyB - onlyA) / c.examples, interval: pairedGainInterval(onlyB, onlyA, c.examples), p: mcnemarExact(onlyB, onlyA) };
      }),
    differences,
  };
}

/** The comparison as text: per ε the robust counts, then every example whose verdict differs. */
export function formatComparison(c: ExamplesComparison, nameA: string, nameB: string, limit = 50): string {
  const lines = [`${c.shared} (example, ε) pairs in both; ${c.onlyInA} only in ${nameA}, ${c.onlyInB} only in ${nameB}`];
  const points = (v: number) => (100 * v).toFixed(1);
  for (const p of c.perEpsilon) {
    lines.push(`ε ${p.epsilon}: robust ${p.robustA}/${p.examples} in A, ${p.robustB}/${p.examples} in B, ${p.robustBoth} in both; B − A ${points(p.difference)} [${points(p.interval[0])}, ${points(p.interval[1])}] points, McNemar p = ${p.p.toPrecision(3)}`);
  }
  if (c.differences.length === 0) lines.push('every example has the same verdict in both');
  else lines.push(`${c.differences.length} (example, ε) pairs differ (A = ${nameA}, B = ${nameB}):`);
  const verdict = (s: ExampleDifference['a']) => (!s.clean_correct ? 'wrong clean' : s.robust ? 'robust' : `broken by ${s.broken_by.join(', ')}`);
  for (const d of c.differences.slice(0, limit)) lines.push(`  example ${d.example}, ε ${d.epsilon}: A ${verdict(d.a)} (prediction ${d.a.prediction}); B ${verdict(d.b)} (prediction ${d.b.prediction})`);
  if (c.differences.length > limit) lines.push(`  … ${c.differences.length - limit} more (all of them are in the JSON output)`);
  return lines.join('\n');
}
