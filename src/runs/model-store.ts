/**
 * Trained models in a run folder: `model/model.json` (the spec of the system, what trained it, and the
 * parameter list) and one `model/<name>.npy` per parameter tensor, so NumPy can read the weights too.
 * Later commands (`attack`, `energy`, `export`) load a model from a run folder with `loadModel`.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../base/errors.js';
import { decodeNpy, encodeNpy } from '../export/npy.js';
import type { RunFolder } from './run-folder.js';

export interface ModelRecord {
  /** The spec's `system` object (kind and options). */
  readonly system: { readonly kind: string } & Readonly<Record<string, unknown>>;
  /** What produced the parameters, e.g. 'equilibrium-propagation', 'backprop', 'lca-hebbian'. */
  readonly trainedBy: string;
  /** Anything the model needs besides its tensors (layer sizes, input layout, class names, ...). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

interface ModelFile extends ModelRecord {
  readonly format: 'neurodyn-model/1';
  readonly params: ReadonlyArray<{ readonly name: string; readonly file: string; readonly shape: readonly number[]; readonly dtype: string }>;
}

function fileNameFor(name: string): string {
  return `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`;
}

/** Writes the parameters (float32) and the record under `<dir>/` of the run folder (default `model`). */
export function saveModel(folder: RunFolder, record: ModelRecord, params: Readonly<Record<string, tf.Tensor>>, dir = 'model'): void {
  const entries = Object.entries(params).map(([name, t]) => {
    const file = fileNameFor(name);
    folder.writeBytes(`${dir}/${file}`, encodeNpy(t.dataSync() as Float32Array, t.shape));
    return { name, file, shape: t.shape, dtype: t.dtype };
  });
  const model: ModelFile = { format: 'neurodyn-model/1', ...record, params: entries };
  folder.writeJson(`${dir}/model.json`, model);
}

/** Reads a model written by `saveModel` from a run folder; the caller owns the returned tensors. */
export function loadModel(runDir: string, dir = 'model'): ModelRecord & { params: Record<string, tf.Tensor> } {
  const file = path.join(runDir, dir, 'model.json');
  if (!fs.existsSync(file)) throw new DataError(`${runDir} holds no trained model (no ${path.join(dir, 'model.json')}); pass a run folder written by a training run`);
  const model = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelFile;
  if (model.format !== 'neurodyn-model/1') throw new DataError(`${file}: unknown model format ${JSON.stringify(model.format)}`);
  const params: Record<string, tf.Tensor> = {};
  for (const p of model.params) {
    const npy = decodeNpy(fs.readFileSync(path.join(runDir, dir, p.file)));
    params[p.name] = tf.tensor(npy.data as Float32Array, npy.shape, 'float32');
  }
  const { format: _format, params: _list, ...record } = model;
  return { ...record, params };
}
