/**
 * What the CNN-F job measures on a trained model:
 *
 * - accuracy against the number of test-time cycles t = 0 … T (paper Fig. 3b), with both readouts: the
 *   last pass's logits z_t and the mean of z_0 … z_t. One relaxation of T cycles gives the whole curve.
 * - robust accuracy under L∞ PGD at each ε, with the attack aimed at the scored output through the whole
 *   loop ('e2e') or with the first pass's gradient ('first'), through the shared robustness evaluation
 *   (attacks/evaluate.ts: best iterate, per-example worst case, Wilson intervals).
 * - image repair (ind = 0 only): for corrupted test images, the reconstruction r_t = g(z_{t−1}) and the
 *   features h_t of every cycle mapped back to pixels ((v + 1)/2), with their MSE and PSNR = 10 log₁₀(1/MSE)
 *   against the clean image (the paper shows this only as pictures), and a strip per corruption: rows are
 *   examples; columns the clean image, the corrupted one, then r_1 … r_T.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../base/rng.js';
import { attackModel } from '../../attacks/attack-model.js';
import { evaluateRobustness } from '../../attacks/evaluate.js';
import { pgd } from '../../attacks/pgd.js';
import { corruptDataset, getCorruption } from '../../data/corruptions.js';
import { toTensors, type Dataset } from '../../data/index.js';
import { cnnfClassifier, type AttackSurface } from './classifier.js';
import { runCycles } from './run-cycles.js';
import type { CnnfParams, CnnfSystem } from './system.js';

export interface CycleCurve {
  /** accuracy[t] after t cycles (t = 0: the first pass), per readout. */
  readonly last: number[];
  readonly average: number[];
  /**
   * For the average readout, per t: images right after t cycles and wrong at t = 0 (gained), and the
   * reverse (lost), so the change over cycles is tested on the same images (base/statistics.ts).
   */
  readonly averageGained: number[];
  readonly averageLost: number[];
}

export function accuracyByCycle(system: CnnfSystem, params: CnnfParams, data: Dataset, cycles: number, batchSize = 500): CycleCurve {
  const zeros = () => new Array<number>(cycles + 1).fill(0);
  const [last, average, gained, lost] = [zeros(), zeros(), zeros(), zeros()];
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const { x, y } = toTensors(data, { start, count: n, layout: 'nhwc' });
    const counts = tf.tidy(() => {
      const passes = runCycles(system, params, x, cycles, { passes: true }).passes!;
      const labels = tf.cast(y, 'int32');
      const correct = (logits: tf.Tensor) => tf.cast(tf.equal(tf.argMax(logits, -1), labels), 'float32');
      const steps = tf.reshape(tf.range(1, cycles + 2, 1, 'float32'), [cycles + 1, 1, 1]);
      const running = correct(tf.div(tf.cumsum(passes, 0), steps));
      const first = tf.slice(running, [0, 0], [1, -1]);
      return tf.stack([tf.sum(correct(passes), -1), tf.sum(running, -1), tf.sum(tf.mul(running, tf.sub(1, first)), -1), tf.sum(tf.mul(tf.sub(1, running), first), -1)]);
    });
    const values = counts.arraySync() as number[][];
    counts.dispose();
    tf.dispose([x, y]);
    [last, average, gained, lost].forEach((into, k) => values[k]!.forEach((v, t) => (into[t]! += v)));
  }
  const rate = (v: number[]) => v.map((c) => c / data.count);
  return { last: rate(last), average: rate(average), averageGained: gained, averageLost: lost };
}

export interface RobustnessRow {
  readonly surface: AttackSurface;
  readonly epsilon: number;
  readonly accuracy: number;
  readonly interval: readonly [number, number];
  readonly seconds: number;
  /** Per example, 1 where it was right clean and PGD did not break it: what a paired comparison between models needs. */
  readonly robust: Uint8Array;
}

export interface RobustnessOptions {
  readonly epsilons: readonly number[];
  readonly steps: number;
  readonly restarts: number;
  readonly surfaces: readonly AttackSurface[];
  readonly batchSize: number;
}

