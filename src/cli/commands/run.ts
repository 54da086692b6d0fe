import path from 'node:path';
import fs from 'node:fs';
import { executeRun } from '../../app/execute.js';
import { loadSpecFile } from '../../spec/parse.js';
import { writeRunReport } from '../../app/report/after-run.js';

export interface RunOptions {
  readonly out?: string;
  readonly backend?: string;
  readonly seed?: number;
  readonly dataDir?: string;
  readonly quiet?: boolean;
  readonly resume?: boolean;
}

/** Top-level entries of the run folder, with the number of files in each subfolder. */
function contents(folder: string): string {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? `${e.name}/ (${fs.readdirSync(path.join(folder, e.name)).length} files)` : e.name))
    .sort()
    .join(', ');
}

export async function runCommand(specFile: string, options: RunOptions): Promise<void> {
  const spec = loadSpecFile(specFile, options);
  const { folder, summary } = await executeRun(spec, { ...options, command: `neurodyn run ${specFile}` });
  const relative = path.relative(process.cwd(), folder) || '.';
  process.stdout.write(`${summary.spec} on ${summary.backend}, seed ${summary.seed}: ${summary.seconds.toFixed(1)} s\n`);
  process.stdout.write(`run folder ${relative}/: ${contents(folder)}\n`);
  writeRunReport(folder);
}
