/**
 * `neurodyn report`: one self-contained HTML page for one or more run folders. The page carries everything
 * it needs inline (the data as JSON, the bundled Observable Plot and glue from dist/browser/report.js, the
 * styles, the PNG pictures as data URIs), so it opens from disk with no network. Every folder is read and
 * checked before anything is written, and the page is written atomically: bad input leaves no file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, SpecError } from '../../base/errors.js';
import { writeFileAtomic } from '../../runs/atomic-write.js';
import { readRunFolder } from './read-run.js';
import { reportRun } from './report-model.js';
import type { ReportRun } from './report-types.js';

/** The package's root: the nearest folder above this module with a package.json (from src/ or dist/src/). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** dist/browser/<name>.js, built by src/app/view/browser/build.mjs. */
export function browserBundle(name: 'report' | 'view'): string {
  const file = path.join(packageRoot(), 'dist', 'browser', `${name}.js`);
  if (!fs.existsSync(file)) throw new DataError(`the browser bundle ${file} is missing; run npm run build`);
  return fs.readFileSync(file, 'utf8');
}

/** JSON that may sit inside a <script> element (no "</script>", no "<!--"). */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; }
body { margin: 0 auto; padding: 16px 24px 48px; max-width: 1600px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 18px 0 6px; } h3 { font-size: 15px; margin: 14px 0 4px; }
.runs { display: grid; gap: 24px; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); align-items: start; }
.run { border-top: 3px solid #4e79a7; padding-top: 4px; min-width: 0; }
.kind { color: #666; font-size: 13px; } .desc { font-size: 13px; color: #444; max-width: 70em; }
.chart { margin: 10px 0 18px; } .chart h3 { margin-bottom: 0; } .chart .note { font-size: 12px; color: #555; margin: 2px 0 4px; }
.warning { background: #fff4e5; border-left: 4px solid #f28e2b; padding: 6px 10px; margin: 6px 0; font-size: 13px; }
.ok { background: #eef7ee; border-left-color: #59a14f; }
table { border-collapse: collapse; font-size: 12px; } td, th { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.v { font-variant-numeric: tabular-nums; word-break: break-all; }
figure.img { margin: 8px 0; } figure.img img { image-rendering: pixelated; max-width: 100%; border: 1px solid #ddd; } figcaption { font-size: 12px; color: #555; max-width: 60em; }
details { margin: 6px 0; } summary { cursor: pointer; font-size: 13px; } pre { font-size: 11px; background: #f7f7f7; padding: 8px; overflow: auto; max-height: 400px; }
.compare td.v { text-align: right; }
`;

export interface ReportOptions {
  readonly title?: string;
}

/** The page's HTML for already-read runs. */
export function renderReportHtml(runs: readonly ReportRun[], options: ReportOptions = {}): string {
  const title = options.title ?? (runs.length === 1 ? `neurodyn report: ${runs[0]!.name}` : `neurodyn report: ${runs.map((r) => r.name).join(' vs ')}`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1><div id="report">Drawing the charts… (this page needs JavaScript)</div>
<script id="neurodyn-report-data" type="application/json">${scriptSafeJson({ generated: new Date().toISOString(), runs })}</script>
<script>${browserBundle('report').replace(/<\/script/gi, '<\\/script')}</script>
</body></html>
`;
}

/** Reads every folder (failing before anything is written), renders the page, writes it atomically. */
export function writeReport(folders: readonly string[], out: string, options: ReportOptions = {}): { file: string; bytes: number; runs: readonly ReportRun[] } {
  if (folders.length === 0) throw new SpecError('<run-folder...>', 'pass at least one run folder');
  const file = path.resolve(out);
  const runs = folders.map((dir) => reportRun(readRunFolder(dir)));
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new SpecError('--out', `${file} is a folder; pass the path of the HTML file to write`);
  if (!fs.existsSync(path.dirname(file))) throw new SpecError('--out', `the folder ${path.dirname(file)} does not exist; create it or choose another --out`);
  const html = renderReportHtml(runs, options);
  writeFileAtomic(file, html);
  return { file, bytes: Buffer.byteLength(html), runs };
}

/** Default --out: report.html inside the one folder, or report-<a>-vs-<b>.html in the working folder. */
export function defaultReportPath(folders: readonly string[]): string {
  if (folders.length === 1) return path.join(folders[0]!, 'report.html');
  const names = folders.map((f) => path.basename(path.resolve(f)).replace(/[^A-Za-z0-9_.-]/g, '_'));
  return `report-${names.join('-vs-').slice(0, 120)}.html`;
}
