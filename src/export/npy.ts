/**
 * NumPy `.npy` files (format version 1.0): a magic string, a Python-literal header giving dtype, order and
 * shape, padded so the data starts on a 64-byte boundary, then the raw little-endian data. `numpy.load`
 * reads what `encodeNpy` writes; `decodeNpy` reads it back for the round-trip tests.
 */
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

export function decodeNpy(bytes: Uint8Array): { dtype: NpyDtype; shape: number[]; data: NpyData } {
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw new Error('npy: not a .npy file (bad magic)');
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes[8]! | (bytes[9]! << 8) : new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  if (/'fortran_order':\s*True/.test(header)) throw new Error('npy: Fortran-ordered arrays are not supported');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const dtype = (Object.entries(DESCR).find(([, d]) => d === descr)?.[0] ?? undefined) as NpyDtype | undefined;
  if (!dtype) throw new Error(`npy: unsupported dtype ${descr}`);
  // A copy with its own buffer: on a Node Buffer, slice() is a view into the whole file (header included).
  const body = new Uint8Array(bytes.subarray(start + headerLength));
  const data =
    dtype === 'float32' ? new Float32Array(body.buffer) : dtype === 'float64' ? new Float64Array(body.buffer) : dtype === 'int32' ? new Int32Array(body.buffer) : new Uint8Array(body.buffer);
  return { dtype, shape, data };
}