/** PGD robust accuracy of one model per surface and ε, on `data` (all of it). */
export function pgdRobustness(system: CnnfSystem, params: CnnfParams, cycles: number, data: Dataset, options: RobustnessOptions, rng: Rng, say: (line: string) => void): RobustnessRow[] {
  const { x, y } = toTensors(data, { layout: 'flat' });
  const labels = tf.cast(y, 'int32') as tf.Tensor1D;
  const rows: RobustnessRow[] = [];
  try {
    // With no cycles the two surfaces are the same function.
    for (const surface of cycles === 0 ? options.surfaces.slice(0, 1) : options.surfaces) {
      const owned = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, t.clone()]));
      const classifier = cnnfClassifier({ system, params: owned, cycles, surface });
      try {
        const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
        const attack = pgd({ steps: options.steps, restarts: options.restarts });
        for (const epsilon of options.epsilons) {
          const began = performance.now();
          const report = evaluateRobustness({ model, attacks: [attack], x, labels, norm: 'linf', epsilons: [epsilon], rng: rng.split(`${surface}-${epsilon}`), batchSize: options.batchSize });
          const outcome = report.perEpsilon[0]!;
          const row = { surface, epsilon, accuracy: outcome.robustAccuracy, interval: outcome.interval, seconds: (performance.now() - began) / 1000, robust: outcome.robust };
          rows.push(row);
          say(`  ${cycles} cycles, PGD-${options.steps} ${surface}, ε = ${epsilon}: ${(100 * row.accuracy).toFixed(1)}% [${(100 * row.interval[0]).toFixed(1)}, ${(100 * row.interval[1]).toFixed(1)}] (${row.seconds.toFixed(0)} s)`);
        }
      } finally {
        classifier.dispose();
      }
    }
  } finally {
    tf.dispose([x, y, labels]);
  }
  return rows;
}

export interface RepairRow {
  readonly corruption: string;
  readonly severity: number;
  readonly examples: number;
  /** Per cycle t = 1 … T: MSE and PSNR of r_t and of h_t to the clean image; t = 0 entry: the corrupted image itself. */
  readonly corruptedMse: number;
  readonly corruptedPsnr: number;
  readonly reconMse: number[];
  readonly reconPsnr: number[];
  readonly featureMse: number[];
  readonly featurePsnr: number[];
}

const psnr = (mse: number) => 10 * Math.log10(1 / Math.max(mse, 1e-12));

/** Image repair for a model with ind = 0; returns the numbers and the strip's pixels (rows × (2 + T) tiles). */
export function imageRepair(system: CnnfSystem, params: CnnfParams, cycles: number, data: Dataset, corruption: string, severity: number, rng: Rng): { row: RepairRow; strip: Float32Array } {
  const clean = data;
  const corrupted = corruptDataset(clean, getCorruption(corruption, 'job.repair.corruptions'), severity, rng);
  const { x: xc, y: yc } = toTensors(clean, { layout: 'nhwc' });
  const { x, y } = toTensors(corrupted, { layout: 'nhwc' });
  const result = tf.tidy(() => {
    const run = runCycles(system, params, x, cycles, { recons: true });
    const toPixels = (t: tf.Tensor) => tf.clipByValue(tf.div(tf.add(t, 1), 2), 0, 1);
    // h_t = h_{t-1} + η(r_t − h_{t-1}) from h_0 = 2x − 1, recomputed from the recorded reconstructions.
    const eta = system.options.eta;
    let h: tf.Tensor = tf.sub(tf.mul(x, 2), 1);
    const features: tf.Tensor[] = [];
    for (let t = 0; t < cycles; t++) {
      const r = tf.squeeze(tf.slice(run.recons!, [t], [1]), [0]);
      h = tf.add(h, tf.mul(tf.sub(r, h), eta));
      features.push(toPixels(h));
    }
    const recon = toPixels(run.recons!);
    const mseOf = (images: tf.Tensor) => tf.mean(tf.square(tf.sub(images, tf.expandDims(xc, 0))), [1, 2, 3, 4]);
    return { recon, reconMse: mseOf(recon), featureMse: mseOf(tf.stack(features)), corruptedMse: tf.mean(tf.square(tf.sub(x, xc))) };
  });
  const reconMse = Array.from(result.reconMse.dataSync());
  const featureMse = Array.from(result.featureMse.dataSync());
  const corruptedMse = result.corruptedMse.dataSync()[0]!;
  const n = clean.count;
  const pixels = clean.height * clean.width;
  const reconValues = result.recon.dataSync() as Float32Array;
  const strip = new Float32Array(n * (2 + cycles) * pixels);
  for (let i = 0; i < n; i++) {
    const base = i * (2 + cycles) * pixels;
    strip.set(clean.images.subarray(i * pixels, (i + 1) * pixels), base);
    strip.set(corrupted.images.subarray(i * pixels, (i + 1) * pixels), base + pixels);
    for (let t = 0; t < cycles; t++) strip.set(reconValues.subarray((t * n + i) * pixels, (t * n + i + 1) * pixels), base + (2 + t) * pixels);
  }
  tf.dispose([xc, yc, x, y, result.recon, result.reconMse, result.featureMse, result.corruptedMse]);
  return {
    row: {
      corruption,
      severity,
      examples: n,
      corruptedMse,
      corruptedPsnr: psnr(corruptedMse),
      reconMse,
      reconPsnr: reconMse.map(psnr),
      featureMse,
      featurePsnr: featureMse.map(psnr),
    },
    strip,
  };
}
