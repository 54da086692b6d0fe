import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../../src/app/execute.js';
import { loadModel } from '../../../src/runs/model-store.js';
import { validateSpec } from '../../../src/spec/parse.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-lca-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, say: () => {} };

function atomNorms(t: tf.Tensor): number[] {
  return tf.tidy(() => Array.from(tf.sqrt(tf.sum(tf.square(t), [0, 1, 2].slice(0, t.rank - 1))).dataSync()));
}

const convSystem = { kind: 'lca-conv', features: 4, kernelSize: 5, stride: 2, lambda: 0.3, tau: 10 };

describe('lca-dictionary job', () => {
  it('fully connected: learning lowers the test energy and reconstruction error; writes pictures and a loadable unit-norm dictionary', async () => {
    const out = path.join(root, 'fc');
    const spec = validateSpec({
      name: 'lca-dict-tiny',
      data: { name: 'mnist-embedded' },
      system: { kind: 'lca', features: 24, form: 'gram', lambda: 0.2, tau: 10 },
      run: { maxSteps: 60 },
      job: { kind: 'lca-dictionary', eta: 0.05, epochs: 2, batchSize: 32, trainExamples: 320, evalExamples: 60, atomsShown: 24 },
    });
    const { summary } = await executeRun(spec, { ...quiet, out });
    const m = summary.metrics as Record<string, number>;
    expect(m.energy_final).toBeLessThan(m.energy_final_initial_dictionary!);
    expect(m.recon_error_rel).toBeLessThan(m.recon_error_rel_initial_dictionary!);
    expect(m.fraction_active).toBeGreaterThan(0);
    expect(m.fraction_active).toBeLessThan(1);
    for (const f of ['atoms.png', 'reconstructions.png', 'energy-trajectory.svg', 'metrics.jsonl']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const model = loadModel(out);
    expect(model.params.dictionary!.shape).toEqual([784, 24]);
    for (const n of atomNorms(model.params.dictionary!)) expect(n).toBeCloseTo(1, 4);
    tf.dispose(Object.values(model.params));
  }, 120_000);

  it('convolutional dictionary, then an LCANet that loads it; fine-tuning through the relaxation moves the atoms and keeps them unit-norm', async () => {
    const dictOut = path.join(root, 'conv-dict');
    await executeRun(
      validateSpec({
        name: 'lca-conv-dict-tiny',
        data: { name: 'mnist-embedded' },
        system: convSystem,
        run: { maxSteps: 30 },
        job: { kind: 'lca-dictionary', eta: 0.1, epochs: 1, batchSize: 32, trainExamples: 96, evalExamples: 40, atomsShown: 4 },
      }),
      { ...quiet, out: dictOut },
    );
    const saved = loadModel(dictOut);
    expect(saved.params.dictionary!.shape).toEqual([5, 5, 1, 4]);

    const netOut = path.join(root, 'lcanet');
    const lcanetSpec = (job: Record<string, unknown>, run: Record<string, unknown> = {}) =>
      validateSpec({
        name: 'lcanet-tiny',
        data: { name: 'mnist-embedded' },
        system: convSystem,
        run: { maxSteps: 30, ...run },
        job: { kind: 'lcanet', dictionaryFrom: dictOut, epochs: 3, batchSize: 32, trainExamples: 512, testExamples: 100, noise: [0.2], channels: 8, ...job },
      });
    const { summary } = await executeRun(lcanetSpec({}), { ...quiet, out: netOut });
    const m = summary.metrics as { test_accuracy: number; baseline_test_accuracy: number; noise_accuracy: { lcanet: Record<string, number>; baseline: Record<string, number> }; fraction_active: number };
    // Well above chance (10%) after 3 short epochs on 512 digits.
    expect(m.test_accuracy).toBeGreaterThan(0.3);
    expect(m.baseline_test_accuracy).toBeGreaterThan(0.3);
    expect(Object.keys(m.noise_accuracy.lcanet)).toEqual(['0.2']);
    expect(Object.keys(m.noise_accuracy.baseline)).toEqual(['0.2']);
    const lcanet = loadModel(netOut);
    expect(Object.keys(lcanet.params).sort()).toEqual(['head.conv.bias', 'head.conv.weights', 'head.dense.bias', 'head.dense.weights', 'lca.dictionary']);
    // Frozen front end: the dictionary is the loaded one, unchanged.
    expect(Array.from(lcanet.params['lca.dictionary']!.dataSync())).toEqual(Array.from(saved.params.dictionary!.dataSync()));
    const baseline = loadModel(netOut, 'baseline-model');
    expect(baseline.params['front.weights']!.shape).toEqual([5, 5, 1, 4]);

    const tunedOut = path.join(root, 'lcanet-tuned');
    await executeRun(lcanetSpec({ fineTune: true, epochs: 1, trainExamples: 64, testExamples: 50, noise: [], baseline: false }, { gradient: 'truncated(3)' }), { ...quiet, out: tunedOut });
    const tuned = loadModel(tunedOut);
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(tuned.params['lca.dictionary']!, saved.params.dictionary!))).dataSync()[0]!);
    expect(moved).toBeGreaterThan(1e-4);
    for (const n of atomNorms(tuned.params['lca.dictionary']!)) expect(n).toBeCloseTo(1, 4);
    tf.dispose([...Object.values(saved.params), ...Object.values(lcanet.params), ...Object.values(baseline.params), ...Object.values(tuned.params)]);
  }, 120_000);

  it('bad options: fine-tuning without a gradient mode, a dictionary of the wrong shape', async () => {
    const base = { name: 'lcanet-bad', data: { name: 'mnist-embedded' }, system: convSystem, run: { maxSteps: 5 } };
    await expect(executeRun(validateSpec({ ...base, job: { kind: 'lcanet', fineTune: true, trainExamples: 32 } }), { ...quiet, out: path.join(root, 'bad1') })).rejects.toThrow(/run\.gradient.*fineTune/);
    const wrong = validateSpec({ ...base, system: { ...convSystem, features: 6 }, job: { kind: 'lcanet', dictionaryFrom: path.join(root, 'conv-dict'), trainExamples: 32 } });
    await expect(executeRun(wrong, { ...quiet, out: path.join(root, 'bad2') })).rejects.toThrow(/job\.dictionaryFrom.*\[5, 5, 1, 6\]/);
    expect(fs.existsSync(path.join(root, 'bad1'))).toBe(false);
  }, 60_000);
});
