/**
 * The memory a training run needs, for the comparison jobs' per-epoch records (EP vs BPTT, PC vs BP, CNN-F
 * vs CNN): the high-water marks of live tensor bytes and of resident memory, sampled by the caller (after
 * each relaxation step, each batch).
 */
import * as tf from '@tensorflow/tfjs-core';

/** High-water marks of tensor bytes and resident memory, sampled by `sample()`. */
export interface MemoryMeter {
  sample(): void;
  reset(): void;
  readonly peakTensorBytes: number;
  readonly peakRssBytes: number;
}

export function memoryMeter(): MemoryMeter {
  let tensors = 0;
  let rss = 0;
  return {
    sample() {
      tensors = Math.max(tensors, tf.memory().numBytes);
      rss = Math.max(rss, process.memoryUsage.rss());
    },
    reset() {
      tensors = 0;
      rss = 0;
    },
    get peakTensorBytes() {
      return tensors;
    },
    get peakRssBytes() {
      return rss;
    },
  };
}

