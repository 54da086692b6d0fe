import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng, randomUniform } from '../../../src/base/rng.js';
import { attackModel } from '../../../src/attacks/attack-model.js';
import { classifierFor } from '../../../src/attacks/models/source.js';
import { loadModelSource } from '../../../src/app/model-source.js';
import { UnmappableError, nirMappers } from '../../../src/export/nir-mapping.js';
import { cnnfFamily } from '../../../src/families/cnn-f/index.js';
import { cnnfClassifier } from '../../../src/families/cnn-f/classifier.js';
import { cnnfLoss, pgdExamples } from '../../../src/families/cnn-f/loss.js';
import { clipByGlobalNorm, polyRate } from '../../../src/families/cnn-f/optimizer.js';
import { runCycles } from '../../../src/families/cnn-f/run-cycles.js';
import { cnnf, type CnnfParams } from '../../../src/families/cnn-f/system.js';
import type { LayerSpec } from '../../../src/families/cnn-f/system-layers.js';
import { familyProblems } from '../../../src/families/registry.js';
import { checkpointDirFor } from '../../../src/runs/checkpoints.js';
import { executeRun } from '../../../src/app/execute.js';
import { loadModel } from '../../../src/runs/model-store.js';
import { validateSpec } from '../../../src/spec/parse.js';
import { liveTensorCount, useBackend } from '../../../src/tensor/index.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-cnnf-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await useBackend('wasm');
});

/** 28×28 → conv 4 → pool 14 → conv 6 → pool 7 → fc 294→10; ind = 4 (the loop spans the second block and the fc). */
const TINY: LayerSpec[] = [
  { type: 'conv', channels: 4 },
  { type: 'norm' },
  { type: 'adarelu' },
  { type: 'adapool' },
  { type: 'conv', channels: 6 },
  { type: 'norm' },
  { type: 'adarelu' },
  { type: 'adapool' },
  { type: 'flatten' },
  { type: 'linear', units: 10 },
];

function spec(job: Record<string, unknown> = {}) {
  return validateSpec({
    name: 'cnnf-tiny',
    seed: 2,
    backend: 'wasm',
    data: { name: 'mnist-embedded' },
    system: { kind: 'cnn-f', architecture: TINY, ind: 4, eta: 0.1, readout: 'average' },
    run: { maxSteps: 2 },
    job: { kind: 'cnnf-train', cycles: [0, 2], epochs: 2, batchSize: 50, lr: 0.05, trainLimit: 400, testLimit: 200, testCycles: 3, ...job },
  });
}
const quiet = { quiet: true, say: () => {} };

function numbers(folder: string): unknown[] {
  return fs
    .readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const { seconds: _s, eval_seconds: _e, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });
}

