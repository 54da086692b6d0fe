/**
 * Draws a Figure with Observable Plot. The same marks serve the SVG files a run folder carries (rendered in
 * Node against linkedom's document, see svg.ts) and the report page (rendered in the browser, with a
 * pointer tip). Long series are decimated before drawing (decimate.ts). One-point series get markers, so a
 * one-epoch learning curve is a visible dot; intervals become error bars over a pale band; an `underlay` series is drawn
 * wide and pale beneath the rest, so a curve that coincides with it (the worst case under PGD) shows both.
 */
import * as Plot from '@observablehq/plot';
import { decimateMinMax, MAX_BUCKETS } from './decimate.js';
import { colorOf, legendNames, type BarFigure, type Figure, type HeatFigure, type LineFigure } from './figure.js';

/** What callers use of the drawn element, in both worlds (a DOM SVGSVGElement in the page, linkedom's in Node). */
export interface DrawnSvg {
  readonly outerHTML: string;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
}

export interface DrawOptions {
  readonly width: number;
  readonly height: number;
  /** A document to build the SVG in (Node has none of its own: linkedom's). */
  readonly document?: unknown;
  /** Add a pointer tip (interactive pages only). */
  readonly interactive?: boolean;
}

interface Row {
  readonly series: string;
  readonly x: number;
  readonly y: number;
  readonly lo?: number;
  readonly hi?: number;
}

/** Markers on every point of series at most this long (longer ones are plain lines). */
const MARKER_LIMIT = 40;

function lineMarks(figure: LineFigure, interactive: boolean): Plot.Markish[] {
  const color = colorOf(figure);
  const marks: Plot.Markish[] = [];
  const logY = figure.y.type === 'log';
  const drawable = (v: number) => Number.isFinite(v) && (!logY || v > 0);
  // A figure that went through JSON has null where it had NaN.
  const val = (v: number | null | undefined) => (typeof v === 'number' ? v : Number.NaN);
  const rowsOf = figure.series.map((s) => {
    const d = decimateMinMax(s.x, s.y.map(val), MAX_BUCKETS);
    const rows: Row[] = d.kept
      .map((i) => ({ series: s.name, x: val(s.x[i]), y: val(s.y[i]), ...(s.lo && s.hi ? { lo: val(s.lo[i]), hi: val(s.hi[i]) } : {}) }))
      .filter((r) => Number.isFinite(r.x) && drawable(r.y));
    return { s, rows, stroke: color(s.name) };
  });
  for (const { s, rows, stroke } of rowsOf) {
    if (s.underlay) marks.push(Plot.line(rows, { x: 'x', y: 'y', stroke, strokeWidth: 7, strokeOpacity: 0.3 }));
  }
  for (const { s, rows, stroke } of rowsOf) {
    const withInterval = rows.filter((r) => r.lo !== undefined && Number.isFinite(r.lo) && Number.isFinite(r.hi!));
    if (withInterval.length) {
      marks.push(Plot.ruleX(withInterval, { x: 'x', y1: 'lo', y2: 'hi', stroke, strokeWidth: 1.5 }));
      if (withInterval.length > 1) marks.push(Plot.areaY(withInterval, { x: 'x', y1: 'lo', y2: 'hi', fill: stroke, fillOpacity: 0.12 }));
    }
    if (!s.underlay) marks.push(Plot.line(rows, { x: 'x', y: 'y', stroke, strokeWidth: 2, ...(s.dashed ? { strokeDasharray: '6 4' } : {}) }));
    if (rows.length <= MARKER_LIMIT) marks.push(Plot.dot(rows, { x: 'x', y: 'y', stroke, fill: 'white', r: s.underlay ? 4.5 : 3, strokeWidth: 1.5 }));
  }
  if (interactive) {
    const all = rowsOf.flatMap((r) => r.rows);
    marks.push(Plot.tip(all, Plot.pointer({ x: 'x', y: 'y', title: (r: Row) => `${r.series}\n${figure.x.label}: ${r.x}\n${figure.y.label}: ${r.y.toPrecision(4)}${r.lo !== undefined && Number.isFinite(r.lo) ? `\n95%: [${r.lo.toPrecision(3)}, ${r.hi!.toPrecision(3)}]` : ''}` })));
  }
  return marks;
}

function heatMarks(figure: HeatFigure, interactive: boolean): Plot.Markish[] {
  const cells = figure.cells.filter((c) => Number.isFinite(c.value));
  const marks: Plot.Markish[] = [
    Plot.cell(cells, { x: 'x', y: 'y', fill: 'value', inset: 0.5 }),
    Plot.text(cells, { x: 'x', y: 'y', text: (c: { value: number }) => c.value.toFixed(2), fill: (c: { value: number }) => (c.value < 0.45 ? 'white' : 'black'), fontSize: 9 }),
  ];
  if (interactive) marks.push(Plot.tip(cells, Plot.pointer({ x: 'x', y: 'y', title: (c: { x: string; y: string; value: number }) => `${c.y}\n${figure.x.label}: ${c.x}\n${figure.value.label}: ${c.value.toFixed(4)}` })));
  return marks;
}

