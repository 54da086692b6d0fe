/**
 * Trained models in a run folder: `model/model.json` (the spec of the system, what trained it, and the
 * parameter list) and one `model/<name>.npy` per parameter tensor, so NumPy can read the weights too.
 * Later commands (`attack`, `energy`, `export`) load a model from a run folder with `loadModel`.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../base/errors.js';
import { encodeNpy } from '../export/npy.js';
import { readFloat32Npy, readJsonFile, type NoteSink } from './read-files.js';
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

/**
 * Reads a model written by `saveModel` from a run folder; the caller owns the returned tensors. A model.json
 * that is not JSON or not a model, a parameter file that is missing, damaged or of another shape than
 * model.json records, is a DataError naming the file; float64 files (NumPy's default) load with a note.
 */
export function loadModel(runDir: string, dir = 'model', note?: NoteSink): ModelRecord & { params: Record<string, tf.Tensor> } {
  const file = path.join(runDir, dir, 'model.json');
  if (!fs.existsSync(file)) throw new DataError(`${runDir} holds no trained model (no ${path.join(dir, 'model.json')}); pass a run folder written by a training run`);
  const remedy = 'restore it from the run that wrote it, or train again';
  const model = readJsonFile(file, 'the model record', remedy) as ModelFile;
  if (model === null || typeof model !== 'object' || Array.isArray(model)) throw new DataError(`${file} is not a model record (a JSON object); ${remedy}`);
  if (model.format !== 'neurodyn-model/1') throw new DataError(`${file}: unknown model format ${JSON.stringify(model.format)}; this neurodyn reads "neurodyn-model/1"`);
  if (typeof model.system?.kind !== 'string') throw new DataError(`${file} names no system kind (system.kind); ${remedy}`);
  const listed = model.params;
  const valid = (p: unknown): p is ModelFile['params'][number] => {
    const q = p as Record<string, unknown> | null;
    return q !== null && typeof q === 'object' && typeof q.name === 'string' && typeof q.file === 'string' && Array.isArray(q.shape) && q.shape.every((n) => Number.isInteger(n) && (n as number) >= 0);
  };
  if (!Array.isArray(listed) || !listed.every(valid)) throw new DataError(`${file}: "params" must list {name, file, shape} for every parameter; ${remedy}`);
  const params: Record<string, tf.Tensor> = {};
  try {
    for (const p of listed) {
      if (p.file.includes('/') || p.file.includes('\\') || p.file.startsWith('.')) throw new DataError(`${file}: parameter ${p.name} names the file ${JSON.stringify(p.file)}, which is not a file of ${path.join(runDir, dir)}`);
      const npyFile = path.join(runDir, dir, p.file);
      const npy = readFloat32Npy(npyFile, `parameter ${p.name}`, remedy, note);
      if (npy.shape.length !== p.shape.length || npy.shape.some((n, i) => n !== p.shape[i])) {
        throw new DataError(`${npyFile} has shape [${npy.shape.join(', ')}] but ${file} records [${p.shape.join(', ')}] for ${p.name}; the tensors and the model disagree (was one edited?)`);
      }
      params[p.name] = tf.tensor(npy.data, npy.shape, 'float32');
    }
  } catch (e) {
    tf.dispose(Object.values(params));
    throw e;
  }
  const { format: _format, params: _list, ...record } = model;
  return { ...record, params };
}
