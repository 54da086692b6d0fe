/**
 * Finds and loads the native addon (native/, built by native/build.mjs during `npm install` where Debian's
 * libopenblas-dev and libdnnl-dev are installed), once per process, and says why it is not there when it
 * is not. Nothing else in the project loads native code for the kernels.
 *
 * Before loading, it sets OpenMP's wait policy to passive (unless the environment already sets one): libgomp
 * reads OMP_WAIT_POLICY once, when the addon's dependency oneDNN pulls it in, and the default (threads spin
 * for a while after each parallel region) makes oneDNN's OpenMP pool and OpenBLAS's pthread pool spin
 * against each other when the process has as many threads as cores. The same holds for OpenBLAS's own
 * workers, which spin for 2^OPENBLAS_THREAD_TIMEOUT cycles before sleeping; see THREAD_TIMEOUT below.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's functions (native/src/addon.cc). Offsets are bytes into `heap`; strides are in floats. */
export interface NativeAddon {
  gemm(heap: ArrayBuffer, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
    aOffset: number, bOffset: number, cOffset: number, strideA: number, strideB: number, strideC: number): void;
  conv(kind: ConvKind, heap: ArrayBuffer, in0Offset: number, in1Offset: number, outOffset: number, ...geometry: number[]): void;
  convImplementation(kind: ConvKind, ...geometry: number[]): string;
  leakyIntegrate(heap: ArrayBuffer, uOffset: number, pOffset: number, qOffset: number, outOffset: number, n: number, rate: number, qScale: number): void;
  /** Offsets −1 for an absent operand; see native/src/kernels.h's EpLayer. */
  epLayer(heap: ArrayBuffer, rows: number, m: number, n: number, p: number, below: number, w: number, bias: number, drive: number,
    above: number, v: number, pre: number, out: number, lo: number, hi: number): void;
  clipGrad(heap: ArrayBuffer, x: number, dy: number, dx: number, n: number, lo: number, hi: number): void;
  softThreshold(heap: ArrayBuffer, u: number, a: number, n: number, lambda: number): void;
  softThresholdGrad(heap: ArrayBuffer, u: number, dy: number, du: number, n: number, lambda: number): void;
  sgdMomentum(heap: ArrayBuffer, theta: number, velocity: number, direction: number, thetaOut: number, velocityOut: number, n: number,
    lr: number, momentum: number, decay: number): void;
  maxPoolGrad(heap: ArrayBuffer, x: number, dy: number, dx: number, ...geometry: number[]): void;
  setThreads(threads: number): void;
  threads(): number;
  /** Which library computes the addon's products (native/src/gemm.cc). */
  setGemmLibrary(library: GemmLibrary): void;
  gemmLibrary(): GemmLibrary;
  libraries(): string;
  clearCache(): void;
}

/**
 * The library behind every product of the addon: oneDNN's sgemm (default) or OpenBLAS's. Chosen with
 * NEURODYN_GEMM=onednn|openblas; oneDNN's ran the families' short-and-wide products (batch 64 against
 * hundreds to thousands of columns) 1.3–1.9× faster on one thread here (bench/README.md).
 */
export type GemmLibrary = 'onednn' | 'openblas';
export const GEMM_LIBRARIES: readonly GemmLibrary[] = ['onednn', 'openblas'];

/** 0 forward, 1 gradient with respect to the input (transposed convolution), 2 gradient with respect to the filter. */
export type ConvKind = 0 | 1 | 2;

export type NativeStatus =
  | { readonly available: true; readonly addon: NativeAddon; readonly path: string }
  | { readonly available: false; readonly reason: string };

const ADDON_FILE = path.join('native', 'build', 'Release', 'neurodyn_native.node');
/** Cycles (as a power of two) OpenBLAS workers spin before sleeping; its default 28 is ~0.1 s of spinning. */
const THREAD_TIMEOUT = '4';

/** The package root: the nearest folder above this module with native/binding.gyp (src/ and dist/src/ alike). */
function packageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'native', 'binding.gyp'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** NEURODYN_NATIVE=0 (or false/off/no) turns the native kernels off for the process. */
export function nativeDisabledByEnvironment(): boolean {
  return /^(0|false|off|no)$/i.test(process.env.NEURODYN_NATIVE ?? '');
}

let status: NativeStatus | undefined;
let threadCount = availableParallelism();

/** The addon if it is built and loads here, else why not (with what would make it available). */
export function nativeStatus(): NativeStatus {
  status ??= load();
  return status;
}

function load(): NativeStatus {
  if (nativeDisabledByEnvironment()) return { available: false, reason: 'turned off by NEURODYN_NATIVE=0' };
  const root = packageRoot();
  const file = root && path.join(root, ADDON_FILE);
  if (!file || !existsSync(file)) {
    return {
      available: false,
      reason: 'the native addon is not built: apt-get install libopenblas-dev libdnnl-dev, then npm install (or npm run build:native); see README',
    };
  }
  process.env.OMP_WAIT_POLICY ??= 'passive';
  process.env.OPENBLAS_THREAD_TIMEOUT ??= THREAD_TIMEOUT;
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    addon.setThreads(threadCount);
    const gemm = process.env.NEURODYN_GEMM?.toLowerCase();
    if (gemm) {
      if (!(GEMM_LIBRARIES as readonly string[]).includes(gemm)) {
        return { available: false, reason: `NEURODYN_GEMM must be one of ${GEMM_LIBRARIES.join(', ')}, got ${JSON.stringify(process.env.NEURODYN_GEMM)}` };
      }
      addon.setGemmLibrary(gemm as GemmLibrary);
    }
    return { available: true, addon, path: file };
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    return { available: false, reason: `the native addon is built but failed to load (${message}); rebuild it with npm run build:native` };
  }
}

/**
 * Threads for OpenBLAS and oneDNN alike (default: the number of cores). Applies now if the addon is
 * loaded, else when it loads. The wasm kernels are single-threaded whatever this says.
 */
export function setNativeThreads(threads: number): void {
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  threadCount = threads;
  if (status?.available) status.addon.setThreads(threads);
}

export function nativeThreads(): number {
  return threadCount;
}
