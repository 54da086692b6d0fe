/**
 * Backend selection and listing. This module (with the rest of `src/tensor/`) is the only place that
 * imports tfjs backends.
 *
 * - `wasm` (default) and `cpu` are dependencies and register on import (cheap: the wasm binary is only
 *   compiled when the backend is first initialised). Importing also registers tfjs-core's gradients and the
 *   wasm kernels this project supplies (./wasm-kernels), so training works on wasm.
 * - `tensorflow` (@tensorflow/tfjs-node-gpu, else @tensorflow/tfjs-node) and `webgpu`
 *   (@tensorflow/tfjs-backend-webgpu over Dawn, npm `webgpu`) are optional: they are looked for, loaded and
 *   registered only when requested (`useBackend`) or listed (`listBackends`), never at import, and a
 *   missing or broken one only makes that backend unavailable, with the reason.
 *
 * The optional backends register themselves with tfjs priority 3 (above wasm's 2), which would make a
 * bare `tf.ready()` pick them; their priority is lowered to 0 so that wasm stays the default.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BackendError, UnknownNameError } from '../base/errors.js';
import { registerGradients, unregisterVendoredGradients } from './gradients.js';
import { registerWasmKernels } from './wasm-kernels/register.js';
import { enableNativeKernels, nativeKernelInfo, nativeThreads, nativeStatus, type NativeKernelInfo } from './native/index.js';

registerWasmKernels();
// Over the wasm kernels: the native ones fall back to them for what they do not handle.
enableNativeKernels();

export const BACKEND_NAMES = ['wasm', 'cpu', 'tensorflow', 'webgpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const DEFAULT_BACKEND: BackendName = 'wasm';

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/** One line of `listBackends()`. */
export interface BackendInfo {
  readonly name: BackendName;
  readonly available: boolean;
  /** Why it cannot be used here, and what would make it usable; set when `available` is false. */
  readonly reason?: string;
  readonly isDefault: boolean;
  /** What it is on this machine (SIMD and threads, package version, GPU adapter ...). */
  readonly detail?: string;
  /** wasm only: the kernels the native addon can replace, whether each is native here, and why not. */
  readonly kernels?: readonly NativeKernelInfo[];
}

type Probe =
  | { readonly available: true; readonly detail?: string; readonly kernels?: readonly NativeKernelInfo[] }
  | { readonly available: false; readonly reason: string };

/**
 * Makes `name` the active tfjs backend and returns it, loading and registering an optional backend first
 * where needed. Throws UnknownNameError (naming the option and the known backends) for an unknown name and
 * BackendError (saying why and what to do) for one that cannot be used on this machine.
 */
export async function useBackend(name: string, optionPath = '--backend'): Promise<BackendName> {
  if (!isBackendName(name)) throw new UnknownNameError(optionPath, 'backend', name, BACKEND_NAMES);
  const probe = await prepare(name);
  if (!probe.available) throw new BackendError(`backend ${JSON.stringify(name)} is not available on this machine: ${probe.reason}`);
  if (tf.getBackend() !== name) {
    if (name === 'cpu') quietCpu();
    const ok = await tf.setBackend(name).catch(() => false);
    if (!ok) {
      throw new BackendError(
        `backend ${JSON.stringify(name)} was found but failed to initialise on this machine (tfjs logged the cause above); ` +
          `use --backend ${DEFAULT_BACKEND}`);
    }
  }
  await tf.ready();
  return name;
}

/** Every backend, whether it can be used here (initialising it if needed, without switching to it), and why not. */
export async function listBackends(): Promise<BackendInfo[]> {
  const out: BackendInfo[] = [];
  for (const name of BACKEND_NAMES) {
    let probe = await prepare(name);
    if (probe.available && !(await initialise(name))) {
      probe = { available: false, reason: 'registered, but initialising it failed (tfjs logged the cause above)' };
    }
    out.push(Object.freeze({ name, isDefault: name === DEFAULT_BACKEND, ...probe }));
  }
  return out;
}

