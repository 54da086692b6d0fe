/**
 * `<spec-or-run>` of `neurodyn attack` and `neurodyn corrupt`: a sim spec file (the model is built from it,
 * e.g. Hopfield prototypes from the training data), or a run folder (its spec.json, and the trained
 * parameters in model/ if the run saved any).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { loadDataset } from '../../data/index.js';
import { classifierFor, type ModelSource } from '../../attacks/models/index.js';
import type { DynamicsClassifier } from '../../attacks/classifier.js';
import { liveTensorCount, useBackend, type BackendName } from '../../tensor/index.js';
import { loadModel } from '../../runs/model-store.js';
import { loadSpecFile } from '../../spec/parse.js';
import type { ResolvedSpec } from '../../spec/schema.js';

export interface LoadedSource {
  readonly source: ModelSource;
  readonly spec: ResolvedSpec;
}

export function loadModelSource(specOrRun: string, dataDir?: string): LoadedSource {
  if (!fs.existsSync(specOrRun)) throw new SpecError('<spec-or-run>', `${specOrRun} does not exist; pass a sims/*.json spec or a run folder`);
  const isFolder = fs.statSync(specOrRun).isDirectory();
  const specFile = isFolder ? path.join(specOrRun, 'spec.json') : specOrRun;
  if (isFolder && !fs.existsSync(specFile)) throw new SpecError('<spec-or-run>', `${specOrRun} is a folder without spec.json; pass a run folder written by neurodyn run, or a spec file`);
  const spec = loadSpecFile(specFile);
  const data = loadDataset(spec.data.name, dataDir ?? spec.data.dataDir ? { dataDir: dataDir ?? spec.data.dataDir! } : {});
  const hasModel = isFolder && fs.existsSync(path.join(specOrRun, 'model', 'model.json'));
  const trained = hasModel ? loadModel(specOrRun) : undefined;
  const source: ModelSource = {
    origin: specOrRun,
    system: trained?.system ?? spec.system,
    run: {
      ...(spec.run.integrator ? { integrator: spec.run.integrator } : {}),
      dt: spec.run.dt,
      maxSteps: spec.run.maxSteps,
      ...(spec.run.converge ? { converge: { tolerance: spec.run.converge.tolerance } } : {}),
      checkEvery: spec.run.checkEvery,
    },
    job: spec.job,
    data,
    ...(trained ? { trained: { params: trained.params, trainedBy: trained.trainedBy, ...(trained.meta ? { meta: trained.meta } : {}) } } : {}),
  };
  return { source, spec };
}

/** "0.05,0.1" → [0.05, 0.1], each a non-negative number. */
export function numberList(text: string, option: string): number[] {
  const values = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const out = values.map(Number);
  const bad = values.findIndex((s, i) => !(Number.isFinite(out[i]) && out[i]! >= 0) || s === '');
  if (values.length === 0 || bad >= 0) throw new SpecError(option, `expected a comma-separated list of non-negative numbers, got ${JSON.stringify(text)}`);
  return out;
}

export function positiveInteger(text: string | number | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(Number.isInteger(n) && n >= 1)) throw new SpecError(option, `must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** The default run folder: runs/<prefix>-<UTC time>. */
export function defaultRunFolder(prefix: string): string {
  return path.join('runs', `${prefix}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`);
}

export interface ModelCommandOptions {
  readonly backend?: string;
  readonly seed?: number;
  readonly dataDir?: string;
  readonly quiet?: boolean;
}

/** What `attack` and `corrupt` both start from: the backend, the seed, progress lines, and the classifier. */
export interface ModelCommandContext {
  readonly backend: BackendName;
  readonly seed: number;
  readonly say: (line: string) => void;
  /** Live tensors before the model was loaded: the classifier owns and frees its parameters, so a run that
   * disposes the classifier must end at this count. */
  readonly tensorsBefore: number;
  readonly source: ModelSource;
  readonly spec: ResolvedSpec;
  readonly classifier: DynamicsClassifier;
}

export async function openModelCommand(specOrRun: string, options: ModelCommandOptions): Promise<ModelCommandContext> {
  const backend = await useBackend(options.backend ?? 'wasm');
  const say = options.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const tensorsBefore = liveTensorCount();
  const { source, spec } = loadModelSource(specOrRun, options.dataDir);
  return { backend, seed: options.seed ?? 0, say, tensorsBefore, source, spec, classifier: classifierFor(source) };
}
