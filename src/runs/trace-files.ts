/**
 * Recorded traces in a run folder: `traces/<trace>-<label>.npy` holds the values of one probe over one
 * relaxation, [records, examples, ...value shape] (or [records, ...] for a batch mean), and beside it
 * `traces/<trace>-<label>.json` says what they are: the probe (variable, every, reduce), the step index of
 * every record (the probes read after the initial state, after every `every`-th step and always after the
 * last step taken, so the last record may fall off the grid), the step size h of the relaxation, the
 * system, and which examples were relaxed under which condition. Exports (npz, NIRData) read the steps from
 * here instead of guessing them from the spec, so an every-10 probe is known to be sampled 10·h apart and
 * an irregular final record is known to be one.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Trace } from '../core/probes.js';
import { DataError } from '../base/errors.js';
import { decodeNpy, encodeNpy, type NpyData } from '../export/npy.js';
import type { RunFolder } from './run-folder.js';

/** The probe as recorded (defaults filled in). */
export interface RecordedProbe {
  readonly name: string;
  readonly variable: string;
  readonly every: number;
  readonly reduce: 'none' | 'mean';
}

export interface TraceRecord {
  /** File stem under traces/ (`<probe name>-<label>`). */
  readonly trace: string;
  readonly probe: RecordedProbe;
  /** Which relaxation of the run: e.g. 'noise-0.1', 'ep', 'after', 'clean', 'pgd-eps-0.1'. */
  readonly label: string;
  /** System kind that relaxed. */
  readonly system: string;
  /** Step size h of the relaxation (1 for discrete maps); a record at step k is at time k·h. */
  readonly dt: number;
  /** Step index of every record, increasing; record 0 is the initial state (step 0). */
  readonly steps: readonly number[];
  /** Shape of the values array: [records, ...]. */
  readonly shape: readonly number[];
  /** Test-set indices of the relaxed examples (the second axis when reduce is 'none'), where known. */
  readonly examples?: readonly number[];
  /** How the inputs were made: 'clean', a corruption and severity, or an attack at an ε. */
  readonly condition?: string;
  /** Label per example, where the job knows them. */
  readonly labels?: readonly number[];
}

export interface TraceContext {
  readonly label: string;
  readonly system: string;
  readonly dt: number;
  readonly probes: readonly { readonly name?: string; readonly variable: string; readonly every?: number; readonly reduce?: 'none' | 'mean' }[];
  readonly examples?: readonly number[];
  readonly condition?: string;
  readonly labels?: readonly number[];
}

const SAFE = /[^A-Za-z0-9_.=-]/g;

/** Writes every trace of a solve (values .npy + description .json); returns what was written. */
export function writeTraces(folder: RunFolder, traces: Readonly<Record<string, Trace>>, context: TraceContext): TraceRecord[] {
  const out: TraceRecord[] = [];
  for (const probe of context.probes) {
    const name = probe.name ?? probe.variable;
    const trace = traces[name];
    if (!trace) throw new Error(`internal error: probe ${JSON.stringify(name)} recorded nothing in relaxation ${context.label}`);
    const stem = `${name}-${context.label}`.replace(SAFE, '_');
    const values = trace.values.dataSync() as Float32Array;
    const record: TraceRecord = {
      trace: stem,
      probe: { name, variable: probe.variable, every: probe.every ?? 1, reduce: probe.reduce ?? 'none' },
      label: context.label,
      system: context.system,
      dt: context.dt,
      steps: [...trace.steps],
      shape: [...trace.values.shape],
      ...(context.examples ? { examples: [...context.examples] } : {}),
      ...(context.condition ? { condition: context.condition } : {}),
      ...(context.labels ? { labels: [...context.labels] } : {}),
    };
    folder.writeBytes(`traces/${stem}.npy`, encodeNpy(Float32Array.from(values), trace.values.shape));
    folder.writeJson(`traces/${stem}.json`, record);
    out.push(record);
  }
  return out;
}

export interface StoredTrace {
  readonly record: TraceRecord;
  readonly data: NpyData;
}

/**
 * The traces of a run folder with their descriptions. A `.npy` without its `.json` (a run folder written
 * before descriptions existed) is returned with `record` derived from what can be known: steps 0..records−1
 * under the spec's probe `every`, flagged by `guessed`.
 */
export function readTraces(runDir: string): (StoredTrace & { readonly guessed: boolean })[] {
  const dir = path.join(runDir, 'traces');
  if (!fs.existsSync(dir)) return [];
  const out: (StoredTrace & { guessed: boolean })[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.npy')).sort()) {
    const stem = file.replace(/\.npy$/, '');
    const npy = decodeNpy(fs.readFileSync(path.join(dir, file)));
    const described = path.join(dir, `${stem}.json`);
    if (fs.existsSync(described)) {
      let record: TraceRecord;
      try {
        record = JSON.parse(fs.readFileSync(described, 'utf8')) as TraceRecord;
      } catch (e) {
        throw new DataError(`${described} is not valid JSON (${(e as Error).message}); it describes ${file}`);
      }
      if (record.steps.length !== npy.shape[0]) throw new DataError(`${described} lists ${record.steps.length} steps but ${file} holds ${npy.shape[0]} records`);
      out.push({ record: { ...record, shape: npy.shape }, data: npy.data, guessed: false });
    } else {
      const records = npy.shape[0] ?? 1;
      out.push({
        record: { trace: stem, probe: { name: stem, variable: stem, every: 1, reduce: 'none' }, label: '', system: '', dt: 1, steps: Array.from({ length: records }, (_, i) => i), shape: npy.shape },
        data: npy.data,
        guessed: true,
      });
    }
  }
  return out;
}
