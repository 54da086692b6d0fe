/**
 * Writing HDF5 with h5wasm (the HDF5 C library compiled to WebAssembly). Files are opened with library
 * version bounds `earliest`..`v110`, so HDF5 1.10 readers (Debian's h5py 3.7) open them. Strings are
 * variable-length UTF-8 (what h5py writes with `h5py.string_dtype()`), integers int64 where the reference
 * writer stores Python ints, floats keep their typed array's dtype.
 */
import fs from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';

export type Hdf5Group = ReturnType<InstanceType<typeof h5wasm.File>['create_group']>;
export type Hdf5File = InstanceType<typeof h5wasm.File>;

/** A numeric array with its shape ([] for a scalar). */
export interface NumericArray {
  readonly data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
  readonly shape: readonly number[];
}

let ready: Promise<unknown> | undefined;

/** Opens `file` for writing (replacing it), runs `write`, closes it; the file appears only when complete. */
export async function writeHdf5(file: string, write: (root: Hdf5File) => void): Promise<void> {
  ready ??= h5wasm.ready;
  await ready;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const partial = `${file}.partial-${process.pid}`;
  const h5 = new h5wasm.File(partial, 'w', { libver: ['earliest', 'v110'] });
  try {
    write(h5);
  } finally {
    h5.close();
  }
  fs.renameSync(partial, file);
}

/** Opens an HDF5 file for reading (used by the round-trip tests and `loadNir`). */
export async function openHdf5(file: string): Promise<Hdf5File> {
  ready ??= h5wasm.ready;
  await ready;
  return new h5wasm.File(file, 'r');
}

export function writeString(group: Hdf5Group, name: string, value: string): void {
  group.create_dataset({ name, data: value });
}

export function writeArray(group: Hdf5Group, name: string, array: NumericArray): void {
  group.create_dataset({ name, data: array.data, shape: [...array.shape] });
}

/** An int64 array (Python ints and tuples of ints are stored so by the reference writer). */
export function int64(values: readonly number[], shape: readonly number[] = [values.length]): NumericArray {
  return { data: BigInt64Array.from(values, (v) => BigInt(v)), shape };
}

export function float32(values: ArrayLike<number>, shape: readonly number[] = [values.length]): NumericArray {
  return { data: Float32Array.from(values), shape };
}

export function float64(values: ArrayLike<number>, shape: readonly number[] = [values.length]): NumericArray {
  return { data: Float64Array.from(values), shape };
}
