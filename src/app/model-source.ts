/**
 * Opening a model for a command: `<spec-or-run>` → a ModelSource, a classifier or a hardware network, and
 * the argument helpers the commands share.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataError, SpecError } from '../base/errors.js';
import { makeRng } from '../base/rng.js';
import { loadDataset } from '../data/index.js';
import { classifierFor } from '../attacks/models/index.js';
import { buildTrainedNetwork } from '../hardware/estimate.js';
import type { TrainedNetwork } from '../hardware/adapter.js';
import type { ModelSource } from '../runs/model-source.js';
import '../families/index.js';
import type { DynamicsClassifier } from '../attacks/classifier.js';
import { liveTensorCount, useBackend, type BackendName } from '../tensor/index.js';
import { loadModel } from '../runs/model-store.js';
import { loadSpecFile } from '../spec/parse.js';
import type { ResolvedSpec } from '../spec/schema.js';

export interface LoadedSource {
  readonly source: ModelSource;
  readonly spec: ResolvedSpec;
  /** The run folder, when `<spec-or-run>` named one. */
  readonly runDir?: string;
}

/**
 * The one loader for `<spec-or-run>`: a sims/*.json spec (the model is built from it, e.g. Hopfield
 * prototypes from the training data), or a run folder (its spec.json, and the trained parameters in
 * model/ if the run saved any). `dataDir` overrides the spec's data folder. Whoever builds from the
 * source owns `source.trained.params`.
 */
export function loadModelSource(specOrRun: string, dataDir?: string, argument = '<spec-or-run>'): LoadedSource {
  if (!fs.existsSync(specOrRun)) throw new SpecError(argument, `${specOrRun} does not exist; pass a sims/*.json spec or a run folder`);
  const isFolder = fs.statSync(specOrRun).isDirectory();
  const specFile = isFolder ? path.join(specOrRun, 'spec.json') : specOrRun;
  if (isFolder && !fs.existsSync(specFile)) throw new SpecError(argument, `${specOrRun} is a folder without spec.json; pass a run folder written by neurodyn run, or a spec file`);
  const spec = loadSpecFile(specFile, dataDir !== undefined ? { dataDir } : {});
  const data = loadDataset(spec.data.name, spec.data.dataDir !== undefined ? { dataDir: spec.data.dataDir } : {});
  const hasModel = isFolder && fs.existsSync(path.join(specOrRun, 'model', 'model.json'));
  const trained = hasModel ? loadModel(specOrRun) : undefined;
  if (trained && trained.system.kind !== spec.system.kind) {
    tf.dispose(Object.values(trained.params));
    throw new DataError(
      `${specOrRun}: spec.json describes a ${spec.system.kind} system but model/model.json holds a ${trained.system.kind} model; the folder mixes two runs: restore spec.json of the run that trained the model`,
    );
  }
  const source: ModelSource = {
    origin: specOrRun,
    system: trained?.system ?? spec.system,
    run: spec.run,
    job: spec.job,
    data,
    ...(trained ? { trained: { params: trained.params, trainedBy: trained.trainedBy, ...(trained.meta ? { meta: trained.meta } : {}) } } : {}),
  };
  return { source, spec, ...(isFolder ? { runDir: specOrRun } : {}) };
}

/**
 * A family's hardware network from `<run-folder|spec>`, on the chosen backend (default the spec's). The
 * trained parameters are freed once the network is built (it copies what it needs).
 */
export async function loadTrainedNetwork(target: string, count: number, backend?: string, calibration?: number): Promise<{ trained: TrainedNetwork; spec: ResolvedSpec; runDir?: string }> {
  // The backend before the model: loading the parameters makes tensors (a missing spec is reported by loadModelSource).
  const specFile = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, 'spec.json') : target;
  const specBackend = fs.existsSync(specFile) ? loadSpecFile(specFile).backend : 'wasm';
  await useBackend(backend ?? specBackend, backend !== undefined ? '--backend' : 'backend');
  const loaded = loadModelSource(target, undefined, '<run-folder|spec>');
  try {
    const available = loaded.source.data.test.count;
    if (available === 0) throw new DataError(`the test split of ${loaded.spec.data.name} is empty; there is nothing to measure`);
    if (count > available) process.stderr.write(`neurodyn: note: --count ${count} is more than the ${available} test examples of ${loaded.spec.data.name}; using ${available}\n`);
    const trained = buildTrainedNetwork(loaded.source, makeRng(loaded.spec.seed), Math.min(count, available), calibration);
    return { trained, spec: loaded.spec, ...(loaded.runDir ? { runDir: loaded.runDir } : {}) };
  } finally {
    if (loaded.source.trained) for (const t of Object.values(loaded.source.trained.params)) t.dispose();
  }
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
