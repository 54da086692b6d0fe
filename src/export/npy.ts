/**
 * NumPy `.npy` files (format version 1.0): a magic string, a Python-literal header giving dtype, order and
 * shape, padded so the data starts on a 64-byte boundary, then the raw little-endian data. `numpy.load`
 * reads what `encodeNpy` writes; `decodeNpy` reads it back for the round-trip tests.
 */
import { DataError } from '../base/errors.js';

export type NpyDtype = 'float32' | 'float64' | 'int32' | 'uint8';
export type NpyData = Float32Array | Float64Array | Int32Array | Uint8Array;

const DESCR: Record<NpyDtype, string> = { float32: '<f4', float64: '<f8', int32: '<i4', uint8: '|u1' };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'uint8';
}

export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`npy: shape [${shape.join(', ')}] holds ${count} values but the data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtypeOf(data)]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(MAGIC.length + 4 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

const ITEM_BYTES: Record<NpyDtype, number> = { float32: 4, float64: 8, int32: 4, uint8: 1 };

/**
 * Reads a .npy file's bytes. Anything that is not a whole array of a supported dtype (bad magic, a header
 * cut short, a body shorter or longer than its shape, big-endian or Fortran order, another dtype) is a
 * DataError naming what was found and what is read.
 */
export function decodeNpy(bytes: Uint8Array): { dtype: NpyDtype; shape: number[]; data: NpyData } {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new DataError('not a .npy file (it does not start with the NumPy magic string)');
  const major = bytes[6]!;
  if (major !== 1 && major !== 2 && major !== 3) throw new DataError(`unknown .npy format version ${major}.${bytes[7]}; 1.0, 2.0 and 3.0 are read`);
  if (major !== 1 && bytes.length < 12) throw new DataError('the .npy header is cut short');
  const headerLength = major === 1 ? bytes[8]! | (bytes[9]! << 8) : new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) throw new DataError(`the .npy header is cut short (${bytes.length} bytes, the header alone claims ${start + headerLength})`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeMatch = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (descr === undefined || !shapeMatch) throw new DataError(`the .npy header has no ${descr === undefined ? "'descr'" : "'shape'"}: ${JSON.stringify(header.trim().slice(0, 80))}`);
  if (/'fortran_order':\s*True/.test(header)) throw new DataError('Fortran-ordered arrays are not read; save with numpy.ascontiguousarray(a)');
  const shape = shapeMatch[1]!.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
  if (!shape.every((n) => Number.isInteger(n) && n >= 0)) throw new DataError(`the .npy shape (${shapeMatch[1]}) is not a list of sizes`);
  const dtype = (Object.entries(DESCR).find(([, d]) => d === descr || (d.startsWith('<') && `=${d.slice(1)}` === descr))?.[0] ?? undefined) as NpyDtype | undefined;
  if (!dtype) throw new DataError(`unsupported dtype ${descr}; read are ${Object.values(DESCR).join(', ')} (float32, float64, int32, uint8, little-endian); convert with a.astype('float32')`);
  const expected = shape.reduce((a, b) => a * b, 1) * ITEM_BYTES[dtype];
  const found = bytes.length - start - headerLength;
  if (found !== expected) throw new DataError(`the .npy data is ${found < expected ? 'cut short' : 'longer than its shape'}: shape (${shape.join(', ')}) of ${dtype} needs ${expected} bytes, the file holds ${found}`);
  // A copy with its own buffer: on a Node Buffer, slice() is a view into the whole file (header included).
  const body = new Uint8Array(bytes.subarray(start + headerLength));
  const data =
    dtype === 'float32' ? new Float32Array(body.buffer) : dtype === 'float64' ? new Float64Array(body.buffer) : dtype === 'int32' ? new Int32Array(body.buffer) : new Uint8Array(body.buffer);
  return { dtype, shape, data };
}
