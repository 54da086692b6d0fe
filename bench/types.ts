/**
 * The benchmark workload interface. One file per workload under `bench/workloads/<id>.ts`; each exports a
 * `Workload`, so that a system's own step (the LCA and EP families) can replace the body while the runner,
 * the shapes, the step count and the JSON stay the same.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { BenchRng } from './rng.js';

export interface WorkloadInstance {
  /** One step of the workload, as defined in WORKLOADS.md. Must leave the live tensor count unchanged. */
  step(): void;
  /**
   * The current result (a state tensor owned by the instance; the runner does not dispose it). The runner
   * reads one scalar reduced from it at the end of each timed repeat so that asynchronous backends finish
   * the work before the clock stops.
   */
  output?(): tf.Tensor;
  /** Frees every tensor the instance holds. */
  dispose(): void;
}

export interface Workload {
  /** The id in WORKLOADS.md and in torch_reference.py's JSON. */
  id: string;
  /** N: steps per timed repeat, the same as torch_reference.py. */
  steps: number;
  /** FLOPs of one step, where WORKLOADS.md gives a count. */
  flopsPerStep?: number;
  /**
   * Backends on which this workload cannot run (a missing kernel, say), with the reason; the runner
   * prints the reason and skips it instead of crashing.
   */
  unsupported?(backend: string): string | undefined;
  /** Kernels whose registered gradients the step needs (tf.grad through them); checked before running. */
  gradientsNeeded?: string[];
  setup(rng: BenchRng): WorkloadInstance;
}
