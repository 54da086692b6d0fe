/**
 * A Figure as a standalone SVG file, for the pictures a run folder carries. The chart itself is Observable
 * Plot's (plot-figure.ts), built in Node against linkedom's document; around it this file lays out what a
 * file needs and a page would do in HTML: the title and note, wrapped to the width, and the legend as rows
 * of swatches that wrap instead of running off the edge. Text widths are estimated (no font metrics in
 * Node) at 0.62 em per character, above the average of Helvetica and DejaVu Sans, so estimates err wide;
 * test/app/report checks every text box of every picture inside its SVG in Chromium.
 */
import { parseHTML } from 'linkedom';
import { drawFigure, colorOf, legendNames } from './plot-figure.js';
import type { Figure } from './figure.js';

const EM = 0.62;
const FONT = 'Helvetica, Arial, sans-serif';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Splits text into lines of at most `width` pixels at `size` px (words longer than a line are cut). */
export function wrapText(text: string, width: number, size: number): string[] {
  const perLine = Math.max(8, Math.floor(width / (EM * size)));
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let w = word;
    while (w.length > perLine) {
      if (line) lines.push(line);
      lines.push(w.slice(0, perLine - 1) + '-');
      w = w.slice(perLine - 1);
      line = '';
    }
    if (!line) line = w;
    else if (line.length + 1 + w.length <= perLine) line += ` ${w}`;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export interface SvgOptions {
  readonly width?: number;
  readonly height?: number;
}

/** The figure as the text of an SVG file. */
export function renderFigureSvg(figure: Figure, options: SvgOptions = {}): string {
  const width = options.width ?? 760;
  const plotHeight = options.height ?? 400;
  const pad = 12;
  const parts: string[] = [];
  let y = pad;
  for (const line of wrapText(figure.title, width - 2 * pad, 15)) {
    y += 18;
    parts.push(`<text x="${pad}" y="${y}" font-size="15" font-weight="600">${escapeXml(line)}</text>`);
  }
  if (figure.note) {
    y += 2;
    for (const line of wrapText(figure.note, width - 2 * pad, 12)) {
      y += 15;
      parts.push(`<text x="${pad}" y="${y}" font-size="12" fill="#555">${escapeXml(line)}</text>`);
    }
  }
  y += 6;
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const chart = drawFigure(figure, { width, height: plotHeight, document });
  const chartHeight = Number(chart.getAttribute('height'));
  chart.setAttribute('y', String(y));
  chart.setAttribute('x', '0');
  parts.push(chart.outerHTML);
  y += chartHeight;
  const names = legendNames(figure);
  if (names.length > 1 || (figure.kind === 'line' && names.length === 1)) {
    const color = colorOf(figure);
    const dashed = new Set(figure.kind === 'line' ? figure.series.filter((s) => s.dashed).map((s) => s.name) : []);
    let x = pad;
    y += 20;
    for (const name of names) {
      const w = 30 + Math.ceil(EM * 12 * name.length) + 18;
      if (x + w > width - pad && x > pad) {
        x = pad;
        y += 20;
      }
      const c = color(name);
      parts.push(
        figure.kind === 'bar'
          ? `<rect x="${x}" y="${y - 9}" width="22" height="10" fill="${c}"/>`
          : `<line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${y - 4}" stroke="${c}" stroke-width="2.5"${dashed.has(name) ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      parts.push(`<text x="${x + 28}" y="${y}" font-size="12">${escapeXml(name)}</text>`);
      x += w;
    }
    y += 10;
  }
  const height = Math.ceil(y + pad);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">\n<rect width="${width}" height="${height}" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
