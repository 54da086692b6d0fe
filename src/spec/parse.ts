/**
 * Reading a spec: file → JSON → registry names → schema → cross-field checks. Every failure is one
 * SpecError naming the JSON path, the value found and what is allowed; nothing is run and nothing is
 * written before a spec has passed all of these.
 */
import fs from 'node:fs';
import type { z } from 'zod';
import { SpecError, UnknownNameError } from '../base/errors.js';
import { integrators } from '../core/integrators/index.js';
import { datasetNames } from '../data/index.js';
import { jobs, systems } from '../families/registry.js';
import { BACKEND_NAMES } from '../tensor/backend.js';
import { simSpecSchema, type ResolvedSpec } from './schema.js';

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** One line per zod issue: `path: what is wrong (got value)`. */
function formatIssue(issue: z.core.$ZodIssue, raw: unknown): { path: string; text: string } {
  const path = formatPath(issue.path);
  const got = valueAt(raw, issue.path);
  let what = issue.message;
  if (issue.code === 'invalid_type' && got === undefined) what = `required field is missing (expected ${issue.expected})`;
  else if (issue.code === 'unrecognized_keys') what = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  else if (issue.code === 'invalid_value') what = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  const showGot = issue.code !== 'unrecognized_keys' && !(issue.code === 'invalid_type' && got === undefined);
  return { path, text: showGot ? `${what}; got ${describeValue(got)}` : what };
}

/** One SpecError for a failed zod parse of `raw`: the first issue's path, then one line per other issue. */
export function specErrorFromIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): SpecError {
  const lines = issues.map((issue) => formatIssue(issue, raw));
  const first = lines[0]!;
  const rest = lines.slice(1).map((l) => `\n  ${l.path || '(top level)'}: ${l.text}`);
  return new SpecError(first.path || '(top level)', first.text + rest.join(''));
}

/** Names looked up in registries are checked first, so the error lists what is registered. */
function checkNames(raw: Record<string, unknown>): void {
  const sys = raw.system as Record<string, unknown> | undefined;
  if (sys && typeof sys === 'object' && typeof sys.kind === 'string' && !systems.has(sys.kind)) {
    throw new UnknownNameError('system.kind', 'system kind', sys.kind, systems.names());
  }
  const job = raw.job as Record<string, unknown> | undefined;
  if (job && typeof job === 'object' && typeof job.kind === 'string' && !jobs.has(job.kind)) {
    throw new UnknownNameError('job.kind', 'job kind', job.kind, jobs.names());
  }
  if (typeof raw.backend === 'string' && !(BACKEND_NAMES as readonly string[]).includes(raw.backend)) {
    throw new UnknownNameError('backend', 'backend', raw.backend, BACKEND_NAMES);
  }
  const data = raw.data as Record<string, unknown> | undefined;
  if (data && typeof data === 'object' && typeof data.name === 'string' && !datasetNames().includes(data.name)) {
    throw new UnknownNameError('data.name', 'dataset', data.name, datasetNames());
  }
  const run = raw.run as Record<string, unknown> | undefined;
  if (run && typeof run === 'object' && typeof run.integrator === 'string' && !integrators.has(run.integrator)) {
    throw new UnknownNameError('run.integrator', 'integrator', run.integrator, integrators.names());
  }
}

/** Checks that need more than one field: integrator vs system, probes vs system variables, job vs system. */
function checkConsistency(spec: ResolvedSpec): void {
  const system = systems.get(spec.system.kind);
  const job = jobs.get(spec.job.kind);
  if (!job.systems.includes(system.kind)) {
    throw new SpecError('job.kind', `job ${JSON.stringify(job.kind)} cannot drive system ${JSON.stringify(system.kind)}; it drives: ${job.systems.join(', ')}`);
  }
  const { kind: _kind, ...systemOptions } = spec.system;
  const variables = system.variables(systemOptions);
  spec.probes.forEach((p, i) => {
    if (!variables.includes(p.variable)) {
      throw new SpecError(`probes[${i}].variable`, `${JSON.stringify(p.variable)} is not a variable of ${system.kind}; allowed: ${variables.join(', ')}`);
    }
  });
  if (spec.probes.length > 0) {
    const support = typeof job.traces === 'function' ? job.traces(spec) : job.traces;
    if (support !== 'yes') {
      const first = spec.probes[0]!;
      const alternative = support.includes('relax') ? '' : ', or trace a trained run folder with `neurodyn relax <run-folder>`';
      throw new SpecError('probes[0]', `job ${JSON.stringify(job.kind)} cannot record probe ${JSON.stringify(first.name ?? first.variable)}: ${support.slice(4)}; remove the probes${alternative}`);
    }
  }
  const names = spec.probes.map((p) => p.name ?? p.variable);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new SpecError('probes', `two probes record into the trace ${JSON.stringify(dup)}; give one a different "name"`);
  if (spec.data.name === 'idx-folder' && !spec.data.dataDir) throw new SpecError('data.dataDir', 'dataset "idx-folder" needs a folder: set data.dataDir or pass --data-dir');
}

/** Validates a parsed JSON value as a spec. */
export function validateSpec(raw: unknown): ResolvedSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('', `a spec is a JSON object; got ${describeValue(raw)}`);
  checkNames(raw as Record<string, unknown>);
  const result = simSpecSchema().safeParse(raw);
  if (!result.success) throw specErrorFromIssues(result.error.issues, raw);
  const spec = result.data as unknown as ResolvedSpec;
  checkConsistency(spec);
  return spec;
}

/** Reads, parses and validates a spec file; the error names the file. */
export function loadSpecFile(file: string): ResolvedSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpecError('', `cannot read spec ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder, not a file' : (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SpecError('', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return validateSpec(raw);
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(`${file}: ${e.path}`, e.detail);
    throw e;
  }
}
