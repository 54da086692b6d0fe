/**
 * A chart as data: what a run-folder picture or a report chart shows, independent of how it is drawn.
 * Jobs build figures from what they just computed, the report builds the same figures from the files the
 * jobs wrote, and one renderer (plot-figure.ts, Observable Plot) draws them: as a standalone SVG file in
 * Node and as an interactive chart in the report page.
 */
export interface Axis {
  readonly label: string;
  readonly type?: 'linear' | 'log';
  /** Fixed extent (e.g. [0, 1] for accuracies); default: the data's. */
  readonly domain?: readonly [number, number];
  /** The values are counts (epochs, steps): ticks fall on integers and read as integers. */
  readonly integer?: boolean;
}

export interface Series {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** Lower and upper ends of an interval around each y (drawn as error bars). */
  readonly lo?: readonly number[];
  readonly hi?: readonly number[];
  /** Drawn dashed (a secondary curve: training accuracy beside test accuracy, a bound). */
  readonly dashed?: boolean;
  /** Drawn wide and translucent beneath the others, so that a curve equal to another stays visible. */
  readonly underlay?: boolean;
}

export interface LineFigure {
  readonly kind: 'line';
  /** File-name-like identifier, unique within a report. */
  readonly id: string;
  readonly title: string;
  /** One or two sentences under the title: what is averaged, what the band means. */
  readonly note?: string;
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly Series[];
}

export interface HeatCell {
  readonly x: string;
  readonly y: string;
  readonly value: number;
}

export interface HeatFigure {
  readonly kind: 'heat';
  readonly id: string;
  readonly title: string;
  readonly note?: string;
  readonly x: { readonly label: string; readonly order?: readonly string[] };
  readonly y: { readonly label: string; readonly order?: readonly string[] };
  readonly value: { readonly label: string; readonly domain?: readonly [number, number] };
  readonly cells: readonly HeatCell[];
}

export interface BarRow {
  /** The bar's group (one cluster per group), e.g. a hardware profile. */
  readonly group: string;
  /** The part within the group, e.g. an energy term. */
  readonly part: string;
  readonly value: number;
}

export interface BarFigure {
  readonly kind: 'bar';
  readonly id: string;
  readonly title: string;
  readonly note?: string;
  readonly value: Axis;
  readonly rows: readonly BarRow[];
}

export type Figure = LineFigure | HeatFigure | BarFigure;

/** The palette, in series order (Tableau 10, which stays distinct for the colour-blind in its first six). */
export const SERIES_COLORS = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b', '#b07aa1', '#9c755f', '#ff9da7', '#76b7b2', '#edc948', '#bab0ac'] as const;

/** The name of every series of a figure, in the order their colours are assigned. */
export function legendNames(figure: Figure): string[] {
  if (figure.kind === 'line') return figure.series.map((s) => s.name);
  if (figure.kind === 'bar') return [...new Set(figure.rows.map((r) => r.part))];
  return [];
}

/** The colour of each legend name; beyond the palette colours repeat, and the dash pattern tells apart. */
export function colorOf(figure: Figure): (name: string) => string {
  const names = legendNames(figure);
  return (name) => SERIES_COLORS[Math.max(0, names.indexOf(name)) % SERIES_COLORS.length]!;
}
