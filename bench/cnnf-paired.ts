/**
 * Paired comparison of `bench/cnnf-eval.ts` results evaluated on the same test images (for example the CNN
 * and CNN-F-1 under PGD-40 at the same ε): per ε, the images robust under one side only, the accuracy
 * difference with its paired 95% interval, and the exact McNemar p-value (base/statistics.ts).
 *
 *   node dist/bench/cnnf-paired.js --a <results.json>[,<results.json>…] --b <results.json>[,…] [--surface e2e] [--examples N] [--out paired.json]
 *
 * A side given as several files (or one file with several PGD surfaces) is scored by its worst case per
 * image: an image counts as robust at ε only if it survived every PGD row at that ε in every file of the
 * side (after the --surface filter), for example the exact-gradient and the BPDA attack on one model. The
 * protocol's rows (already a worst case over its attacks) are compared the same way. The difference is B − A.
 * --examples N compares the first N images only, for results run on different numbers of the same first
 * test images (each image's attack does not depend on how many follow it).
 */
import fs from 'node:fs';
import { pairedComparison, type PairedComparison } from '../src/base/statistics.js';

interface Results {
  ckpt: string;
  pgd?: { examples: number; rows: { surface: string; epsilon: number; robust?: string }[] };
  protocol?: { examples: number; perEpsilon: { epsilon: number; robust?: string }[] };
}

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const surface = option('surface');
const examples = option('examples') !== undefined ? Number(option('examples')) : undefined;
const side = (name: string): { files: string[]; results: Results[] } => {
  const list = option(name);
  if (!list) throw new Error(`--${name} <results.json from bench/cnnf-eval.ts>[,…] is required`);
  const files = list.split(',').filter((f) => f.length > 0);
  return { files, results: files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Results) };
};

/** Per ε, the per-image worst case over the side's rows: 1 only where every row says robust. */
function worstCase(results: readonly Results[], rowsOf: (r: Results) => { epsilon: number; robust?: string; surface?: string }[] | undefined, where: string): Map<number, { bits: number[]; rows: number }> {
  const out = new Map<number, { bits: number[]; rows: number }>();
  for (const r of results) {
    const rows = rowsOf(r) ?? [];
    // A file with one surface (a CNN) is compared whatever --surface says.
    const filtered = surface !== undefined && new Set(rows.map((x) => x.surface)).size > 1;
    for (const row of rows) {
      if (filtered && row.surface !== surface) continue;
      if (row.robust === undefined) throw new Error(`${r.ckpt}: the ${where} row at ε ${row.epsilon} has no per-example outcomes (run bench/cnnf-eval.ts again: older result files lack them)`);
      const bits = Array.from(row.robust.slice(0, examples), (c) => (c === '1' ? 1 : 0));
      const seen = out.get(row.epsilon);
      if (!seen) out.set(row.epsilon, { bits, rows: 1 });
      else {
        if (seen.bits.length !== bits.length) throw new Error(`${where} rows at ε ${row.epsilon} cover ${seen.bits.length} and ${bits.length} images: not the same images`);
        seen.bits = seen.bits.map((v, i) => v & bits[i]!);
        seen.rows++;
      }
    }
  }
  return out;
}

const a = side('a');
const b = side('b');
const pct = (v: number) => (100 * v).toFixed(1);
const line = (label: string, epsilon: number, c: PairedComparison, rowsA: number, rowsB: number) =>
  `${label} ε = ${epsilon}: A ${pct(c.accuracyA)}% (${rowsA} row${rowsA === 1 ? '' : 's'}), B ${pct(c.accuracyB)}% (${rowsB}); only A ${c.onlyA}, only B ${c.onlyB}; B − A ${pct(c.difference)} [${pct(c.interval[0])}, ${pct(c.interval[1])}] points, McNemar p = ${c.p.toPrecision(3)} (${c.examples} images)`;

const out: Record<string, unknown> = { a: a.files, b: b.files, surface: surface ?? 'all' };
for (const [part, rowsOf] of [
  ['pgd', (r: Results) => r.pgd?.rows],
  ['protocol', (r: Results) => r.protocol?.perEpsilon],
] as const) {
  const left = worstCase(a.results, rowsOf, `A's ${part}`);
  const right = worstCase(b.results, rowsOf, `B's ${part}`);
  const rows = [];
  for (const [epsilon, r] of [...right.entries()].sort((x, y) => x[0] - y[0])) {
    const l = left.get(epsilon);
    if (!l) continue;
    const c = pairedComparison(l.bits, r.bits);
    rows.push({ epsilon, rowsA: l.rows, rowsB: r.rows, ...c });
    console.log(line(part === 'pgd' ? 'PGD' : 'protocol worst case', epsilon, c, l.rows, r.rows));
  }
  if (rows.length) out[part] = rows;
}
const file = option('out');
if (file) fs.writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
