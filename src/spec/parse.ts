/**
 * Reading a spec: file → JSON → registry names → schema → cross-field checks. Every failure is one
 * SpecError naming the JSON path, the value found and what is allowed; nothing is run and nothing is
 * written before a spec has passed all of these.
 */
import fs from 'node:fs';
import type { z } from 'zod';
import { SpecError, UnknownNameError } from '../base/errors.js';
import { integrators } from '../core/integrators/index.js';
import { datasetEntry, datasetNames } from '../data/index.js';
import { didYouMean } from '../base/suggest.js';
import { jobs, systems } from '../families/registry.js';
import { BACKEND_NAMES } from '../tensor/backend.js';
import { simSpecSchema, type ResolvedSpec } from './schema.js';
import { memoryBudgetErrors } from './memory-budget.js';

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

/** The object schema a zod issue's path lands in (through defaults, optionals, arrays and discriminated unions). */
function objectSchemaAt(schema: unknown, path: readonly PropertyKey[], raw: unknown): { shape: Record<string, unknown> } | undefined {
  let node = schema as { _zod: { def: Record<string, any> } } | undefined;
  let value: unknown = raw;
  const unwrap = () => {
    for (;;) {
      const def = node?._zod?.def;
      if (!def) return;
      if (['default', 'optional', 'nullable', 'prefault', 'readonly'].includes(def.type)) node = def.innerType;
      else if (def.type === 'pipe') node = def.in;
      else if (def.type === 'union' && def.discriminator && value && typeof value === 'object') {
        const kind = (value as Record<string, unknown>)[def.discriminator];
        node = (def.options as any[]).find((o) => (o._zod.def.shape?.[def.discriminator]?._zod.def.values ?? []).includes(kind));
      } else return;
    }
  };
  unwrap();
  for (const key of path) {
    const def = node?._zod?.def;
    if (!def) return undefined;
    if (def.type === 'object') node = def.shape[key as string];
    else if (def.type === 'array') node = def.element;
    else return undefined;
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    unwrap();
  }
  const def = node?._zod?.def;
  return def?.type === 'object' ? { shape: def.shape } : undefined;
}

/** One line per zod issue: `path: what is wrong (got value)`; unknown fields get a did-you-mean. */
function formatIssue(issue: z.core.$ZodIssue, raw: unknown, schema: unknown): { path: string; text: string } {
  const path = formatPath(issue.path);
  const got = valueAt(raw, issue.path);
  let what = issue.message;
  if (issue.code === 'invalid_type' && got === undefined) what = `required field is missing (expected ${issue.expected})`;
  else if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(objectSchemaAt(schema, issue.path, raw)?.shape ?? {});
    const named = issue.keys.map((k) => `${JSON.stringify(k)}${didYouMean(k, known).replace(/^; /, ' (').replace(/\?$/, '?)')}`);
    what = `unknown field${issue.keys.length > 1 ? 's' : ''} ${named.join(', ')}${known.length ? `; allowed here: ${known.join(', ')}` : ''}`;
  } else if (issue.code === 'invalid_value') what = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  const showGot = issue.code !== 'unrecognized_keys' && !(issue.code === 'invalid_type' && got === undefined);
  return { path: path || '(top level)', text: showGot ? `${what}; got ${describeValue(got)}` : what };
}

/** One SpecError for every problem found: the first one's path, then one line per other problem. */
function specErrorFromLines(lines: readonly { path: string; text: string }[]): SpecError {
  const first = lines[0]!;
  const rest = lines.slice(1).map((l) => `\n  ${l.path}: ${l.text}`);
  return new SpecError(first.path, first.text + rest.join(''));
}

/** One SpecError for a failed zod parse of `raw` by `schema`: the first issue's path, then one line per other issue. */
export function specErrorFromIssues(issues: readonly z.core.$ZodIssue[], raw: unknown, schema: unknown = simSpecSchema()): SpecError {
  return specErrorFromLines(issues.map((issue) => formatIssue(issue, raw, schema)));
}

const lineOf = (e: SpecError) => ({ path: e.path || '(top level)', text: e.detail });

/** Names looked up in registries are checked first, so the error lists what is registered. */
function checkNames(raw: Record<string, unknown>): SpecError[] {
  const found: SpecError[] = [];
  const sys = raw.system as Record<string, unknown> | undefined;
  if (sys && typeof sys === 'object' && typeof sys.kind === 'string' && !systems.has(sys.kind)) {
    found.push(new UnknownNameError('system.kind', 'system kind', sys.kind, systems.names()));
  }
  const job = raw.job as Record<string, unknown> | undefined;
  if (job && typeof job === 'object' && typeof job.kind === 'string' && !jobs.has(job.kind)) {
    found.push(new UnknownNameError('job.kind', 'job kind', job.kind, jobs.names()));
  }
  if (typeof raw.backend === 'string' && !(BACKEND_NAMES as readonly string[]).includes(raw.backend)) {
    found.push(new UnknownNameError('backend', 'backend', raw.backend, BACKEND_NAMES));
  }
  const data = raw.data as Record<string, unknown> | undefined;
  if (data && typeof data === 'object' && typeof data.name === 'string' && !datasetNames().includes(data.name)) {
    found.push(new UnknownNameError('data.name', 'dataset', data.name, datasetNames()));
  }
  const run = raw.run as Record<string, unknown> | undefined;
  if (run && typeof run === 'object' && typeof run.integrator === 'string' && !integrators.has(run.integrator)) {
    found.push(new UnknownNameError('run.integrator', 'integrator', run.integrator, integrators.names()));
  }
  return found;
}

