/**
 * Reading what a run folder or a checkpoint holds, for files a user may have edited or a crash may have
 * cut short: every failure is a DataError naming the file, what is wrong with it and what to do.
 */
import fs from 'node:fs';
import { DataError } from '../base/errors.js';
import { decodeNpy } from '../export/npy.js';

/** Where notes about conversions go (stderr, one line each). */
export type NoteSink = (line: string) => void;
export const stderrNote: NoteSink = (line) => process.stderr.write(`neurodyn: note: ${line}\n`);

function readBytes(file: string, what: string, remedy: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const cause = code === 'ENOENT' ? 'it is missing' : code === 'EISDIR' ? 'it is a folder, not a file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new DataError(`cannot read ${what} ${file}: ${cause}; ${remedy}`);
  }
}

/** A JSON file parsed, or a DataError naming it. */
export function readJsonFile(file: string, what: string, remedy: string): unknown {
  const text = readBytes(file, what, remedy).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`${what} ${file} is not valid JSON (${(e as Error).message}); ${remedy}`);
  }
}

/**
 * A .npy file as float32. float64 (NumPy's default after a user edits weights), int32 and uint8 are
 * converted, with a note; anything unreadable is a DataError naming the file.
 */
export function readFloat32Npy(file: string, what: string, remedy: string, note: NoteSink = stderrNote): { shape: number[]; data: Float32Array } {
  const bytes = readBytes(file, what, remedy);
  let npy: ReturnType<typeof decodeNpy>;
  try {
    npy = decodeNpy(bytes);
  } catch (e) {
    if (e instanceof DataError) throw new DataError(`${what} ${file}: ${e.message}; ${remedy}`);
    throw e;
  }
  if (npy.dtype === 'float32') return { shape: npy.shape, data: npy.data as Float32Array };
  const data = Float32Array.from(npy.data as ArrayLike<number>);
  let note_ = `${file} holds ${npy.dtype}; converted to float32`;
  if (npy.dtype === 'float64') {
    let worst = 0;
    (npy.data as Float64Array).forEach((v, i) => {
      const d = Math.abs(v - data[i]!);
      if (d > worst) worst = d;
    });
    note_ += ` (largest rounding change ${worst.toExponential(2)})`;
  }
  note(note_);
  if (!data.every(Number.isFinite)) throw new DataError(`${what} ${file} holds values that are not finite numbers after conversion to float32; ${remedy}`);
  return { shape: npy.shape, data };
}
