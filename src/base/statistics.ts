/**
 * Intervals and tests for accuracies counted on a finite set of test images.
 *
 * - `wilsonInterval`: the Wilson score interval of one proportion (robust accuracy of one model).
 * - `pairedGainInterval`: the interval of the difference of two accuracies measured on the same images,
 *   from the discordant pairs only.
 * - `mcnemarExact` / `pairedComparison`: whether two models (or two settings of one model) differ on the
 *   same images. Two independent Wilson intervals that overlap do not decide this: most images are right
 *   (or wrong) under both, and only the images where the two disagree carry information about the
 *   difference. Under the null hypothesis that both are equally accurate, each discordant image is equally
 *   likely to favour either side, so the count favouring one side is Binomial(b + c, ½) (McNemar's test
 *   in its exact form; Agresti, Categorical Data Analysis, 3rd ed., §11.1).
 */

/** The normal quantile of a two-sided 95% interval. */
export const Z95 = 1.959964;

export function wilsonInterval(successes: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = successes / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * The 95% interval of an accuracy change on the same images, from the discordant pairs: `gained`
 * examples right under the second setting and wrong under the first, `lost` the reverse, of `count`.
 * The change is d = (gained − lost)/n with variance ((gained + lost)/n − d²)/n (the Wald interval for a
 * difference of dependent proportions; Agresti §11.1). Pairing removes the between-image variance that
 * two independent accuracies' intervals would carry.
 */
export function pairedGainInterval(gained: number, lost: number, count: number): [number, number] {
  const d = (gained - lost) / count;
  const half = Z95 * Math.sqrt(Math.max(0, (gained + lost) / count - d * d) / count);
  return [d - half, d + half];
}

/**
 * Two-sided exact McNemar p-value for b and c discordant pairs:
 * p = min(1, 2 · P(X ≤ min(b, c))) with X ~ Binomial(b + c, ½). The binomial terms are summed in log
 * space, so counts in the thousands neither overflow nor lose the tail.
 */
export function mcnemarExact(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) throw new RangeError(`mcnemarExact needs two counts (non-negative integers), got ${b} and ${c}`);
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // log C(n, i) − n log 2, built up term by term: C(n, i) = C(n, i − 1) · (n − i + 1)/i.
  let logTerm = -n * Math.LN2;
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}

export interface PairedComparison {
  readonly examples: number;
  /** Accuracy (1-rate) of each side. */
  readonly accuracyA: number;
  readonly accuracyB: number;
  /** Images that count for B only, and for A only (the discordant pairs). */
  readonly onlyB: number;
  readonly onlyA: number;
  /** accuracyB − accuracyA, its paired 95% interval, and the exact McNemar p-value. */
  readonly difference: number;
  readonly interval: [number, number];
  readonly p: number;
}

/** Compares two per-image outcomes (1 = right/robust) on the same images, B against A. */
export function pairedComparison(a: ArrayLike<number>, b: ArrayLike<number>): PairedComparison {
  if (a.length !== b.length) throw new RangeError(`pairedComparison needs outcomes on the same images, got ${a.length} and ${b.length}`);
  let onlyA = 0;
  let onlyB = 0;
  let hitsA = 0;
  let hitsB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ? 1 : 0;
    const y = b[i] ? 1 : 0;
    hitsA += x;
    hitsB += y;
    if (x && !y) onlyA++;
    if (y && !x) onlyB++;
  }
  const n = a.length;
  return {
    examples: n,
    accuracyA: n ? hitsA / n : 0,
    accuracyB: n ? hitsB / n : 0,
    onlyB,
    onlyA,
    difference: n ? (onlyB - onlyA) / n : 0,
    interval: n ? pairedGainInterval(onlyB, onlyA, n) : [0, 0],
    p: mcnemarExact(onlyB, onlyA),
  };
}