/** Runs each check, collecting its SpecError instead of stopping at the first. */
function collect(found: SpecError[], ...checks: (() => void)[]): void {
  for (const check of checks) {
    try {
      check();
    } catch (e) {
      if (e instanceof SpecError) found.push(e);
      else throw e;
    }
  }
}

/**
 * Checks that need more than one field: integrator vs system, probes vs system variables, job vs system,
 * the data folder vs the dataset, and the job's own check (JobEntry.check) with the data's shape.
 */
function checkConsistency(spec: ResolvedSpec): SpecError[] {
  const found: SpecError[] = [];
  const system = systems.get(spec.system.kind);
  const job = jobs.get(spec.job.kind);
  const drives = job.systems.includes(system.kind);
  if (!drives) found.push(new SpecError('job.kind', `job ${JSON.stringify(job.kind)} cannot drive system ${JSON.stringify(system.kind)}; it drives: ${job.systems.join(', ')}`));
  const { kind: _kind, ...systemOptions } = spec.system;
  const variables = system.variables(systemOptions);
  spec.probes.forEach((p, i) => {
    if (!variables.includes(p.variable)) {
      found.push(new SpecError(`probes[${i}].variable`, `${JSON.stringify(p.variable)} is not a variable of ${system.kind}; allowed: ${variables.join(', ')}`));
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
  if (dup) found.push(new SpecError('probes', `two probes record into the trace ${JSON.stringify(dup)}; give one a different "name"`));
  const dataset = datasetEntry(spec.data.name)!;
  if (spec.data.dataDir !== undefined && !dataset.readsDataDir) {
    found.push(new SpecError('data.dataDir', `dataset ${JSON.stringify(spec.data.name)} is bundled and reads no folder, so a data folder (data.dataDir or --data-dir) would be ignored; remove it, or set data.name to "idx-folder" (or "fashion-mnist") to read ${JSON.stringify(spec.data.dataDir)}`));
  }
  if (spec.data.name === 'idx-folder' && !spec.data.dataDir) found.push(new SpecError('data.dataDir', 'dataset "idx-folder" needs a folder: set data.dataDir or pass --data-dir'));
  if (drives && job.check) collect(found, () => job.check!(spec, system, dataset.shape));
  found.push(...memoryBudgetErrors(spec, dataset.shape));
  return found;
}

/** Validates a parsed JSON value as a spec; every problem found is in the one SpecError it throws. */
export function validateSpec(raw: unknown): ResolvedSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('', `a spec is a JSON object; got ${describeValue(raw)}`);
  const nameErrors = checkNames(raw as Record<string, unknown>);
  const result = simSpecSchema().safeParse(raw);
  // A section whose kind is unknown cannot have its options checked: its issues would only repeat that.
  const unknownSections = nameErrors.filter((e) => e.path.endsWith('.kind')).map((e) => e.path.slice(0, -'.kind'.length));
  const issues = result.success
    ? []
    : result.error.issues.filter((issue) => {
        const p = formatPath(issue.path);
        return !nameErrors.some((e) => e.path === p) && !unknownSections.some((section) => p === section || p.startsWith(`${section}.`));
      });
  const schema = simSpecSchema();
  const lines = [...nameErrors.map(lineOf), ...issues.map((issue) => formatIssue(issue, raw, schema))];
  if (lines.length > 0) throw specErrorFromLines(lines);
  const spec = result.data as unknown as ResolvedSpec;
  const found = checkConsistency(spec);
  if (found.length > 0) throw specErrorFromLines(found.map(lineOf));
  return spec;
}

/** Command-line values that replace the spec's own; applied before validation, so they are checked like the spec. */
export interface SpecOverrides {
  readonly backend?: string;
  readonly seed?: number;
  readonly dataDir?: string;
}

/** The raw spec with the overrides in place (before validation). */
export function withOverrides(raw: unknown, overrides: SpecOverrides): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const spec = raw as Record<string, unknown>;
  const data = spec.data !== null && typeof spec.data === 'object' && !Array.isArray(spec.data) ? (spec.data as Record<string, unknown>) : {};
  return {
    ...spec,
    ...(overrides.backend !== undefined ? { backend: overrides.backend } : {}),
    ...(overrides.seed !== undefined ? { seed: overrides.seed } : {}),
    ...(overrides.dataDir !== undefined ? { data: { ...data, dataDir: overrides.dataDir } } : {}),
  };
}

/** Reads, parses and validates a spec file (with command-line overrides applied first); the error names the file. */
export function loadSpecFile(file: string, overrides: SpecOverrides = {}): ResolvedSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpecError('', `cannot read spec ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder, not a file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SpecError('', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return validateSpec(withOverrides(raw, overrides));
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(`${file}: ${e.path}`, e.detail);
    throw e;
  }
}
