/**
 * Backend selection. This module (with the rest of `src/tensor/`) is the only place that imports tfjs
 * backends. Minimal version: cpu and wasm; the optional tensorflow and webgpu backends and the backend
 * listing are added here too.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { BackendError, UnknownNameError } from '../core/errors.js';

export const BACKEND_NAMES = ['wasm', 'cpu', 'tensorflow', 'webgpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const DEFAULT_BACKEND: BackendName = 'wasm';

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/** Makes `name` the active tfjs backend, or throws a BackendError saying why it cannot be used. */
export async function useBackend(name: string, optionPath = '--backend'): Promise<BackendName> {
  if (!isBackendName(name)) throw new UnknownNameError(optionPath, 'backend', name, BACKEND_NAMES);
  if (tf.getBackend() === name) return name;
  const ok = await tf.setBackend(name).catch(() => false);
  if (!ok) throw new BackendError(`backend ${JSON.stringify(name)} could not be initialised on this machine`);
  await tf.ready();
  return name;
}
