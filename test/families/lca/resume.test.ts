/**
 * The long LCA jobs checkpoint after every epoch: a run interrupted mid-training and resumed with
 * --resume ends with the same parameters, bit for bit, and the same metrics lines (times aside) as an
 * uninterrupted run of the same spec; the checkpoints are gone once the run folder is committed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../../src/app/execute.js';
import { checkpointDirFor } from '../../../src/runs/checkpoints.js';
import { loadModel } from '../../../src/runs/model-store.js';
import { validateSpec } from '../../../src/spec/parse.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-lca-resume-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, say: () => {} };
const system = { kind: 'lca', features: 16, form: 'gram', lambda: 0.2, tau: 10 };

/** metrics.jsonl without the wall-clock fields. */
const stableLines = (folder: string) =>
  fs
    .readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { seconds: _s, eval_seconds: _e, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });

function expectSameModels(a: string, b: string, models: readonly string[]): void {
  for (const model of models) {
    const pa = loadModel(a, model).params;
    const pb = loadModel(b, model).params;
    expect(Object.keys(pb).sort()).toEqual(Object.keys(pa).sort());
    for (const name of Object.keys(pa)) expect(Buffer.from(pb[name]!.dataSync().buffer), `${model}/${name}`).toEqual(Buffer.from(pa[name]!.dataSync().buffer));
    tf.dispose([...Object.values(pa), ...Object.values(pb)]);
  }
}

async function interruptedThenResumed(spec: () => ReturnType<typeof validateSpec>, name: string, interruptAt: string): Promise<{ straight: string; out: string; said: string[] }> {
  const straight = path.join(root, `${name}-straight`);
  await executeRun(spec(), { ...quiet, out: straight });
  expect(fs.existsSync(checkpointDirFor(straight))).toBe(false);
  const out = path.join(root, `${name}-interrupted`);
  const interrupt = (line: string) => {
    if (line.startsWith(interruptAt)) throw new Error('simulated interrupt');
  };
  await expect(executeRun(spec(), { quiet: true, say: interrupt, out })).rejects.toThrow('simulated interrupt');
  expect(fs.existsSync(checkpointDirFor(out))).toBe(true);
  expect(fs.existsSync(out)).toBe(false);
  await expect(executeRun(spec(), { ...quiet, out })).rejects.toThrow(/--resume: an interrupted run left checkpoints/);
  const said: string[] = [];
  const tensors = tf.memory().numTensors;
  await executeRun(spec(), { quiet: true, say: (l: string) => said.push(l), out, resume: true });
  // The restored parameters and optimizer state are freed like the trained ones.
  expect(tf.memory().numTensors).toBe(tensors);
  expect(fs.existsSync(checkpointDirFor(out))).toBe(false);
  expect(stableLines(out)).toEqual(stableLines(straight));
  return { straight, out, said };
}

describe('LCA jobs resume from their checkpoints', () => {
  it('lca-dictionary: interrupted after epoch 1 of 3, resumed, the same dictionary bit for bit', async () => {
    const spec = () =>
      validateSpec({
        name: 'lca-dict-resume',
        data: { name: 'mnist-embedded' },
        system,
        run: { maxSteps: 20 },
        job: { kind: 'lca-dictionary', eta: 0.05, epochs: 3, batchSize: 32, trainExamples: 96, evalExamples: 30, atomsShown: 16 },
      });
    const { straight, out, said } = await interruptedThenResumed(spec, 'dict', 'epoch 1/3:');
    expect(said).toContain('resuming after epoch 1 of 3');
    expect(said.some((l) => l.startsWith('epoch 1/3'))).toBe(false);
    expectSameModels(straight, out, ['model']);
    const summary = (folder: string) => JSON.parse(fs.readFileSync(path.join(folder, 'summary.json'), 'utf8')).metrics;
    expect(summary(out)).toEqual(summary(straight));
  }, 300_000);

  it('lcanet: interrupted in the head training after the dictionary was learned, resumed, the same models bit for bit', async () => {
    const spec = () =>
      validateSpec({
        name: 'lcanet-resume',
        data: { name: 'mnist-embedded' },
        system,
        run: { maxSteps: 20 },
        job: { kind: 'lcanet', head: 'mlp', hidden: 8, dictionaryExamples: 64, dictionaryEpochs: 2, epochs: 2, batchSize: 32, lr: 0.01, trainExamples: 96, testExamples: 30, noise: [], baseline: true },
      });
    const { straight, out, said } = await interruptedThenResumed(spec, 'lcanet', 'lcanet epoch 1/2:');
    // The finished dictionary training is replayed from its checkpoint, the head continues after its epoch 1.
    expect(said).toContain('dictionary: resuming after epoch 2 of 2');
    expect(said).toContain('lcanet: resuming after epoch 1 of 2');
    expectSameModels(straight, out, ['model', 'baseline-model']);
  }, 300_000);
});