/** Makes sure `name` is registered with tfjs (loading an optional backend), and says whether it can be used. */
async function prepare(name: BackendName): Promise<Probe> {
  switch (name) {
    case 'wasm':
      registerWasmKernels();
      enableNativeKernels();
      return { available: true, detail: await wasmDetail(), kernels: nativeKernelInfo() };
    case 'cpu':
      return { available: true, detail: "tfjs's pure-JS reference kernels: slow; the oracle for backend-equivalence tests" };
    case 'tensorflow':
      return loadTensorflow();
    case 'webgpu':
      return loadWebgpu();
  }
}

async function wasmDetail(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT').catch(() => false);
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT').catch(() => false);
  const threading = threads ? 'multi-threaded' : 'single-threaded (tfjs-backend-wasm disables its threads under Node)';
  const native = nativeStatus();
  const nativeDetail = native.available ? `; native kernels: ${native.addon.libraries()}, ${nativeThreads()} thread(s)` : '';
  return ['XNNPACK', simd ? 'SIMD' : 'no SIMD', threading].join(', ') + nativeDetail;
}

/** Initialises a registered backend without making it the active one; false when its initialisation fails. */
async function initialise(name: BackendName): Promise<boolean> {
  const engine = tf.engine() as unknown as {
    registry: Record<string, unknown>;
    initializeBackend?: (n: string) => { success: boolean | Promise<boolean> };
  };
  if (engine.registry[name]) return true;
  if (!tf.findBackendFactory(name)) return false;
  if (name === 'cpu') return quietCpu();
  if (typeof engine.initializeBackend === 'function') {
    return Boolean(await engine.initializeBackend(name).success);
  }
  // Fallback for a tfjs without the (private) method: switch to it and back.
  const previous = tf.getBackend();
  const ok = await tf.setBackend(name).catch(() => false);
  if (previous && previous !== name) await tf.setBackend(previous);
  return ok;
}

/**
 * Initialises the cpu backend and turns off its one-time console banner ("Hi, looks like you are running
 * TensorFlow.js in Node.js ... install our node backend"), printed on its first write, which reads as an
 * error in CLI output and is moot here (tfjs-node is the optional `tensorflow` backend).
 */
function quietCpu(): boolean {
  const cpu = tf.engine().findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
  return cpu != null;
}

/** Lowers an optional backend's tfjs priority to 0 so that a bare tf.ready() keeps preferring wasm. */
function demote(name: string): void {
  const entry = (tf.engine() as unknown as { registryFactory?: Record<string, { priority: number } | undefined> }).registryFactory?.[name];
  if (entry && entry.priority > 0) entry.priority = 0;
}

function errorMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0]!.trim();
}

function isNotInstalled(e: unknown, pkg: string): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && errorMessage(e).includes(`'${pkg}'`);
}

/** Optional loads happen once per process (they load native code); later calls get the same answer. */
const loaded = new Map<'tensorflow' | 'webgpu', Promise<Probe>>();

