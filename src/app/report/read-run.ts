/**
 * Reading a run folder back for the report: every file a job or command can write (see the jobs in src/families/<name>/ and
 * src/cli/commands/), each checked as it is read, so a folder that is not a run folder, a truncated
 * metrics line or a truncated trace is one DataError naming the file and what is wrong with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../base/errors.js';
import { decodeNpy } from '../../export/npy.js';
import type { MetricsRecord } from '../../runs/plot/run-figures.js';

export interface RunTrace {
  /** File name under traces/, without .npy. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

export interface RunContents {
  readonly dir: string;
  readonly name: string;
  /** The resolved spec (spec.json) of a `run`/`compare`, or the settings of an `attack`/`corrupt`. */
  readonly spec?: Readonly<Record<string, unknown>>;
  readonly settings?: Readonly<Record<string, unknown>>;
  readonly summary?: Readonly<Record<string, unknown>>;
  readonly metrics: readonly MetricsRecord[];
  readonly diagnostics?: Readonly<Record<string, unknown>>;
  readonly minPerturbation?: Readonly<Record<string, unknown>>;
  readonly traces: readonly RunTrace[];
  /** PNG pictures, name → bytes. */
  readonly images: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>;
  /** Trained models: the folder (model, model-bptt) and its model.json. */
  readonly models: ReadonlyArray<{ readonly dir: string; readonly record: Readonly<Record<string, unknown>> }>;
  /** Hardware estimates written by `neurodyn energy` into the folder (energy-<profiles>.json). */
  readonly energy: ReadonlyArray<{ readonly name: string; readonly record: Readonly<Record<string, unknown>> }>;
  /** Every file in the folder, relative (for the report's file list). */
  readonly files: readonly string[];
}

/** Files whose presence makes a folder a run folder (one of them at least). */
const RUN_MARKERS = ['summary.json', 'spec.json', 'metrics.jsonl'];

function readJson(file: string, what: string): Record<string, unknown> {
  const text = fs.readFileSync(file, 'utf8');
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new DataError(`${file}: ${what} is not a JSON object (${(e as Error).message}); the file is damaged or truncated — rerun the command that wrote it`);
  }
}

function readMetrics(file: string): MetricsRecord[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      throw new DataError(`${file}, line ${i + 1}: not a JSON record (${line.length > 60 ? `${line.slice(0, 60)}…` : line}); the file is truncated or damaged — rerun the command that wrote it`);
    }
  });
  return out;
}

function readTrace(file: string): RunTrace {
  const bytes = fs.readFileSync(file);
  // The header's own length (bytes 8–9, or 8–11 from format 2 on) says where the data begins.
  const headerEnd = bytes.length < 12 ? Infinity : bytes[6] === 1 ? 10 + bytes.readUInt16LE(8) : 12 + bytes.readUInt32LE(8);
  if (headerEnd > bytes.length) throw new DataError(`${file}: not a readable .npy array (the file ends inside its ${bytes.length < 12 ? '' : `${headerEnd}-byte `}header); the trace is truncated`);
  let decoded: ReturnType<typeof decodeNpy>;
  try {
    decoded = decodeNpy(bytes);
  } catch (e) {
    throw new DataError(`${file}: not a readable .npy array (${(e as Error).message.replace(/^npy: /, '')}); the trace is damaged or truncated`);
  }
  // decodeNpy refuses a body shorter or longer than the header's shape.
  return { name: path.basename(file, '.npy'), shape: decoded.shape, data: decoded.data };
}

function listFiles(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.join(prefix, e.name)) : [path.join(prefix, e.name)]))
    .sort();
}

export function readRunFolder(dir: string): RunContents {
  if (!fs.existsSync(dir)) throw new DataError(`${dir} does not exist; pass a run folder written by neurodyn run, compare, attack or corrupt`);
  if (!fs.statSync(dir).isDirectory()) throw new DataError(`${dir} is a file, not a run folder; pass the folder written by neurodyn run, compare, attack or corrupt`);
  const has = (f: string) => fs.existsSync(path.join(dir, f));
  if (!RUN_MARKERS.some(has)) {
    throw new DataError(`${dir} is not a run folder: it holds none of ${RUN_MARKERS.join(', ')}; pass a folder written by neurodyn run, compare, attack or corrupt`);
  }
  const files = listFiles(dir);
  const json = (f: string, what: string) => (has(f) ? readJson(path.join(dir, f), what) : undefined);
  const settings = json('attack.json', 'the attack settings') ?? json('corrupt.json', 'the corruption settings');
  const traces = files.filter((f) => f.startsWith(`traces${path.sep}`) && f.endsWith('.npy')).map((f) => readTrace(path.join(dir, f)));
  const models = files
    .filter((f) => path.basename(f) === 'model.json')
    .map((f) => ({ dir: path.dirname(f), record: readJson(path.join(dir, f), 'the model record') }));
  const images = files.filter((f) => f.endsWith('.png')).map((name) => ({ name, bytes: new Uint8Array(fs.readFileSync(path.join(dir, name))) }));
  const spec = json('spec.json', 'the resolved spec');
  const summary = json('summary.json', 'the summary');
  const diagnostics = json('diagnostics.json', 'the attractor diagnostics');
  const minPerturbation = json('min-perturbation.json', 'the minimal perturbations');
  return {
    dir,
    name: path.basename(path.resolve(dir)),
    ...(spec ? { spec } : {}),
    ...(settings ? { settings } : {}),
    ...(summary ? { summary } : {}),
    metrics: has('metrics.jsonl') ? readMetrics(path.join(dir, 'metrics.jsonl')) : [],
    ...(diagnostics ? { diagnostics } : {}),
    ...(minPerturbation ? { minPerturbation } : {}),
    traces,
    images,
    models,
    energy: files.filter((f) => /^energy-.*\.json$/.test(f)).map((name) => ({ name, record: readJson(path.join(dir, name), 'the hardware estimate') })),
    files,
  };
}
