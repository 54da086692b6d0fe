/**
 * Response arrays from the files a user has: NumPy `.npy` (one array), `.npz` (member `responses`, and
 * optionally `images`), HDF5 (datasets `responses` and optionally `images`, paths configurable) and CSV.
 *
 * Shapes: responses [stimuli, units] or [stimuli, repeats, units]; images [stimuli, height, width] (or
 * [stimuli, height, width, 1]) in [0, 1], or uint8 0..255 (divided by 255). CSV: one row per presentation,
 * numbers separated by commas; an optional header line; when the header's first field is `stimulus`, that
 * column holds the stimulus index (0-based) and every stimulus must appear the same number of times (its
 * repeats, in file order); otherwise each row is one stimulus.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../../base/errors.js';
import { openHdf5 } from '../../../export/hdf5.js';
import { decodeNpy } from '../../../export/npy.js';
import { decodeNpz } from '../../../export/npz.js';
import { responseArray, type ResponseArray } from './responses.js';

export interface StimulusImages {
  readonly images: Float32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
}

export interface LoadedResponses {
  readonly responses: ResponseArray;
  readonly images?: StimulusImages;
}

export interface ResponseFileOptions {
  /** npz member / HDF5 dataset holding the responses (default `responses`). */
  readonly responses?: string;
  /** npz member / HDF5 dataset holding the stimulus images (default `images`, used when present). */
  readonly images?: string;
}

function imagesFrom(data: ArrayLike<number>, shape: readonly number[], uint8: boolean, origin: string): StimulusImages {
  const ok = shape.length === 3 || (shape.length === 4 && shape[3] === 1);
  if (!ok) throw new DataError(`${origin}: images must have shape [stimuli, height, width] or [stimuli, height, width, 1], got [${shape.join(', ')}]`);
  const images = Float32Array.from(data, (v) => (uint8 ? v / 255 : v));
  if (!uint8 && images.some((v) => !(v >= 0 && v <= 1))) throw new DataError(`${origin}: float images must lie in [0, 1]`);
  return { images, count: shape[0]!, height: shape[1]!, width: shape[2]! };
}

function fromNpz(file: string, o: ResponseFileOptions): LoadedResponses {
  let members: ReturnType<typeof decodeNpz>;
  try {
    members = decodeNpz(fs.readFileSync(file));
  } catch (e) {
    throw new DataError(`${file}: not a readable .npz archive (${(e as Error).message})`);
  }
  const key = o.responses ?? 'responses';
  const r = members[key];
  if (!r) throw new DataError(`${file}: no member ${JSON.stringify(key)}; members: ${Object.keys(members).join(', ') || 'none'}`);
  const imageKey = o.images ?? 'images';
  const im = members[imageKey];
  return { responses: responseArray(r.data, r.shape, `${file}:${key}`), ...(im ? { images: imagesFrom(im.data, im.shape, im.dtype === 'uint8', `${file}:${imageKey}`) } : {}) };
}

async function fromHdf5(file: string, o: ResponseFileOptions): Promise<LoadedResponses> {
  const h5 = await openHdf5(file);
  try {
    const key = o.responses ?? 'responses';
    const read = (name: string) => {
      const entity = h5.get(name) as { value?: unknown; shape?: number[] | null; dtype?: unknown } | null;
      if (!entity || entity.shape === undefined || entity.shape === null) return undefined;
      const value = entity.value as ArrayLike<number> | number;
      return { data: typeof value === 'number' ? [value] : Array.from(value as ArrayLike<number | bigint>, Number), shape: entity.shape, uint8: value instanceof Uint8Array };
    };
    const r = read(key);
    if (!r) throw new DataError(`${file}: no dataset ${JSON.stringify(key)}; top-level names: ${h5.keys().join(', ') || 'none'}`);
    const imageKey = o.images ?? 'images';
    const im = h5.keys().includes(imageKey.replace(/^\//, '')) || o.images ? read(imageKey) : undefined;
    return { responses: responseArray(r.data, r.shape, `${file}:${key}`), ...(im ? { images: imagesFrom(im.data, im.shape, im.uint8, `${file}:${imageKey}`) } : {}) };
  } finally {
    h5.close();
  }
}

function fromCsv(file: string): LoadedResponses {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) throw new DataError(`${file}: empty CSV`);
  const first = lines[0]!.split(',').map((s) => s.trim());
  const header = first.some((s) => s !== '' && Number.isNaN(Number(s)));
  const byStimulus = header && first[0]!.toLowerCase() === 'stimulus';
  const rows = (header ? lines.slice(1) : lines).map((line, k) => {
    const values = line.split(',').map((s) => Number(s.trim()));
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new DataError(`${file}: line ${k + 1 + (header ? 1 : 0)}, field ${bad + 1} is not a number`);
    return values;
  });
  const width = rows[0]!.length;
  rows.forEach((r, k) => {
    if (r.length !== width) throw new DataError(`${file}: line ${k + 1 + (header ? 1 : 0)} has ${r.length} fields, the first data line ${width}`);
  });
  if (!byStimulus) return { responses: responseArray(rows.flat(), [rows.length, width], file) };
  const groups = new Map<number, number[][]>();
  for (const r of rows) {
    const s = r[0]!;
    if (!Number.isInteger(s) || s < 0) throw new DataError(`${file}: stimulus index ${s} must be a non-negative integer`);
    groups.set(s, [...(groups.get(s) ?? []), r.slice(1)]);
  }
  const stimuli = groups.size;
  for (let s = 0; s < stimuli; s++) if (!groups.has(s)) throw new DataError(`${file}: stimulus indices must be 0..${stimuli - 1}; ${s} is missing`);
  const repeats = groups.get(0)!.length;
  for (const [s, g] of groups) if (g.length !== repeats) throw new DataError(`${file}: stimulus ${s} has ${g.length} repeats, stimulus 0 has ${repeats}; every stimulus needs the same number`);
  const data: number[] = [];
  for (let s = 0; s < stimuli; s++) for (const r of groups.get(s)!) data.push(...r);
  return { responses: responseArray(data, [stimuli, repeats, width - 1], file) };
}

/** Reads a response file by its extension (.npy, .npz, .h5/.hdf5, .csv). */
export async function loadResponseFile(file: string, options: ResponseFileOptions = {}): Promise<LoadedResponses> {
  if (!fs.existsSync(file)) throw new DataError(`response file ${file} does not exist`);
  const ext = path.extname(file).toLowerCase();
  switch (ext) {
    case '.npy': {
      let a: ReturnType<typeof decodeNpy>;
      try {
        a = decodeNpy(fs.readFileSync(file));
      } catch (e) {
        throw new DataError(`${file}: not a readable .npy file (${(e as Error).message})`);
      }
      return { responses: responseArray(a.data, a.shape, file) };
    }
    case '.npz':
      return fromNpz(file, options);
    case '.h5':
    case '.hdf5':
      return fromHdf5(file, options);
    case '.csv':
      return fromCsv(file);
    default:
      throw new DataError(`response file ${file}: unknown extension ${JSON.stringify(ext)}; allowed: .npy, .npz, .h5, .hdf5, .csv`);
  }
}