describe('cnnf-train job', () => {
  const straight = path.join(root, 'straight');

  it('trains the CNN and CNN-F-2 from the same start, learns, saves every model, leaks nothing (executeRun checks) and clears its checkpoints', async () => {
    const { summary } = await executeRun(spec(), { ...quiet, out: straight });
    const models = summary.metrics.models as Record<string, { test_accuracy: number; history: { epoch: number }[] }>;
    expect(Object.keys(models).sort()).toEqual(['0', '2']);
    for (const m of Object.values(models)) {
      expect(m.test_accuracy).toBeGreaterThan(0.3);
      expect(m.history.map((h) => h.epoch)).toEqual([1, 2]);
    }
    expect(loadModel(straight, 'model-c0').meta).toMatchObject({ cycles: 0 });
    expect(loadModel(straight).meta).toMatchObject({ cycles: 2 });
    const lines = numbers(straight) as { phase: string; cycles: number; accuracy_last?: number[] }[];
    expect(lines.filter((l) => l.phase === 'cycles').map((l) => l.accuracy_last!.length)).toEqual([4, 4]);
    expect(fs.existsSync(path.join(straight, 'curves.svg'))).toBe(true);
    expect(fs.existsSync(checkpointDirFor(straight))).toBe(false);
  }, 300_000);

  it('an interrupted run resumed with --resume gives the same numbers and models', async () => {
    const out = path.join(root, 'interrupted');
    const interrupt = (line: string) => {
      if (line.startsWith('2 cycles, epoch 1/2')) throw new Error('simulated interrupt');
    };
    await expect(executeRun(spec(), { quiet: true, say: interrupt, out })).rejects.toThrow('simulated interrupt');
    expect(fs.existsSync(checkpointDirFor(out))).toBe(true);
    await expect(executeRun(spec(), { ...quiet, out })).rejects.toThrow(/--resume: an interrupted run left checkpoints/);
    const said: string[] = [];
    await executeRun(spec(), { quiet: true, say: (l: string) => said.push(l), out, resume: true });
    expect(said.some((l) => l.startsWith('0 cycles: resuming after epoch 2 of 2'))).toBe(true);
    expect(said.some((l) => l.startsWith('2 cycles: resuming after epoch 1 of 2'))).toBe(true);
    expect(numbers(out)).toEqual(numbers(straight));
    const a = loadModel(straight).params;
    const b = loadModel(out).params;
    for (const name of Object.keys(a)) expect(Buffer.from(b[name]!.dataSync().buffer)).toEqual(Buffer.from(a[name]!.dataSync().buffer));
  }, 300_000);

  it('the run folder is an attackable classifier: the e2e surface scores the saved model after its cycles', () => {
    const before = liveTensorCount();
    const { source } = loadModelSource(straight);
    const classifier = classifierFor(source);
    expect(classifier.name).toContain('2 cycles');
    const params = loadModel(straight).params as CnnfParams;
    const system = cnnf({ layers: TINY, ind: 4, eta: 0.1, readout: 'average', inputShape: [28, 28, 1] });
    const x = randomUniform(makeRng(1), [3, 784]);
    const run = classifier.run(x);
    tf.tidy(() => {
      const expected = runCycles(system, params, x, 2).scores;
      expect(tf.max(tf.abs(tf.sub(run.logits, expected))).dataSync()[0]).toBe(0);
    });
    run.dispose();
    classifier.dispose();
    tf.dispose([x, ...Object.values(params)]);
    expect(liveTensorCount()).toBe(before);
  }, 60_000);

  it('initFrom starts a model from a saved one (by default model-c<cycles>): at a learning rate too small to move a float32 weight it ends bit-identical to the source and scores the same', async () => {
    const out = path.join(root, 'init-from');
    const job = { cycles: [2], epochs: 1, lr: 1e-30, weightDecay: 0, momentum: 0, initFrom: { run: straight } };
    await executeRun(spec(job), { ...quiet, out });
    const source = loadModel(straight, 'model-c2').params;
    const tuned = loadModel(out, 'model-c2');
    expect(tuned.meta).toMatchObject({ initFrom: { run: straight, model: 'model-c2' } });
    for (const name of Object.keys(source)) expect(Buffer.from(tuned.params[name]!.dataSync().buffer)).toEqual(Buffer.from(source[name]!.dataSync().buffer));
    const curve = (folder: string) => (numbers(folder) as { phase: string; cycles: number; accuracy_average?: number[] }[]).find((l) => l.phase === 'cycles' && l.cycles === 2)!.accuracy_average;
    expect(curve(out)).toEqual(curve(straight));
    tf.dispose([...Object.values(source), ...Object.values(tuned.params)]);
  }, 300_000);

  it('robustness_paired compares each CNN-F model with the CNN image by image: its counts agree with the two accuracies and with the metrics', async () => {
    const out = path.join(root, 'paired');
    const n = 40;
    const { summary } = await executeRun(spec({ cycles: [0, 1], epochs: 1, trainLimit: 200, testLimit: 100, testCycles: 1, robustness: { examples: n, epsilons: [0, 0.1], steps: 3, surfaces: ['e2e'] } }), { ...quiet, out });
    const metrics = summary.metrics as { models: Record<string, { robustness: { epsilon: number; accuracy: number }[] }>; robustness_paired: { cycles: number; epsilon: number; cnn_accuracy: number; cnnf_accuracy: number; only_cnnf: number; only_cnn: number; difference: number; interval: number[]; p: number }[] };
    const paired = metrics.robustness_paired;
    expect(paired.map((r) => [r.cycles, r.epsilon])).toEqual([[1, 0], [1, 0.1]]);
    for (const r of paired) {
      const accuracyOf = (cycles: number) => metrics.models[String(cycles)]!.robustness.find((row) => row.epsilon === r.epsilon)!.accuracy;
      expect(r.cnn_accuracy).toBeCloseTo(accuracyOf(0), 12);
      expect(r.cnnf_accuracy).toBeCloseTo(accuracyOf(1), 12);
      expect(r.only_cnnf - r.only_cnn).toBe(Math.round((r.cnnf_accuracy - r.cnn_accuracy) * n));
      expect(r.interval[0]).toBeLessThanOrEqual(r.difference);
      expect(r.interval[1]).toBeGreaterThanOrEqual(r.difference);
      expect(r.p).toBeGreaterThan(0);
      expect(r.p).toBeLessThanOrEqual(1);
    }
    // Robust at ε 0.1 implies right clean (ε 0), image by image.
    expect(paired[0]!.cnnf_accuracy).toBeGreaterThanOrEqual(paired[1]!.cnnf_accuracy);
    const lines = numbers(out) as { phase: string; cycles: number; accuracy: number; robust_examples: number; robust?: unknown }[];
    for (const line of lines.filter((l) => l.phase === 'robustness')) {
      expect(line.robust).toBeUndefined();
      expect(line.robust_examples).toBe(Math.round(line.accuracy * n));
    }
  }, 300_000);

  it('initFrom that does not fit is a SpecError naming job.initFrom', async () => {
    const other = { ...spec({ initFrom: { run: straight, model: 'model-c2' } }) };
    const wider = validateSpec({ ...other, system: { ...other.system, architecture: TINY.map((l) => (l.type === 'conv' && l.channels === 6 ? { ...l, channels: 5 } : l)) } });
    await expect(executeRun(wider, { ...quiet, out: path.join(root, 'bad-init1') })).rejects.toThrow(/job\.initFrom: .*does not fit system\.architecture: its .* has shape \[.*\] where this network needs/);
    await expect(executeRun(spec({ initFrom: { run: path.join(root, 'nowhere') } }), { ...quiet, out: path.join(root, 'bad-init2') })).rejects.toThrow(/job\.initFrom: .*holds no trained model/);
  }, 60_000);

  it('bad options name the field', async () => {
    await expect(executeRun(spec({ repair: {} }), { ...quiet, out: path.join(root, 'bad1') })).rejects.toThrow(/job\.repair: .*system\.ind = 0/);
    await expect(executeRun(spec({ cycles: [1, 1] }), { ...quiet, out: path.join(root, 'bad2') })).rejects.toThrow(/job\.cycles/);
    expect(() => spec({ adversarial: { surface: 'middle' } })).toThrow(/job/);
  }, 60_000);
});

