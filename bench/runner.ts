/**
 * Times the workloads exactly as torch_reference.py does: 2 warm-up steps, then the median of 5 timed
 * repeats of N steps, and checks that the live tensor count stays flat.
 */
import * as tf from '@tensorflow/tfjs-core';
import { liveTensorCount, nativeKernelsActive, nativeThreads } from '../src/tensor/index.js';
import { makeRng } from './rng.js';
import type { Workload } from './types.js';

export const WARMUP_STEPS = 2;
export const REPEATS = 5;

/** One line of the benchmark's JSON output; the keys of torch_reference.py. */
export interface BenchResult {
  workload: string;
  ms_per_step: number;
  steps: number;
  impl: string;
  threads: number;
  gflops?: number;
}

export interface Skipped {
  workload: string;
  skipped: string;
}

export interface RunOptions {
  /** Skip a workload whose estimated timed run (from the warm-up) exceeds this many seconds. */
  maxSeconds?: number;
  /** Wall time (default) or this process's CPU time (user + system), see compare.ts's BenchClock. */
  clock?: 'wall' | 'cpu';
}

/** Milliseconds of this process's CPU time (all its threads). */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
}

export function implName(): string {
  return `neurodyn-tfjs-${tf.version_core}-${tf.getBackend()}${nativeKernelsActive() ? '+native' : ''}`;
}

/**
 * Threads the active backend computes with: the native kernels' setting where they are active; else wasm
 * reports its own count (1 under Node); cpu is 1.
 */
export function backendThreads(): number {
  if (nativeKernelsActive()) return nativeThreads();
  const b = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  const n = b.wasm?.tfjs?.getThreadsCount?.();
  return typeof n === 'number' && n > 0 ? n : 1;
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

/** Runs one workload; returns its result, or a Skipped with the reason. Throws on a tensor leak. */
export function runWorkload(w: Workload, opts: RunOptions = {}): BenchResult | Skipped {
  const backend = tf.getBackend();
  const why = w.unsupported?.(backend);
  if (why) return { workload: w.id, skipped: why };
  const noGrad = (w.gradientsNeeded ?? []).filter((k) => tf.getGradient(k) === undefined);
  if (noGrad.length)
    return {
      workload: w.id,
      skipped: `no gradient registered for ${noGrad.join(', ')} (src/tensor/gradients.ts registers tfjs-core's gradients)`,
    };
  const now = opts.clock === 'cpu' ? cpuNow : () => performance.now();
  const inst = w.setup(makeRng(0));
  try {
    const sync = (): void => {
      const out = inst.output?.();
      if (!out) return;
      const s = tf.tidy(() => tf.sum(out));
      s.dataSync();
      s.dispose();
    };
    const before = liveTensorCount();
    let t = now();
    for (let i = 0; i < WARMUP_STEPS; i++) {
      if (i === WARMUP_STEPS - 1) t = now();
      inst.step();
    }
    sync();
    const warmMs = now() - t;
    const afterWarmup = liveTensorCount();
    if (afterWarmup !== before)
      throw new Error(`${w.id}: live tensors went from ${before} to ${afterWarmup} over ${WARMUP_STEPS} warm-up steps (leak)`);
    const estS = (warmMs * w.steps * REPEATS) / 1e3;
    if (opts.maxSeconds !== undefined && estS > opts.maxSeconds)
      return {
        workload: w.id,
        skipped: `estimated ${estS.toFixed(0)} s for ${REPEATS}×${w.steps} steps on ${backend} (${warmMs.toFixed(0)} ms/step) exceeds --max-seconds ${opts.maxSeconds}`,
      };
    const reps: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const t0 = now();
      for (let i = 0; i < w.steps; i++) inst.step();
      sync();
      reps.push((now() - t0) / w.steps);
    }
    const after = liveTensorCount();
    if (after !== before)
      throw new Error(`${w.id}: live tensors went from ${before} to ${after} over ${REPEATS * w.steps} steps (leak)`);
    const ms = median(reps);
    const res: BenchResult = { workload: w.id, ms_per_step: round(ms, 4), steps: w.steps, impl: implName(), threads: backendThreads() };
    if (w.flopsPerStep) res.gflops = round(w.flopsPerStep / (ms * 1e6), 3);
    return res;
  } finally {
    inst.dispose();
  }
}

export function isSkipped(r: BenchResult | Skipped): r is Skipped {
  return 'skipped' in r;
}

export interface KernelTime {
  kernel: string;
  inputShapes: string;
  calls: number;
  ms: number;
}

/**
 * Where one step's time goes: runs the 2 warm-up steps, then one step under tf.profile, and sums the
 * kernel times by kernel and input shapes (largest first). Also returns the unprofiled time of one step.
 */
export async function profileWorkload(w: Workload): Promise<{ stepMs: number; kernels: KernelTime[] } | Skipped> {
  const why = w.unsupported?.(tf.getBackend());
  if (why) return { workload: w.id, skipped: why };
  const noGrad = (w.gradientsNeeded ?? []).filter((k) => tf.getGradient(k) === undefined);
  if (noGrad.length) return { workload: w.id, skipped: `no gradient registered for ${noGrad.join(', ')}` };
  const inst = w.setup(makeRng(0));
  try {
    for (let i = 0; i < WARMUP_STEPS; i++) inst.step();
    const t0 = performance.now();
    inst.step();
    const out = inst.output?.();
    if (out) out.dataSync();
    const stepMs = performance.now() - t0;
    const info = await tf.profile(() => {
      inst.step();
    });
    const agg = new Map<string, KernelTime>();
    for (const k of info.kernels) {
      const t = await k.kernelTimeMs;
      const ms = typeof t === 'number' ? t : NaN;
      const inputShapes = JSON.stringify(k.inputShapes);
      const key = `${k.name} ${inputShapes}`;
      const a = agg.get(key) ?? { kernel: k.name, inputShapes, calls: 0, ms: 0 };
      a.calls++;
      a.ms += ms;
      agg.set(key, a);
    }
    return { stepMs, kernels: [...agg.values()].sort((a, b) => b.ms - a.ms) };
  } finally {
    inst.dispose();
  }
}
