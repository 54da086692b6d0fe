/**
 * Line charts as standalone SVG, for the pictures a run folder carries (energy trajectories, learning
 * curves, accuracy against ε). SVG needs no native dependency, opens in any browser, and stays sharp.
 */
export interface Series {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

export interface LinePlot {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly width?: number;
  readonly height?: number;
  readonly logY?: boolean;
  /** Draw a dot at every point (for few, unevenly spaced points, e.g. a sweep's configurations). */
  readonly markers?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** "Nice" tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderLinePlot(plot: LinePlot): string {
  const width = plot.width ?? 720;
  const height = plot.height ?? 440;
  const margin = { left: 78, right: 170, top: 40, bottom: 56 };
  const innerW = width - margin.left - margin.right;
  const innerH = height - margin.top - margin.bottom;
  const ty = (v: number) => (plot.logY ? Math.log10(Math.max(v, 1e-300)) : v);
  const points = plot.series.flatMap((s) => s.x.map((x, i) => [x, ty(s.y[i]!)] as const)).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x0 + 1];
  if (!(y1 > y0)) [y0, y1] = [y0 - 1, y0 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => margin.left + ((x - x0) / (x1 - x0)) * innerW;
  const sy = (y: number) => margin.top + innerH - ((y - y0) / (y1 - y0)) * innerH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${margin.left + innerW / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(plot.title)}</text>`);
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${sx(t)}" y1="${margin.top}" x2="${sx(t)}" y2="${margin.top + innerH}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${margin.top + innerH + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    out.push(`<line x1="${margin.left}" y1="${sy(t)}" x2="${margin.left + innerW}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${margin.left - 6}" y="${sy(t) + 4}" text-anchor="end">${plot.logY ? `1e${formatTick(t)}` : formatTick(t)}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${innerW}" height="${innerH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${margin.left + innerW / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(plot.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${margin.top + innerH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(plot.yLabel)}</text>`);
  plot.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    const path = s.x
      .map((x, i) => [x, ty(s.y[i]!)] as const)
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(2)},${sy(y).toFixed(2)}`)
      .join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (plot.markers) {
      s.x.forEach((x, i) => {
        const y = ty(s.y[i]!);
        if (Number.isFinite(x) && Number.isFinite(y)) out.push(`<circle cx="${sx(x).toFixed(2)}" cy="${sy(y).toFixed(2)}" r="3.5" fill="${color}"/>`);
      });
    }
    const ly = margin.top + 10 + k * 20;
    out.push(`<line x1="${margin.left + innerW + 14}" y1="${ly}" x2="${margin.left + innerW + 38}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${margin.left + innerW + 44}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
