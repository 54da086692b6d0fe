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

/**
 * Resident memory is read at most once per this many milliseconds: each read is a system call (~80 µs here),
 * and sampled after every relaxation step it was 20% of an EP relaxation's time (784-500-10, batch 20);
 * resident memory does not move much within a few milliseconds. Tensor bytes are read at every sample.
 */
const RSS_INTERVAL_MS = 5;

export function memoryMeter(): MemoryMeter {
  let tensors = 0;
  let rss = 0;
  let rssReadAt = Number.NEGATIVE_INFINITY;
  return {
    sample() {
      tensors = Math.max(tensors, tf.memory().numBytes);
      const now = performance.now();
      if (now - rssReadAt >= RSS_INTERVAL_MS) {
        rssReadAt = now;
        rss = Math.max(rss, process.memoryUsage.rss());
      }
    },
    reset() {
      tensors = 0;
      rss = 0;
      rssReadAt = Number.NEGATIVE_INFINITY;
    },
    get peakTensorBytes() {
      return tensors;
    },
    get peakRssBytes() {
      return rss;
    },
  };
}

