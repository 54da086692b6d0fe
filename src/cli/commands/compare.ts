import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { executeRun } from '../../app/execute.js';
import { loadSpecFile } from '../../spec/parse.js';
import { writeRunReport } from '../../app/report/after-run.js';

/** Jobs that train one network two ways and report both side by side. */
const COMPARISON_JOBS = ['ep-vs-bptt'];

export interface CompareOptions {
  readonly out?: string;
  readonly backend?: string;
  readonly seed?: number;
  readonly dataDir?: string;
  readonly quiet?: boolean;
  readonly resume?: boolean;
}

function percent(v: unknown): string {
  return typeof v === 'number' ? `${(100 * v).toFixed(2)}%` : String(v);
}

export async function compareCommand(specFile: string, options: CompareOptions): Promise<void> {
  const spec = loadSpecFile(specFile, options);
  if (!COMPARISON_JOBS.includes(spec.job.kind)) {
    throw new SpecError(`${specFile}: job.kind`, `neurodyn compare runs comparison jobs (${COMPARISON_JOBS.join(', ')}); this spec's job is ${JSON.stringify(spec.job.kind)}: use neurodyn run`);
  }
  const { folder, summary } = await executeRun(spec, { ...options, command: `neurodyn compare ${specFile}` });
  const m = summary.metrics;
  process.stdout.write(
    `${summary.spec} on ${summary.backend}, seed ${summary.seed}: EP test ${percent(m.ep_test_accuracy)} in ${m.ep_seconds} s, BPTT test ${percent(m.bptt_test_accuracy)} in ${m.bptt_seconds} s\n`,
  );
  process.stdout.write(`run folder ${path.relative(process.cwd(), folder) || '.'}/ (metrics.jsonl, summary.json, learning-curves.svg, model/, model-bptt/)\n`);
  writeRunReport(folder);
}
