/**
 * The report page's script (bundled with Observable Plot into dist/browser/report.js and inlined into the
 * page by src/app/report/report.ts). It reads the JSON the page carries and lays it out; every chart is
 * drawn by the shared figure renderer, with pointer tips. It marks the document `data-ready` once every
 * chart is drawn, or `data-error` with the message, so the Chromium tests know when to look.
 */
import * as Plot from '@observablehq/plot';
import { colorOf, drawFigure, legendNames } from '../../../runs/plot/plot-figure.js';
import type { Figure } from '../../../runs/plot/figure.js';
import type { ReportRun } from '../../report/report-types.js';

interface ReportData {
  readonly generated: string;
  readonly runs: readonly ReportRun[];
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function legend(figure: Figure): Node | undefined {
  const names = legendNames(figure);
  if (names.length === 0) return undefined;
  if (figure.kind === 'heat') return undefined;
  const color = colorOf(figure);
  return Plot.legend({ color: { type: 'categorical', domain: names, range: names.map(color) }, swatchSize: 12 }) as unknown as Node;
}

function chart(figure: Figure, width: number): HTMLElement {
  const box = el('div', { class: 'chart', 'data-figure': figure.id });
  box.append(el('h3', {}, figure.title));
  if (figure.note) box.append(el('p', { class: 'note' }, figure.note));
  const l = legend(figure);
  if (l) box.append(l);
  if (figure.kind === 'heat') {
    box.append(Plot.legend({ color: { type: 'linear', scheme: 'viridis', domain: [...(figure.value.domain ?? [0, 1])], label: figure.value.label } }) as unknown as Node);
  }
  box.append(drawFigure(figure, { width, height: 320, interactive: true }) as unknown as SVGSVGElement);
  return box;
}

function table(rows: ReadonlyArray<readonly [string, string]>): HTMLTableElement {
  const t = el('table');
  for (const [k, v] of rows) t.append(el('tr', {}, el('td', {}, k), el('td', { class: 'v' }, v)));
  return t;
}

function comparison(runs: readonly ReportRun[]): HTMLElement {
  // Only what at least two of the runs report: the rest is in each run's own summary below.
  const keys = [...new Set(runs.flatMap((r) => r.summary.map(([k]) => k)))].filter((k) => k.startsWith('metrics.') && runs.filter((r) => r.summary.some(([key]) => key === k)).length >= 2);
  const t = el('table', { class: 'compare' });
  t.append(el('tr', {}, el('th', {}, 'summary'), ...runs.map((r) => el('th', {}, r.name))));
  for (const k of keys) {
    t.append(el('tr', {}, el('td', {}, k.slice('metrics.'.length)), ...runs.map((r) => el('td', { class: 'v' }, r.summary.find(([key]) => key === k)?.[1] ?? '—'))));
  }
  const body = keys.length ? t : el('p', { class: 'desc' }, 'These runs share no summary figure; each one’s summary is in its column below.');
  return el('section', {}, el('h2', {}, `${runs.length} runs side by side`), body);
}

function runSection(run: ReportRun, width: number): HTMLElement {
  const s = el('section', { class: 'run', 'data-run': run.name });
  s.append(el('h2', {}, run.name), el('div', { class: 'kind' }, `${run.kind} · ${run.dir}`));
  if (run.description) s.append(el('p', { class: 'desc' }, run.description));
  for (const w of run.warnings) s.append(el('div', { class: w.startsWith('No sign') ? 'warning ok' : 'warning' }, w));
  for (const f of run.figures) s.append(chart(f, width));
  for (const img of run.images) {
    s.append(el('figure', { class: 'img' }, el('img', { src: img.dataUri, alt: img.name }), el('figcaption', {}, `${img.name}: ${img.caption}`)));
  }
  s.append(el('h3', {}, 'Summary'), table(run.summary));
  if (run.spec !== undefined) s.append(el('details', {}, el('summary', {}, 'Resolved spec / settings'), el('pre', {}, JSON.stringify(run.spec, null, 2))));
  s.append(el('details', {}, el('summary', {}, `Files (${run.files.length})`), el('pre', {}, run.files.join('\n'))));
  return s;
}

function main(): void {
  const root = document.getElementById('report')!;
  try {
    const data = JSON.parse(document.getElementById('neurodyn-report-data')!.textContent!) as ReportData;
    root.textContent = '';
    if (data.runs.length > 1) root.append(comparison(data.runs));
    const grid = el('div', { class: 'runs' });
    root.append(grid);
    const columns = Math.max(1, Math.min(data.runs.length, Math.floor(root.clientWidth / 560)));
    const width = Math.max(480, Math.min(900, Math.floor(root.clientWidth / columns) - 24));
    for (const run of data.runs) grid.append(runSection(run, width));
    root.append(el('p', { class: 'kind' }, `Generated ${data.generated} by neurodyn report.`));
    document.documentElement.dataset.ready = String(document.querySelectorAll('.chart').length);
  } catch (e) {
    root.textContent = `The report could not be drawn: ${(e as Error).message}`;
    document.documentElement.dataset.error = (e as Error).message;
    throw e;
  }
}

main();