describe('cnn-f attack surfaces, loss and optimiser', () => {
  const system = cnnf({ layers: TINY, ind: 4, eta: 0.3, readout: 'average', inputShape: [28, 28, 1] });
  const labels = () => tf.tensor1d([1, 7, 3], 'int32');

  it("'first' and 'e2e' score the same output; 'e2e' differentiates it, 'first' takes the first pass's Jacobian at the scored logits", () => {
    const params = system.initParams(makeRng(4));
    const x = randomUniform(makeRng(5), [3, 784]);
    const y = labels();
    const ce = (logits: tf.Tensor) => tf.sum(tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), logits as tf.Tensor2D, undefined, undefined, tf.Reduction.NONE));
    const grads: Record<string, tf.Tensor> = {};
    for (const surface of ['first', 'e2e'] as const) {
      const owned = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, t.clone()]));
      const classifier = cnnfClassifier({ system, params: owned, cycles: 3, surface });
      const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
      const { gradient, logits } = model.gradient(x, y, 'ce');
      tf.tidy(() => {
        expect(tf.max(tf.abs(tf.sub(logits, runCycles(system, params, x, 3).scores))).dataSync()[0]).toBeLessThan(1e-5);
      });
      grads[surface] = gradient;
      logits.dispose();
      classifier.dispose();
    }
    tf.tidy(() => {
      const e2e = tf.grad((xx: tf.Tensor) => ce(runCycles(system, params, xx, 3, { gradient: { kind: 'unrolled' } }).scores))(x);
      const scored = runCycles(system, params, x, 3).scores;
      const gap = tf.sub(scored, runCycles(system, params, x, 0).scores);
      const first = tf.grad((xx: tf.Tensor) => ce(tf.add(runCycles(system, params, xx, 0).scores, gap)))(x);
      const scale = tf.max(tf.abs(e2e)).dataSync()[0]!;
      expect(tf.max(tf.abs(tf.sub(grads.e2e!, e2e))).dataSync()[0]! / scale).toBeLessThan(1e-5);
      expect(tf.max(tf.abs(tf.sub(grads.first!, first))).dataSync()[0]! / scale).toBeLessThan(1e-5);
      // The two surfaces are different directions (the feedback changes the Jacobian).
      expect(tf.max(tf.abs(tf.sub(grads.first!, grads.e2e!))).dataSync()[0]! / scale).toBeGreaterThan(1e-3);
    });
    tf.dispose([x, y, ...Object.values(grads), ...Object.values(params)]);
  });

  it('the loss: zero cycles is the plain cross-entropy; the MSE term is mean((r_t − h₀)²) over cycles; PGD stays in the ε-ball and [0, 1]', () => {
    const params = system.initParams(makeRng(6));
    const x = randomUniform(makeRng(7), [3, 28, 28, 1]);
    const y = labels();
    tf.tidy(() => {
      const plain = tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), runCycles(system, params, x, 0).scores);
      const l0 = cnnfLoss({ system, cycles: 0, mseWeight: 0.7, cleanWeight: 1 }, params, x, y);
      expect(Math.abs(l0.loss.dataSync()[0]! - plain.dataSync()[0]!)).toBeLessThan(1e-6);
      const run = runCycles(system, params, x, 2, { passes: true, recons: true });
      const ce = tf.losses.softmaxCrossEntropy(tf.tile(tf.oneHot(y, 10), [3, 1]), tf.reshape(run.passes!, [9, 10]));
      const mse = tf.mean(tf.stack([0, 1].map((t) => tf.mean(tf.square(tf.sub(tf.squeeze(tf.slice(run.recons!, [t], [1]), [0]), run.h0))))));
      const l2 = cnnfLoss({ system, cycles: 2, mseWeight: 0.7, cleanWeight: 1 }, params, x, y);
      expect(Math.abs(l2.loss.dataSync()[0]! - (ce.dataSync()[0]! + 0.7 * mse.dataSync()[0]!))).toBeLessThan(1e-5);
      for (const surface of ['first', 'e2e'] as const) {
        const adv = pgdExamples(system, params, x, y, 2, { surface, epsilon: 0.1, steps: 3, stepSize: 0.04 }, makeRng(8));
        expect(tf.max(tf.abs(tf.sub(adv, x))).dataSync()[0]!).toBeLessThanOrEqual(0.1 + 1e-6);
        expect(tf.min(adv).dataSync()[0]!).toBeGreaterThanOrEqual(0);
        expect(tf.max(adv).dataSync()[0]!).toBeLessThanOrEqual(1);
        // The attack raises the loss it climbs.
        const before = tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), runCycles(system, params, x, surface === 'first' ? 0 : 2).scores).dataSync()[0]!;
        const after = tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), runCycles(system, params, adv, surface === 'first' ? 0 : 2).scores).dataSync()[0]!;
        expect(after).toBeGreaterThan(before);
      }
    });
    tf.dispose([x, y, ...Object.values(params)]);
  });

  it('poly schedule and global-norm clipping', () => {
    expect(polyRate(0.05, 0, 100, 0.9)).toBe(0.05);
    expect(polyRate(0.05, 50, 100, 0.9)).toBeCloseTo(0.05 * 0.5 ** 0.9, 12);
    expect(polyRate(0.05, 100, 100, 0.9)).toBe(0);
    tf.tidy(() => {
      const g = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([4]) };
      const clipped = clipByGlobalNorm(g, 0.5);
      expect(Array.from(clipped.a!.dataSync())).toEqual([0.3, 0].map((v) => Math.fround(v)));
      expect(clipped.b!.dataSync()[0]).toBeCloseTo(0.4, 6);
      expect(clipByGlobalNorm(g, 10).a!.dataSync()[0]).toBe(3);
    });
  });
});

describe('cnn-f family', () => {
  it('its support row and parts agree', () => {
    expect(familyProblems(cnnfFamily)).toEqual([]);
  });
  it('NIR export refuses with the reason and the alternative', () => {
    expect(() => nirMappers.get('cnn-f')({}, {})).toThrow(UnmappableError);
    expect(() => nirMappers.get('cnn-f')({}, {})).toThrow(/AdaReLU .* AdaPool .* --format npz/s);
  });
});