function once(name: 'tensorflow' | 'webgpu', load: () => Promise<Probe>): Promise<Probe> {
  let p = loaded.get(name);
  if (!p) {
    p = load().catch((e: unknown): Probe => ({ available: false, reason: `failed to load: ${errorMessage(e)}` }));
    loaded.set(name, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------- tensorflow

const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

function loadTensorflow(): Promise<Probe> {
  return once('tensorflow', async () => {
    if (tf.findBackendFactory('tensorflow')) return { available: true, detail: 'libtensorflow via tfjs-node (registered by the program)' };
    for (const pkg of TFJS_NODE_PACKAGES) {
      const previous = tf.getBackend();
      // tfjs-node loads @tensorflow/tfjs, which registers the same gradients; make room so nothing warns.
      unregisterVendoredGradients();
      let mod: { version?: Record<string, string> };
      try {
        const specifier: string = pkg; // not a dependency: keep TypeScript from resolving it
        mod = (await import(specifier)) as typeof mod;
      } catch (e) {
        if (isNotInstalled(e, pkg)) continue;
        return { available: false, reason: `${pkg} is installed but failed to load: ${errorMessage(e)}` };
      } finally {
        registerGradients();
      }
      // tfjs-node switches the active backend to itself on import; put it back.
      if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
      if (!tf.findBackendFactory('tensorflow')) {
        const theirs = mod.version?.['tfjs-core'] ?? 'another version';
        return {
          available: false,
          reason: `${pkg} loaded its own copy of @tensorflow/tfjs-core (${theirs}) instead of ${tf.version_core}; install the ${pkg} release matching @tensorflow/tfjs-core ${tf.version_core}`,
        };
      }
      demote('tensorflow');
      const version = mod.version?.['tfjs-node'] ?? '';
      return { available: true, detail: `${pkg}${version ? ` ${version}` : ''} (libtensorflow${pkg.endsWith('-gpu') ? ', CUDA' : ', CPU'})` };
    }
    return {
      available: false,
      reason:
        'not installed (npm install @tensorflow/tfjs-node, or @tensorflow/tfjs-node-gpu with CUDA 11; its install downloads libtensorflow)',
    };
  });
}

// -------------------------------------------------------------------------------------------------- webgpu

/** The part of npm `webgpu` (Dawn for Node) used here. */
interface DawnModule {
  create(flags: string[]): { requestAdapter(options?: object): Promise<DawnAdapter | null> };
  globals: Record<string, unknown>;
}
interface DawnAdapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}

/** Explains a failure to load Dawn's native binary: a glibc/libstdc++ too old for it, or the raw error. */
export function explainDawnLoadError(e: unknown): string {
  const message = errorMessage(e);
  const glibc = /GLIBC_(\d+(?:\.\d+)+)/.exec(message);
  if (glibc) {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    const have = header?.glibcVersionRuntime;
    return `Dawn's binary (npm "webgpu") needs glibc ${glibc[1]}, this machine has ${have ?? 'an older one'}`;
  }
  const glibcxx = /GLIBCXX_(\d+(?:\.\d+)+)/.exec(message);
  if (glibcxx) return `Dawn's binary (npm "webgpu") needs a libstdc++ with GLIBCXX_${glibcxx[1]}, which this machine lacks`;
  return `Dawn (npm "webgpu") failed to load: ${message}`;
}

/** Where a Linux program finds libvulkan.so.1, Dawn's only way to a GPU on Linux. */
function hasVulkanLoader(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu',
    '/lib/aarch64-linux-gnu', '/lib64', '/lib', '/usr/local/lib',
  ];
  return dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')));
}

function loadWebgpu(): Promise<Probe> {
  return once('webgpu', async () => {
    if (tf.findBackendFactory('webgpu')) return { available: true, detail: 'registered by the program' };
    let dawn: DawnModule;
    try {
      const specifier: string = 'webgpu'; // an optional dependency: may be absent
      dawn = (await import(specifier)) as DawnModule;
    } catch (e) {
      if (isNotInstalled(e, 'webgpu')) {
        return { available: false, reason: 'npm package "webgpu" (Dawn for Node, an optional dependency) is not installed' };
      }
      return { available: false, reason: explainDawnLoadError(e) };
    }
    if (process.platform === 'linux' && !hasVulkanLoader()) {
      // Dawn would print "Couldn't load Vulkan: libvulkan.so.1 ..." and answer no adapter.
      return {
        available: false,
        reason:
          'Dawn loads, but there is no Vulkan loader (libvulkan.so.1): on Linux Dawn reaches GPUs only through Vulkan ' +
          '(install libvulkan1 and the GPU vendor\'s Vulkan driver; Debian 12\'s CPU driver, lavapipe in mesa-vulkan-drivers 22.3, lacks a feature Dawn requires)',
      };
    }
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      return { available: false, reason: 'Dawn loads and finds the Vulkan loader, but no WebGPU adapter answered (no Vulkan driver for a GPU here?)' };
    }
    // tfjs-backend-webgpu expects a browser: navigator.gpu and the GPU* constant globals, present at its import.
    for (const [key, value] of Object.entries(dawn.globals)) {
      if (!(key in globalThis)) Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
    }
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    if (!g.navigator!.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!tf.findBackendFactory('webgpu')) {
      return { available: false, reason: '@tensorflow/tfjs-backend-webgpu did not register (it was imported before navigator.gpu existed?)' };
    }
    demote('webgpu');
    const info = adapter.info ?? {};
    const what = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ');
    return { available: true, detail: `Dawn${what ? `, adapter: ${what}` : ''}` };
  });
}
