/**
 * Accuracy under common corruptions: the classifier's accuracy on corrupted copies of test images for
 * every corruption and severity, at the end of the relaxation and at every time step of it (does the
 * dynamics clean the input up as it settles, or drift?). Hendrycks & Dietterich (2019) and MNIST-C report
 * mean accuracy/error over corruptions; both are given, per suite.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../base/rng.js';
import { corruptDataset, type Corruption } from '../data/corruptions.js';
import { toTensors, type Dataset } from '../data/index.js';
import type { DynamicsClassifier } from './classifier.js';
import { misclassified } from './losses.js';

export interface AccuracyWithSteps {
  readonly accuracy: number;
  /** Step indices of the records and the accuracy of the readout at each. */
  readonly steps: readonly number[];
  readonly perStep: readonly number[];
}

/** Final and per-step accuracy of the classifier on a dataset, in batches. */
export function accuracyWithSteps(classifier: DynamicsClassifier, data: Dataset, batchSize: number): AccuracyWithSteps {
  let correct = 0;
  let perStep: number[] = [];
  let steps: readonly number[] = [];
  for (let start = 0; start < data.count; start += batchSize) {
    const count = Math.min(batchSize, data.count - start);
    const { x, y } = toTensors(data, { start, count, layout: 'flat' });
    const run = classifier.run(x, { stepLogits: true });
    correct += count - misclassified(run.logits, y).reduce((s, v) => s + v, 0);
    const records = run.stepLogits!.steps.length;
    // Batches may stop at different steps (convergence is checked per batch): keep the common prefix.
    const here = Array.from({ length: records }, (_, i) => {
      const logits = tf.tidy(() => tf.gather(run.stepLogits!.values, i) as tf.Tensor as tf.Tensor2D);
      const wrong = misclassified(logits, y).reduce((s, v) => s + v, 0);
      logits.dispose();
      return count - wrong;
    });
    if (start === 0) {
      perStep = here;
      steps = run.stepLogits!.steps;
    } else {
      const n = Math.min(perStep.length, here.length);
      perStep = perStep.slice(0, n).map((v, i) => v + here[i]!);
      steps = steps.slice(0, n);
    }
    run.dispose();
    tf.dispose([x, y]);
  }
  return { accuracy: correct / data.count, steps, perStep: perStep.map((v) => v / data.count) };
}

export interface CorruptionResult {
  readonly corruption: string;
  readonly suite: string;
  readonly severity: number;
  readonly result: AccuracyWithSteps;
}

export function corruptionAccuracy(
  classifier: DynamicsClassifier,
  data: Dataset,
  corruptions: readonly Corruption[],
  rng: Rng,
  batchSize: number,
  onResult?: (r: CorruptionResult) => void,
): CorruptionResult[] {
  const out: CorruptionResult[] = [];
  for (const corruption of corruptions) {
    for (let severity = 1; severity <= corruption.severities; severity++) {
      const corrupted = corruptDataset(data, corruption, severity, rng);
      const r = { corruption: corruption.name, suite: corruption.suite, severity, result: accuracyWithSteps(classifier, corrupted, batchSize) };
      onResult?.(r);
      out.push(r);
    }
  }
  return out;
}
