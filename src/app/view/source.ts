/**
 * The live view's model, from a run folder (spec.json and the trained parameters in model/) or a spec
 * (families whose parameters come from the data, like Hopfield's stored prototypes): the manifest the page
 * reads, the parameter tensors' bytes it fetches, and the test examples. Everything is checked here, before
 * the server listens, so a folder that is not a run folder or a model the view cannot show is one message.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataError, SpecError } from '../../base/errors.js';
import { binaryClassPrototypes, loadDataset } from '../../data/index.js';
import { CORRUPTIONS } from '../../data/corruptions.js';
import { loadModel } from '../../runs/model-store.js';
import { loadSpecFile } from '../../spec/parse.js';
import { storePatterns } from '../../families/hopfield/system.js';
import { attackUnavailable } from './adversarial.js';
import { VIEW_ATTACKS, type ViewManifest } from './manifest.js';
import { viewableKinds, viewModel } from './view-model.js';

export interface ViewSource {
  readonly manifest: ViewManifest;
  /** float32 bytes of each parameter, in manifest order. */
  readonly paramBytes: readonly Uint8Array[];
  /** float32 bytes of the examples [count, h·w]. */
  readonly exampleBytes: Uint8Array;
  /** The parameters as tensors (for the server's own relaxations); the caller disposes them. */
  readonly params: Record<string, tf.Tensor>;
  readonly images: Float32Array;
}

/** Test examples the page can pick from (the first ones of the test split). */
export const VIEW_EXAMPLES = 100;

function bytesOf(t: tf.Tensor): Uint8Array {
  const data = t.dataSync() as Float32Array;
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export function loadViewSource(specOrRun: string, dataDir?: string): ViewSource {
  if (!fs.existsSync(specOrRun)) throw new SpecError('<spec-or-run>', `${specOrRun} does not exist; pass a run folder (with a trained model) or a sims/*.json spec`);
  const isFolder = fs.statSync(specOrRun).isDirectory();
  const specFile = isFolder ? path.join(specOrRun, 'spec.json') : specOrRun;
  if (isFolder && !fs.existsSync(specFile)) {
    throw new DataError(`${specOrRun} is not a run folder of a model: it has no spec.json (attack and corrupt folders hold no model); pass the folder written by neurodyn run`);
  }
  const spec = loadSpecFile(specFile, dataDir !== undefined ? { dataDir } : {});
  const kind = spec.system.kind;
  if (!viewableKinds.includes(kind)) throw new DataError(`${specOrRun}: the live view cannot show ${kind} models; it shows ${viewableKinds.join(', ')}`);
  const data = loadDataset(spec.data.name, spec.data.dataDir !== undefined ? { dataDir: spec.data.dataDir } : {});
  const { test, train } = data;
  let params: Record<string, tf.Tensor>;
  let head: unknown;
  let system = spec.system as ViewManifest['system'];
  if (kind === 'hopfield') {
    const job = spec.job as { prototypeThreshold?: number; rule?: 'hebbian' | 'projection' };
    const prototypes = binaryClassPrototypes(train, job.prototypeThreshold ?? 0.4);
    params = { ...storePatterns(prototypes, job.rule ?? 'projection'), prototypes };
  } else {
    if (!isFolder || !fs.existsSync(path.join(specOrRun, 'model', 'model.json'))) {
      throw new DataError(`${specOrRun}: a ${kind} model must be trained first; run its spec with neurodyn run and pass the run folder`);
    }
    const model = loadModel(specOrRun);
    params = model.params;
    system = model.system;
    head = model.meta?.head;
  }
  const count = Math.min(VIEW_EXAMPLES, test.count);
  const pixels = test.height * test.width;
  const images = test.images.slice(0, count * pixels);
  const names = Object.keys(params).sort();
  const base: Omit<ViewManifest, 'attacks'> = {
    title: `${spec.name}: ${kind}`,
    origin: path.resolve(specOrRun),
    system,
    imageShape: [test.height, test.width],
    run: { ...(spec.run.integrator ? { integrator: spec.run.integrator } : {}), dt: spec.run.dt, maxSteps: spec.run.maxSteps },
    params: names.map((name) => ({ name, shape: params[name]!.shape })),
    ...(head !== undefined ? { head } : {}),
    classNames: test.classNames,
    examples: { count, labels: Array.from(test.labels.subarray(0, count)) },
    corruptions: CORRUPTIONS.map((c) => ({ name: c.name, severities: c.severities })),
    seed: spec.seed,
  };
  // Building the view model allocates nothing (it wraps the parameters), so it is dropped, not disposed.
  const why = attackUnavailable(viewModel({ ...base, attacks: [] }, { ...params }));
  const manifest: ViewManifest = { ...base, attacks: why ? [] : VIEW_ATTACKS, ...(why ? { attacksNote: why } : {}) };
  return {
    manifest,
    paramBytes: names.map((n) => bytesOf(params[n]!)),
    exampleBytes: new Uint8Array(images.buffer.slice(images.byteOffset, images.byteOffset + images.byteLength)),
    params,
    images,
  };
}
