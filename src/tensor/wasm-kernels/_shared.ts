/**
 * Helpers shared by the kernels in this folder: the slice of the wasm backend's interface they use, a scope
 * that runs other wasm kernels and frees every intermediate, and an adapter that runs tfjs's pure-JS
 * reference kernel (from the cpu backend) on wasm tensors for kernels with no usable composition.
 *
 * How tfjs-backend-wasm kernels compose: a kernelFunc receives `{inputs, attrs, backend}` with
 * TensorInfos (`{dataId, shape, dtype}`), allocates its output with `backend.makeOutput`, and may call
 * other kernelFuncs directly; whatever it allocated and does not return is released with
 * `backend.disposeData` (reshape shares the input's buffer and bumps its refcount, so releasing a reshape is
 * a decrement). Nothing here goes through tf ops, so nothing touches the engine's tensor count or tape.
 */
import * as tf from '@tensorflow/tfjs-core';

type DataId = object;

/** The part of tfjs-backend-wasm's BackendWasm that these kernels use. */
export interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
  disposeData(dataId: DataId, force?: boolean): boolean;
  readSync(dataId: DataId): tf.backend_util.BackendValues;
  incRef(dataId: DataId): void;
}

export type Shape4 = [number, number, number, number];

/** The arguments tfjs passes to a kernelFunc, typed for the wasm backend. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: tf.KernelBackend;
}

/**
 * Runs other wasm kernels and remembers what they allocated; `dispose()` frees all of it except what was
 * `keep()`-ed. Use through `compose()`.
 */
export class KernelScope {
  private readonly made: tf.TensorInfo[] = [];

  constructor(readonly backend: WasmBackend) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`neurodyn wasm kernels: kernel ${kernelName} is not registered for wasm`);
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend }) as tf.TensorInfo | tf.TensorInfo[];
    if (Array.isArray(out)) throw new Error(`neurodyn wasm kernels: ${kernelName} returned several outputs`);
    this.made.push(out);
    return out;
  }

  /** Runs a kernelFunc that is not (or no longer) the registered one, e.g. a kernel this one replaced. */
  call(kernelFunc: tf.KernelFunc, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const out = kernelFunc({ inputs, attrs, backend: this.backend }) as tf.TensorInfo | tf.TensorInfo[];
    if (Array.isArray(out)) throw new Error('neurodyn wasm kernels: a kernel returned several outputs');
    this.made.push(out);
    return out;
  }

  /** Allocates an output buffer that this scope frees unless kept (contents uninitialised unless `values`). */
  alloc(shape: number[], dtype: tf.DataType = 'float32', values?: tf.backend_util.BackendValues): tf.TensorInfo {
    const out = this.backend.makeOutput(shape, dtype, undefined, values);
    this.made.push(out);
    return out;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Transpose; a no-op permutation costs a copy in tfjs-wasm, so it is skipped here. */
  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
    if (size.every((s, i) => s === x.shape[i]) && begin.every((b) => b === 0)) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  pad(x: tf.TensorInfo, paddings: Array<[number, number]>, constantValue = 0): tf.TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue });
  }

  sum(x: tf.TensorInfo, axis: number[], keepDims = false): tf.TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims });
  }

  keep<T extends tf.TensorInfo>(t: T): T {
    const i = this.made.lastIndexOf(t);
    if (i >= 0) this.made.splice(i, 1);
    return t;
  }

  dispose(): void {
    for (const t of this.made.splice(0)) this.backend.disposeData(t.dataId);
  }
}

/**
 * Runs `fn` with a fresh KernelScope and frees every intermediate, also on error. The result must be a
 * buffer that the scope allocated (directly or through a kernel it ran), never one of the kernel's inputs.
 */
export function compose(backend: tf.KernelBackend, fn: (s: KernelScope) => tf.TensorInfo): tf.TensorInfo {
  const s = new KernelScope(backend as WasmBackend);
  try {
    return s.keep(fn(s));
  } finally {
    s.dispose();
  }
}

/** NCHW -> NHWC helpers for the kernels that accept `dataFormat`. */
export const TO_NHWC = [0, 2, 3, 1];
export const TO_NCHW = [0, 3, 1, 2];

/**
 * A wasm kernelFunc that runs the cpu backend's reference implementation of `kernelName`: it copies the
 * inputs out of the wasm heap into the (lazily initialised) cpu backend, runs the kernel there and copies
 * the outputs back. For kernels whose wasm implementation is missing or wrong and that have no composition
 * in terms of wasm kernels worth writing; it costs two copies plus tfjs's plain-JS loops.
 */
export function delegateToCpu(kernelName: string): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackend;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    const cpu = tf.engine().findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
    if (cpu?.firstUse) cpu.firstUse = false; // its "install tfjs-node" console banner, see quietCpu in ../backend.ts
    if (!cpuKernel || !cpu) throw new Error(`neurodyn wasm kernels: ${kernelName} needs the cpu backend's reference kernel`);
    const moved: tf.TensorInfo[] = [];
    // Kernels receive engine Tensors; the cpu kernels read `rank` and `size` besides the TensorInfo fields.
    const toCpu = (info: tf.TensorInfo): tf.TensorInfo => {
      const dataId = cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype);
      const t = { dataId, shape: info.shape, dtype: info.dtype, rank: info.shape.length, size: tf.util.sizeFromShape(info.shape) };
      moved.push(t);
      return t;
    };
    try {
      // Most kernels take named inputs; a few (Concat, Einsum, AddN, Pack) take an array.
      const cpuInputs = Array.isArray(inputs)
        ? (inputs as tf.TensorInfo[]).map(toCpu)
        : Object.fromEntries(Object.entries(inputs).flatMap(([k, v]) => (v ? [[k, toCpu(v)]] : [])));
      const out = cpuKernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, attrs: attrs ?? {}, backend: cpu }) as tf.TensorInfo | tf.TensorInfo[];
      const outs = Array.isArray(out) ? out : [out];
      moved.push(...outs);
      // The cpu backend may hold an int32 result in a Float32Array; wasm copies bytes, so convert first.
      const back = outs.map((o) => wasm.makeOutput(o.shape, o.dtype, undefined, asDtype(cpu.readSync(o.dataId), o.dtype)));
      return Array.isArray(out) ? back : back[0]!;
    } finally {
      for (const t of moved) cpu.disposeData(t.dataId);
    }
  };
}

function asDtype(values: tf.backend_util.BackendValues, dtype: tf.DataType): tf.backend_util.BackendValues {
  switch (dtype) {
    case 'float32':
      return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    case 'int32':
      return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
    case 'bool':
      return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>);
    default:
      return values;
  }
}
