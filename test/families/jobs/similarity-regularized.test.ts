import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../../src/app/execute.js';
import { validateSpec } from '../../../src/spec/parse.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-similarity-job-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, say: () => {} };
const lcaSystem = { kind: 'lca', features: 16, form: 'gram', lambda: 0.2, tau: 10 };

const tinyJob = (targets: unknown[], extra: Record<string, unknown> = {}) => ({
  kind: 'similarity-regularized',
  targets,
  stimuli: 40,
  stimuliPerStep: 8,
  evalStimuli: 20,
  epochs: 2,
  trainExamples: 128,
  testExamples: 100,
  noiseExamples: 30,
  corruptionExamples: 10,
  minimalExamples: 8,
  minimalSteps: 3,
  bisections: 2,
  robustExamples: 8,
  attackSteps: 3,
  attacks: ['pgd'],
  robustEpsilons: [0.05],
  conv1: 4,
  conv2: 4,
  ...extra,
});

describe('similarity-regularized job', () => {
  it('trains baseline, regularized and shuffled arms per target (synthetic V1, a frozen LCA code, pixels) and evaluates them; no tensors left', async () => {
    const dictionary = path.join(root, 'dict');
    await executeRun(
      validateSpec({ name: 'dict', data: { name: 'mnist-embedded' }, system: lcaSystem, run: { maxSteps: 30 }, job: { kind: 'lca-dictionary', eta: 0.05, epochs: 1, batchSize: 32, trainExamples: 64, evalExamples: 20, atomsShown: 16 } }),
      { ...quiet, out: dictionary },
    );
    const out = path.join(root, 'sim');
    // executeRun itself fails when the job leaves tensors allocated.
    const { summary } = await executeRun(
      validateSpec({
        name: 'similarity-tiny',
        data: { name: 'mnist-embedded' },
        system: lcaSystem,
        run: { maxSteps: 30 },
        job: tinyJob([{ kind: 'synthetic-v1', units: 30, repeats: 3 }, { kind: 'frozen-model', name: 'lca', from: dictionary }, { kind: 'pixels', threshold: 0.8 }]),
      }),
      { ...quiet, out },
    );
    const arms = (summary.metrics as { arms: Record<string, Record<string, unknown>> }).arms;
    expect(Object.keys(arms).sort()).toEqual(['baseline', 'lca', 'lca-shuffled', 'pixels', 'pixels-shuffled', 'v1', 'v1-shuffled']);
    for (const [name, arm] of Object.entries(arms)) {
      // A few steps on 128 images: accuracy is near chance, only its range is checked here.
      expect(arm.clean_accuracy as number, name).toBeGreaterThanOrEqual(0);
      expect(arm.clean_accuracy as number, name).toBeLessThanOrEqual(1);
      const gammas = arm.gamma_trajectory as number[][];
      expect(gammas).toHaveLength(2);
      for (const g of gammas) expect(g[0]! + g[1]!).toBeCloseTo(1, 5);
      expect(Object.values(arm.noise_accuracy as Record<string, number[]>).every((c) => c.length === 10)).toBe(true);
      // Over the clean-correct examples only: NaN when there are none.
      const minimal = arm.median_min_linf as number;
      if ((arm.minimal_examples as number) > 0) expect(minimal > 0 && minimal <= Infinity, name).toBe(true);
      else expect(minimal).toBeNaN();
      expect((arm.similarity_correlation as unknown[]).length).toBe(2);
    }
    // γ moves only where the similarity loss reaches it.
    expect(arms.baseline!.gamma).toEqual([0.5, 0.5]);
    expect((arms.v1!.gamma as number[])[0]).not.toBe(0.5);
    for (const f of ['similarity-v1.png', 'similarity-lca.png', 'similarity-pixels.png', 'noise-gaussian.svg', 'noise-uniform.svg', 'noise-salt-and-pepper.svg', 'model-v1/model.json']) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
  }, 300_000);

  it('says what is wrong with a bad set-up', async () => {
    const run = (job: Record<string, unknown>, system: Record<string, unknown> = lcaSystem) =>
      executeRun(validateSpec({ name: 'bad', data: { name: 'mnist-embedded' }, system, run: { maxSteps: 10 }, job }), { ...quiet, out: path.join(root, 'bad') });
    await expect(run(tinyJob([{ kind: 'pixels' }], { stimuliPerStep: 50 }))).rejects.toThrow(/stimuliPerStep: must be at most job.stimuli \(40\)/);
    await expect(run(tinyJob([{ kind: 'pixels' }, { kind: 'pixels' }]))).rejects.toThrow(/target names must differ/);
    await expect(run(tinyJob([{ kind: 'frozen-model', from: path.join(root, 'nowhere') }]))).rejects.toThrow(/holds no trained model/);
    await expect(run(tinyJob([{ kind: 'responses', file: path.join(root, 'missing.npy') }]))).rejects.toThrow(/does not exist/);
    expect(fs.existsSync(path.join(root, 'bad'))).toBe(false);
  }, 120_000);
});
