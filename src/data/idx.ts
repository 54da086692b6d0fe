/**
 * Reader for IDX files, the format MNIST, Fashion-MNIST, KMNIST and EMNIST ship in.
 *
 * Layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type byte, a byte giving the number of
 * dimensions, then each dimension as a big-endian uint32, then the values, big-endian, row-major. Files are
 * often distributed gzipped; a gzip stream (magic `1f 8b`) is inflated first, whatever the file is named.
 *
 * Every malformed case raises a DataError naming the file and what is wrong, because the usual cause is a
 * truncated download or a file saved by a browser as HTML, and the user must be told which file to replace.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../base/errors.js';

/** IDX element types by their type byte. */
const IDX_TYPES = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
} as const;

export type IdxDtype = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]['dtype'];
export type IdxValues = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: its element type, its dimensions, and its values in host byte order. */
export interface IdxArray {
  readonly dtype: IdxDtype;
  readonly dims: readonly number[];
  readonly values: IdxValues;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** True if the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/**
 * Decodes an IDX file held in memory (raw or gzipped). `fileName` is only used in error messages.
 * For uint8 data the values are a view on the (inflated) buffer, without a copy.
 */
export function parseIdx(buffer: Uint8Array, fileName: string): IdxArray {
  let bytes = buffer;
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${fileName}: starts like a gzip file but cannot be inflated (${(e as Error).message}); the file is probably truncated or corrupt, download it again`);
    }
  }
  if (bytes.length < 4) {
    throw new DataError(`${fileName}: truncated IDX file: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  }
  const [zero0, zero1, typeByte, rank] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  if (zero0 !== 0 || zero1 !== 0) {
    throw new DataError(
      `${fileName}: bad magic number ${[zero0, zero1, typeByte, rank].map(hex).join(' ')}: an IDX file starts with two zero bytes (e.g. 0x00 0x00 0x08 0x03 for uint8 images); this is not an IDX file`,
    );
  }
  const type = IDX_TYPES[typeByte as keyof typeof IDX_TYPES];
  if (type === undefined) {
    throw new DataError(`${fileName}: unknown IDX type byte ${hex(typeByte)}; known: ${Object.keys(IDX_TYPES).map((k) => hex(Number(k))).join(', ')}`);
  }
  if (rank === 0) throw new DataError(`${fileName}: IDX header declares 0 dimensions`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataError(`${fileName}: truncated IDX header: ${rank} dimensions need ${headerBytes} header bytes, the file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let elements = 1;
  for (let d = 0; d < rank; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    elements *= size;
  }
  const dataBytes = elements * type.bytes;
  const actualBytes = bytes.length - headerBytes;
  if (actualBytes < dataBytes) {
    throw new DataError(
      `${fileName}: truncated IDX data: dims [${dims.join(', ')}] of ${type.dtype} need ${dataBytes} bytes after the header, the file has ${actualBytes}; download it again`,
    );
  }
  if (actualBytes > dataBytes) {
    throw new DataError(`${fileName}: ${actualBytes - dataBytes} unexpected bytes after the data: dims [${dims.join(', ')}] of ${type.dtype} need ${dataBytes} bytes, the file has ${actualBytes}`);
  }
  return Object.freeze({ dtype: type.dtype, dims: Object.freeze(dims), values: decodeValues(view, headerBytes, elements, type.dtype) });
}

function decodeValues(view: DataView, offset: number, n: number, dtype: IdxDtype): IdxValues {
  const at = view.byteOffset + offset;
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer, at, n);
    case 'int8':
      return new Int8Array(view.buffer, at, n);
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads and decodes an IDX file (raw or gzipped) from disk. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new DataError(`cannot read IDX file ${path}: ${why}`);
  }
  return parseIdx(bytes, path);
}

/** What a caller expects of an IDX file's shape; `undefined` entries in `dims` accept any size. */
export interface IdxExpectation {
  readonly dtype: IdxDtype;
  readonly dims: readonly (number | undefined)[];
  /** What the file should hold, for the message, e.g. "images" or "labels". */
  readonly contents: string;
}

/** Throws a DataError naming the file if its type or dimensions are not the expected ones. */
export function expectIdxShape(idx: IdxArray, fileName: string, expected: IdxExpectation): void {
  const wanted = `[${expected.dims.map((d) => (d === undefined ? 'N' : String(d))).join(', ')}] of ${expected.dtype}`;
  const ok =
    idx.dtype === expected.dtype &&
    idx.dims.length === expected.dims.length &&
    expected.dims.every((d, i) => d === undefined || d === idx.dims[i]);
  if (!ok) {
    throw new DataError(`${fileName}: wrong dims for ${expected.contents}: expected ${wanted}, the file has [${idx.dims.join(', ')}] of ${idx.dtype}`);
  }
}
