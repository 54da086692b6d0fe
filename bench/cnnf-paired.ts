/**
 * Paired comparison of two `bench/cnnf-eval.ts` result files evaluated on the same test images (for
 * example the CNN and CNN-F-1 under PGD-40 at the same ε): per ε, the images robust under one model only,
 * the accuracy difference with its paired 95% interval, and the exact McNemar p-value (base/statistics.ts).
 *
 *   node dist/bench/cnnf-paired.js --a <CNN results.json> --b <CNN-F results.json> [--surface e2e] [--out paired.json]
 *
 * Rows of `pgd` are matched by ε (and by surface where B has several; A's only surface is used for a CNN),
 * rows of `protocol` (the worst case over its attacks) by ε. The difference is B − A.
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
const read = (name: string): Results => {
  const file = option(name);
  if (!file) throw new Error(`--${name} <results.json from bench/cnnf-eval.ts> is required`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
};
const a = read('a');
const b = read('b');
const surface = option('surface');
const bits = (s: string | undefined, where: string) => {
  if (s === undefined) throw new Error(`${where} has no per-example outcomes (run bench/cnnf-eval.ts again: older result files lack them)`);
  return Array.from(s, (c) => (c === '1' ? 1 : 0));
};
const pct = (v: number) => (100 * v).toFixed(1);
const line = (label: string, epsilon: number, c: PairedComparison) =>
  `${label} ε = ${epsilon}: A ${pct(c.accuracyA)}%, B ${pct(c.accuracyB)}%; only A ${c.onlyA}, only B ${c.onlyB}; B − A ${pct(c.difference)} [${pct(c.interval[0])}, ${pct(c.interval[1])}] points, McNemar p = ${c.p.toPrecision(3)} (${c.examples} images)`;

const out: Record<string, unknown> = { a: a.ckpt, b: b.ckpt };
if (a.pgd && b.pgd) {
  const rows = [];
  for (const rb of b.pgd.rows.filter((r) => !surface || r.surface === surface)) {
    const ra = a.pgd.rows.find((r) => r.epsilon === rb.epsilon && (r.surface === rb.surface || new Set(a.pgd!.rows.map((x) => x.surface)).size === 1));
    if (!ra) continue;
    const c = pairedComparison(bits(ra.robust, `A's pgd row ε ${ra.epsilon}`), bits(rb.robust, `B's pgd row ε ${rb.epsilon}`));
    rows.push({ surfaceA: ra.surface, surfaceB: rb.surface, epsilon: rb.epsilon, ...c });
    console.log(line(`PGD (${ra.surface} vs ${rb.surface})`, rb.epsilon, c));
  }
  out.pgd = rows;
}
if (a.protocol && b.protocol) {
  const rows = [];
  for (const eb of b.protocol.perEpsilon) {
    const ea = a.protocol.perEpsilon.find((e) => e.epsilon === eb.epsilon);
    if (!ea) continue;
    const c = pairedComparison(bits(ea.robust, `A's protocol ε ${ea.epsilon}`), bits(eb.robust, `B's protocol ε ${eb.epsilon}`));
    rows.push({ epsilon: eb.epsilon, ...c });
    console.log(line('protocol worst case', eb.epsilon, c));
  }
  out.protocol = rows;
}
const file = option('out');
if (file) fs.writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
