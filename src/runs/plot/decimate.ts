/**
 * Decimation of long series for drawing: a chart a few hundred pixels wide cannot show more than a few
 * points per pixel, and tens of thousands of SVG path vertices slow a page down. Min–max decimation keeps,
 * in each of `buckets` equal runs of consecutive points, the first point and the points of smallest and
 * largest y (in x order), so spikes and the envelope of a noisy curve survive, unlike plain striding which
 * can step over a spike. At most 3·buckets + 1 points remain; series already that short are returned as
 * they are. (The M4 idea of Jugel et al., VLDB 2014, without the last point per bucket.)
 */
export function decimateMinMax(x: readonly number[], y: readonly number[], buckets: number): { x: number[]; y: number[]; kept: number[] } {
  const n = Math.min(x.length, y.length);
  if (!(Number.isInteger(buckets) && buckets >= 1)) throw new Error(`decimateMinMax: buckets must be a positive integer, got ${buckets}`);
  if (n <= 3 * buckets + 1) {
    const kept = Array.from({ length: n }, (_, i) => i);
    return { x: x.slice(0, n), y: y.slice(0, n), kept };
  }
  const kept: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    let lo = start;
    let hi = start;
    for (let i = start; i < end; i++) {
      if (y[i]! < y[lo]! || Number.isNaN(y[lo]!)) lo = i;
      if (y[i]! > y[hi]! || Number.isNaN(y[hi]!)) hi = i;
    }
    for (const i of [...new Set([start, lo, hi])].sort((a, c) => a - c)) kept.push(i);
  }
  if (kept[kept.length - 1] !== n - 1) kept.push(n - 1);
  return { x: kept.map((i) => x[i]!), y: kept.map((i) => y[i]!), kept };
}

/** Points per series a chart keeps (about three per pixel of a 700-pixel-wide chart). */
export const MAX_BUCKETS = 700;
