/**
 * gpu.js, the custom-kernel layer (the only module that imports it). What it can run depends on the
 * machine: `webasm` (kernels compiled to WebAssembly with f32x4 SIMD; threads only under its async
 * contract) runs everywhere Node runs; `headlessgl` needs the optional native `gl` module; `webgpu`
 * needs a WebGPU adapter (Dawn through the `webgpu` package and a Vulkan driver); `cpu` is plain JS.
 * `gpuJsModes()` reports which answer here and why the others do not.
 */
import { GPU } from 'gpu.js';
import { BackendError } from '../base/errors.js';

export type GpuJsMode = 'webasm' | 'cpu' | 'headlessgl' | 'webgpu';

export interface GpuJsModeStatus {
  readonly mode: GpuJsMode;
  readonly available: boolean;
  readonly reason?: string;
}

export function gpuJsModes(): GpuJsModeStatus[] {
  const g = GPU as unknown as { isWebAssemblySupported: boolean; isHeadlessGLSupported: boolean; isWebGPUSupported: boolean };
  return [
    { mode: 'webasm', available: g.isWebAssemblySupported, ...(g.isWebAssemblySupported ? {} : { reason: 'WebAssembly is not supported by this runtime' }) },
    { mode: 'cpu', available: true },
    { mode: 'headlessgl', available: g.isHeadlessGLSupported, ...(g.isHeadlessGLSupported ? {} : { reason: "the optional native module 'gl' is not built on this machine" }) },
    {
      mode: 'webgpu',
      available: false,
      reason: g.isWebGPUSupported
        ? 'gpu.js webgpu kernels are asynchronous; the emulation uses synchronous kernels'
        : 'no navigator.gpu in Node; Dawn (npm webgpu) loads here but finds no Vulkan driver, so no adapter answers',
    },
  ];
}

/** A gpu.js instance in the given mode; the caller destroys it. */
export function createGpu(mode: GpuJsMode = 'webasm'): GPU {
  const status = gpuJsModes().find((m) => m.mode === mode);
  if (!status?.available) throw new BackendError(`gpu.js mode ${mode} is not available here: ${status?.reason ?? 'unknown mode'}`);
  return new GPU({ mode: mode as never });
}

export type { GPU, IKernelRunShortcut } from 'gpu.js';
