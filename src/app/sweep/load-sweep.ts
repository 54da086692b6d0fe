/**
 * Reading a sweep: file → JSON → sweep schema → base spec → one resolved, validated spec per trial. Every
 * failure is one SpecError naming the file, the JSON path and what is allowed, as for specs; every trial's
 * spec is validated here, so a parameter value the base spec cannot take is reported before anything runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { loadSpecFile, specErrorFromIssues, validateSpec } from '../../spec/parse.js';
import type { ResolvedSpec } from '../../spec/schema.js';
import { parseJsonPath, setAtPath, type PathKey } from './json-path.js';
import { configurations, type Configuration } from './space.js';
import { sweepSchema, type SweepSpec } from './sweep-schema.js';
import { trialId } from './trial-id.js';

export interface PlannedTrial {
  readonly id: string;
  /** Index of its configuration in the sweep's list (grid order or draw order). */
  readonly configIndex: number;
  readonly config: Configuration;
  readonly seed: number;
  readonly spec: ResolvedSpec;
}

export interface LoadedSweep {
  readonly file: string;
  readonly sweep: SweepSpec;
  readonly base: ResolvedSpec;
  /** Every trial the sweep may run, in launch order (configuration-major, then seed), after runCap. */
  readonly trials: readonly PlannedTrial[];
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpecError('', `cannot read ${what} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder, not a file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SpecError('', `${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function describe(config: Configuration, seed: number): string {
  const parts = Object.entries(config).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `{${[...parts, `seed=${seed}`].join(', ')}}`;
}

/** Validates a parsed sweep; `dir` is where a base given as a path is looked up. */
export function validateSweep(raw: unknown, dir: string): Omit<LoadedSweep, 'file'> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('', `a sweep is a JSON object; got ${JSON.stringify(raw)}`);
  const parsed = sweepSchema.safeParse(raw);
  if (!parsed.success) throw specErrorFromIssues(parsed.error.issues, raw, sweepSchema);
  const sweep = parsed.data;
  let base: ResolvedSpec;
  try {
    base = typeof sweep.base === 'string' ? loadSpecFile(path.resolve(dir, sweep.base)) : validateSpec(sweep.base);
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(`base${e.path ? ` (${e.path})` : ''}`, e.detail);
    throw e;
  }
  const { $schema: _schema, ...baseData } = base;
  const paths: [string, PathKey[]][] = Object.keys(sweep.parameters).map((p) => [p, parseJsonPath(p, `parameters["${p}"]`)]);
  for (const [p, keys] of paths) if (keys[0] === 'seed') throw new SpecError(`parameters["${p}"]`, 'the seed is swept by "seeds", which every configuration runs with; remove it from parameters');
  const trials: PlannedTrial[] = [];
  const seen = new Set<string>();
  configurations(sweep).forEach((config, configIndex) => {
    let spec: unknown = baseData;
    for (const [p, keys] of paths) spec = setAtPath(spec, keys, config[p], `parameters["${p}"]`);
    for (const seed of sweep.seeds) {
      let resolved: ResolvedSpec;
      try {
        resolved = validateSpec({ ...(spec as object), seed });
      } catch (e) {
        if (e instanceof SpecError) throw new SpecError(`parameters (configuration ${describe(config, seed)})`, `gives an invalid spec: ${e.message}`);
        throw e;
      }
      const id = trialId(resolved);
      if (seen.has(id)) continue;
      seen.add(id);
      trials.push({ id, configIndex, config, seed, spec: resolved });
    }
  });
  return { sweep, base, trials: sweep.runCap !== undefined ? trials.slice(0, sweep.runCap) : trials };
}

export function loadSweepFile(file: string): LoadedSweep {
  const raw = readJson(file, 'sweep');
  try {
    return { file: path.resolve(file), ...validateSweep(raw, path.dirname(path.resolve(file))) };
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(`${file}: ${e.path}`, e.detail);
    throw e;
  }
}
