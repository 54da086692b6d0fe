import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { compareExamples, formatComparison, readExamples } from '../../attacks/per-example.js';
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

export async function compareCommand(specFile: string, other: string | undefined, options: CompareOptions): Promise<void> {
  if (fs.existsSync(specFile) && fs.statSync(specFile).isDirectory()) return compareAttackFolders(specFile, other, options);
  if (other !== undefined) throw new SpecError('compare', `a second argument (${JSON.stringify(other)}) is for comparing two attack run folders; ${specFile} is a spec`);
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

/**
 * Two `neurodyn attack` run folders of the same model, example by example (their examples.jsonl): robust
 * counts per ε and every (example, ε) whose verdict differs, with the attacks that broke it on each side.
 * With --out, the comparison is also written as JSON.
 */
function compareAttackFolders(a: string, b: string | undefined, options: CompareOptions): void {
  if (b === undefined) throw new SpecError('compare', `${a} is a folder: give a second attack run folder to compare it with (neurodyn compare <attack-folder> <attack-folder>)`);
  const left = readExamples(a);
  const right = readExamples(b);
  const comparison = compareExamples(left.rows, right.rows);
  process.stdout.write(`${formatComparison(comparison, a, b)}\n`);
  if (options.out) {
    fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
    fs.writeFileSync(options.out, `${JSON.stringify({ a, b, settings: { a: left.settings, b: right.settings }, ...comparison }, null, 2)}\n`);
    process.stdout.write(`comparison written to ${options.out}\n`);
  }
}