function barMarks(figure: BarFigure, interactive: boolean): Plot.Markish[] {
  const color = colorOf(figure);
  const marks: Plot.Markish[] = [Plot.barX(figure.rows, { y: 'group', x: 'value', fill: (r: { part: string }) => color(r.part) }), Plot.ruleX([0])];
  if (interactive) marks.push(Plot.tip(figure.rows, Plot.pointerY({ y: 'group', x: 'value', title: (r: { group: string; part: string; value: number }) => `${r.group}: ${r.part} ${r.value.toPrecision(4)}` })));
  return marks;
}

/** Longest label among ordinal values, in characters, for the margin that keeps it inside the frame. */
function longest(values: Iterable<string>): number {
  let n = 0;
  for (const v of values) n = Math.max(n, v.length);
  return n;
}

/**
 * An integer axis's domain and ticks: whole numbers only, at most about eight of them, and a single value
 * padded by half a unit either side (Plot would otherwise spread one value over fractional ticks).
 */
function integerAxis(values: readonly number[], fixed?: readonly [number, number]): { domain: [number, number]; ticks: number[] } {
  const finite = values.filter(Number.isFinite);
  let [lo, hi] = fixed ? [fixed[0], fixed[1]] : [Math.min(...finite), Math.max(...finite)];
  if (!finite.length && !fixed) [lo, hi] = [0, 1];
  if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  const first = Math.ceil(lo);
  const last = Math.floor(hi);
  const every = Math.max(1, Math.ceil((last - first + 1) / 8));
  const ticks: number[] = [];
  for (let v = first; v <= last; v += every) ticks.push(v);
  return { domain: [lo, hi], ticks };
}

/**
 * A domain around a single value (one point, or a constant series), 10% of it either side (±1 at 0), or
 * undefined when the values span a range. Plot would otherwise draw one tick reading the value to all its
 * digits, wide enough to run into the axis label.
 */
function flatDomain(values: ReadonlyArray<number | null>): [number, number] | undefined {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!finite.length || Math.min(...finite) !== Math.max(...finite)) return undefined;
  const v = finite[0]!;
  const pad = v === 0 ? 1 : Math.abs(v) * 0.1;
  return [v - pad, v + pad];
}

/** The figure as an SVG element (no title or legend: the caller lays those out, as HTML or as SVG text). */
export function drawFigure(figure: Figure, options: DrawOptions): DrawnSvg {
  const interactive = options.interactive ?? false;
  const common = { width: options.width, height: options.height, style: { fontSize: '11px', background: 'white' }, ...(options.document ? { document: options.document as never } : {}) };
  if (figure.kind === 'line') {
    const integerX = figure.x.integer ? integerAxis(figure.series.flatMap((s) => s.x), figure.x.domain) : undefined;
    const flatY = figure.y.domain ? undefined : flatDomain(figure.series.flatMap((s) => s.y));
    return Plot.plot({
      ...common,
      marginLeft: 60,
      marginBottom: 42,
      marginRight: 24,
      grid: true,
      x: {
        label: figure.x.label,
        labelAnchor: 'center',
        labelArrow: 'none',
        type: figure.x.type ?? 'linear',
        ...(figure.x.domain ? { domain: [...figure.x.domain] } : {}),
        // Plain numbers on a log axis: Plot's default SI prefixes read 0.001 as "1m".
        ...(figure.x.type === 'log' ? { tickFormat: '~g' } : {}),
        ...(integerX ? { domain: integerX.domain, ticks: integerX.ticks, tickFormat: (v: number) => String(v) } : {}),
      },
      y: { label: figure.y.label, labelAnchor: 'center', labelArrow: 'none', type: figure.y.type ?? 'linear', nice: true, ...(figure.y.domain ? { domain: [...figure.y.domain] } : {}), ...(flatY ? { domain: flatY } : {}), ...(figure.y.type === 'log' ? { tickFormat: '~g' } : {}) },
      marks: [Plot.frame({ stroke: '#ccc' }), ...lineMarks(figure, interactive)],
    }) as unknown as DrawnSvg;
  }
  if (figure.kind === 'heat') {
    const xs = figure.x.order ?? [...new Set(figure.cells.map((c) => c.x))];
    const ys = figure.y.order ?? [...new Set(figure.cells.map((c) => c.y))];
    return Plot.plot({
      ...common,
      height: Math.max(options.height, 40 + 18 * ys.length),
      marginLeft: Math.min(260, 12 + 6.5 * longest(ys)),
      marginBottom: 42,
      x: { label: figure.x.label, domain: [...xs], labelAnchor: 'center', labelArrow: 'none' },
      y: { label: null, domain: [...ys] },
      color: { type: 'linear', scheme: 'viridis', ...(figure.value.domain ? { domain: [...figure.value.domain] } : {}) },
      marks: heatMarks(figure, interactive),
    }) as unknown as DrawnSvg;
  }
  const groups = [...new Set(figure.rows.map((r) => r.group))];
  return Plot.plot({
    ...common,
    height: Math.max(options.height, 50 + 28 * groups.length),
    marginLeft: Math.min(260, 12 + 6.5 * longest(groups)),
    marginBottom: 42,
    x: { label: figure.value.label, labelAnchor: 'center', labelArrow: 'none', type: figure.value.type ?? 'linear', grid: true },
    y: { label: null, domain: groups },
    marks: barMarks(figure, interactive),
  }) as unknown as DrawnSvg;
}

export { legendNames, colorOf };
