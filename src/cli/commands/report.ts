import path from 'node:path';
import { checkOutputPath } from '../../runs/output-path.js';
import { defaultReportPath, writeReport } from '../../app/report/report.js';

export interface ReportCommandOptions {
  readonly out?: string;
  readonly title?: string;
}

export function reportCommand(folders: string[], options: ReportCommandOptions): void {
  const out = options.out !== undefined ? checkOutputPath(options.out, '--out') : defaultReportPath(folders);
  const { file, bytes, runs } = writeReport(folders, out, options.title !== undefined ? { title: options.title } : {});
  const charts = runs.reduce((n, r) => n + r.figures.length, 0);
  process.stdout.write(`report ${path.relative(process.cwd(), file) || file}: ${runs.length} run folder${runs.length > 1 ? 's' : ''}, ${charts} charts, ${(bytes / 1024).toFixed(0)} KiB, self-contained (open it in any browser)\n`);
}
