/**
 * The lcanet job on the fully connected LCA: it trains, saves a model the attack loader turns into a
 * classifier, and that classifier's accuracy on the job's test images is the job's own test accuracy (the
 * same relaxation and head, computed by another path); the 'cnn' head is refused with a clear error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { executeRun } from '../../../src/app/execute.js';
import { loadModelSource } from '../../../src/app/model-source.js';
import { classifierFor } from '../../../src/attacks/models/index.js';
import { subset, toTensors } from '../../../src/data/index.js';
import { validateSpec } from '../../../src/spec/parse.js';

vi.setConfig({ testTimeout: 300_000 });

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-lcanet-fc-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, say: () => {} };
const system = { kind: 'lca', features: 32, form: 'gram', lambda: 0.2, tau: 10 };

describe('lcanet job, fully connected LCA', () => {
  it('trains an mlp head on the codes; the saved model, attacked as a classifier, scores the job’s test accuracy', async () => {
    const out = path.join(root, 'run');
    const testExamples = 60;
    const spec = validateSpec({
      name: 'lcanet-fc-tiny',
      data: { name: 'mnist-embedded' },
      system,
      run: { maxSteps: 30 },
      job: { kind: 'lcanet', head: 'mlp', hidden: 16, dictionaryExamples: 128, epochs: 3, batchSize: 32, lr: 0.01, trainExamples: 256, testExamples, noise: [0.2], baseline: true },
    });
    const { summary } = await executeRun(spec, { ...quiet, out });
    const m = summary.metrics as { test_accuracy: number; baseline_test_accuracy: number; noise_accuracy: { lcanet: Record<string, number> } };
    // Training moves the head: the loss falls from the first epoch to the last, for both arms.
    const epochs = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string; loss?: number });
    for (const arm of ['lcanet', 'baseline']) {
      const losses = epochs.filter((e) => e.phase === arm).map((e) => e.loss!);
      expect(losses.length, arm).toBe(3);
      expect(losses[2]!, arm).toBeLessThan(losses[0]!);
    }
    expect(m.baseline_test_accuracy).toBeGreaterThanOrEqual(0);
    expect(Object.keys(m.noise_accuracy.lcanet)).toEqual(['0.2']);
    expect(fs.existsSync(path.join(out, 'atoms.png'))).toBe(true);

    const before = tf.memory().numTensors;
    const { source } = loadModelSource(out);
    expect(Object.keys(source.trained!.params).sort()).toEqual(['head.dense.bias', 'head.dense.weights', 'head.hidden.bias', 'head.hidden.weights', 'lca.dictionary']);
    const classifier = classifierFor(source);
    const { x, y } = toTensors(subset(source.data.test, 0, testExamples), { layout: 'flat' });
    const run = classifier.run(x);
    const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(run.logits, 1), tf.cast(y, 'int32')), 'float32')).dataSync()[0]!);
    run.dispose();
    tf.dispose([x, y]);
    expect(correct / testExamples).toBeCloseTo(m.test_accuracy, 6);
    classifier.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses the 'cnn' head: the fully connected code has no spatial layout", async () => {
    const spec = validateSpec({ name: 'lcanet-fc-cnn', data: { name: 'mnist-embedded' }, system, run: { maxSteps: 5 }, job: { kind: 'lcanet', head: 'cnn', trainExamples: 32 } });
    await expect(executeRun(spec, { ...quiet, out: path.join(root, 'cnn') })).rejects.toThrow(/job\.head.*'mlp'/);
  });
});
