import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointDirFor } from '../../../src/runs/checkpoints.js';
import { executeRun } from '../../../src/app/execute.js';
import { loadModel } from '../../../src/runs/model-store.js';
import { validateSpec } from '../../../src/spec/parse.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-ep-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function spec(overrides: Record<string, unknown> = {}) {
  return validateSpec({
    name: 'ep-vs-bptt-tiny',
    seed: 3,
    backend: 'wasm',
    data: { name: 'mnist-embedded' },
    system: { kind: 'equilibrium-prop', layers: [16, 10], init: 'torch-default' },
    run: { maxSteps: 6 },
    job: { kind: 'ep-vs-bptt', nudgedSteps: 3, beta: 0.5, nudging: 'random-sign', optimizer: { kind: 'sgd', lr: [0.05, 0.02], momentum: 0.9 }, batchSize: 50, epochs: 3, trainLimit: 300, testLimit: 200, ...overrides },
  });
}

const quiet = { quiet: true, say: () => {} };

/** metrics.jsonl without the measured quantities (seconds, memory), which differ between runs. */
function numbers(folder: string): unknown[] {
  return fs
    .readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const { seconds: _s, eval_seconds: _e, peak_tensor_bytes: _t, peak_rss_bytes: _r, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });
}

describe('ep-vs-bptt job', () => {
  const straight = path.join(root, 'straight');

  it('writes per-epoch accuracy, seconds and memory for both methods, the summary keys, both curves and both models', async () => {
    const { summary } = await executeRun(spec(), { ...quiet, out: straight });
    const m = summary.metrics;
    for (const key of ['ep_test_accuracy', 'bptt_test_accuracy', 'ep_seconds', 'bptt_seconds']) expect(typeof m[key], key).toBe('number');
    expect(m.ep_test_accuracy as number).toBeGreaterThan(0.3);
    expect(m.bptt_test_accuracy as number).toBeGreaterThan(0.3);
    // Both models' output layers are free and feed back: neither relaxation settles in one step.
    expect(m).toMatchObject({ ep_settled_in_one_step: false, bptt_settled_in_one_step: false, ep_relaxation_steps: 6, bptt_relaxation_steps: 6 });
    const lines = fs.readFileSync(path.join(straight, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(lines.map((l) => `${l.method}${l.epoch}`)).toEqual(['ep1', 'ep2', 'ep3', 'bptt1', 'bptt2', 'bptt3']);
    for (const l of lines) {
      for (const key of ['train_accuracy', 'test_accuracy', 'seconds', 'peak_tensor_bytes', 'peak_rss_bytes']) expect(l[key] as number, key).toBeGreaterThan(0);
    }
    // BPTT keeps the unrolled tape: its tensor high-water mark is above EP's.
    expect(m.bptt_peak_tensor_bytes as number).toBeGreaterThan(m.ep_peak_tensor_bytes as number);
    expect(fs.readFileSync(path.join(straight, 'learning-curves.svg'), 'utf8')).toContain('BPTT test');
    const model = loadModel(straight);
    expect(model.trainedBy).toBe('equilibrium-propagation');
    expect(model.meta).toMatchObject({ kind: 'equilibrium-prop', layers: [16, 10], freeSteps: 6, inputLayout: 'flat' });
    expect(model.params.W1!.shape).toEqual([784, 16]);
    expect(loadModel(straight, 'model-bptt').trainedBy).toBe('bptt');
    expect(fs.existsSync(checkpointDirFor(straight))).toBe(false);
  }, 120_000);

  it('an interrupted run resumed with --resume gives the same numbers and the same model as an uninterrupted one', async () => {
    const out = path.join(root, 'interrupted');
    // Interrupt after BPTT's first epoch (EP is done): the say line comes after the checkpoint is written.
    const interrupt = (line: string) => {
      if (line.startsWith('bptt epoch 1')) throw new Error('simulated interrupt');
    };
    await expect(executeRun(spec(), { quiet: true, say: interrupt, out })).rejects.toThrow('simulated interrupt');
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(checkpointDirFor(out))).toBe(true);
    // Without --resume the checkpoints are not silently discarded; with another spec they are not used.
    await expect(executeRun(spec(), { ...quiet, out })).rejects.toThrow(/--resume: an interrupted run left checkpoints/);
    await expect(executeRun(spec({ beta: 0.4 }), { ...quiet, out, resume: true })).rejects.toThrow(/--resume: the checkpoints .* were written by a different spec/);
    const lines: string[] = [];
    await executeRun(spec(), { quiet: true, say: (l) => lines.push(l), out, resume: true });
    expect(lines.some((l) => l.startsWith('ep: resuming after epoch 3 of 3'))).toBe(true);
    expect(lines.some((l) => l.startsWith('bptt: resuming after epoch 1 of 3'))).toBe(true);
    expect(numbers(out)).toEqual(numbers(straight));
    for (const dir of ['model', 'model-bptt']) {
      const a = loadModel(straight, dir).params;
      const b = loadModel(out, dir).params;
      for (const name of Object.keys(a)) expect(Buffer.from(b[name]!.dataSync().buffer)).toEqual(Buffer.from(a[name]!.dataSync().buffer));
    }
    expect(fs.existsSync(checkpointDirFor(out))).toBe(false);
  }, 120_000);

  it('bad options name the field: rates per layer, continual EP needs plain SGD, resume without checkpoints', async () => {
    // One validation path: the spec itself is refused, before anything runs.
    expect(() => spec({ optimizer: { kind: 'sgd', lr: [0.1] } })).toThrow(/job\.optimizer\.lr: gives 1 rate for a network of 2 layers/);
    await expect(executeRun(spec({ continual: true }), { ...quiet, out: path.join(root, 'bad2') })).rejects.toThrow(/job\.continual: continual EP moves the weights/);
    await expect(executeRun(spec(), { ...quiet, out: path.join(root, 'bad3'), resume: true })).rejects.toThrow(/--resume: no checkpoints to resume from/);
    expect(() => validateSpec({ ...spec(), system: { kind: 'equilibrium-prop', layers: [16, 10], activation: 'relu' } })).toThrow(/system\.activation/);
    for (const bad of ['bad2', 'bad3']) {
      expect(fs.existsSync(path.join(root, bad))).toBe(false);
      expect(fs.existsSync(checkpointDirFor(path.join(root, bad)))).toBe(false);
    }
    expect(fs.readdirSync(root).filter((f) => f.includes('partial'))).toEqual([]);
  }, 60_000);
});

describe('ep-train job', () => {
  it('with persistent particles and symmetric nudging: an interrupted run resumes to the same numbers (the particles are checkpointed)', async () => {
    const trainSpec = (epochs: number) =>
      validateSpec({
        ...spec(),
        name: 'ep-train-tiny',
        job: { kind: 'ep-train', rule: 'ep', nudgedSteps: 3, beta: 0.5, nudging: 'symmetric', persistentParticles: true, optimizer: { kind: 'adam', lr: [0.002, 0.001] }, batchSize: 50, epochs, trainLimit: 300, testLimit: 200 },
      });
    const straight = path.join(root, 'train-straight');
    const { summary } = await executeRun(trainSpec(3), { ...quiet, out: straight });
    expect(summary.metrics.test_accuracy as number).toBeGreaterThan(0.3);
    const out = path.join(root, 'train-interrupted');
    const interrupt = (line: string) => {
      if (line.startsWith('ep epoch 2')) throw new Error('simulated interrupt');
    };
    await expect(executeRun(trainSpec(3), { quiet: true, say: interrupt, out })).rejects.toThrow('simulated interrupt');
    await executeRun(trainSpec(3), { ...quiet, out, resume: true });
    expect(numbers(out)).toEqual(numbers(straight));
    expect(loadModel(out).meta).toMatchObject({ method: 'ep', trainedOn: 'mnist-embedded/train' });
    // The output layer is free and feeds back into the hidden one: the relaxation does not settle in one step.
    expect(summary.metrics).toMatchObject({ settled_in_one_step: false, relaxation_steps: 6 });
    expect(summary.metrics.settled_after_steps).not.toBe(1);
  }, 120_000);

  it('a softmax readout behind one free layer settles in one step: the summary and the printed note say the net is feed-forward', async () => {
    const said: string[] = [];
    const { summary } = await executeRun(
      validateSpec({
        ...spec(),
        name: 'ep-train-feedforward',
        system: { kind: 'equilibrium-prop', layers: [16, 10], output: 'softmax-ce' },
        job: { kind: 'ep-train', nudgedSteps: 3, beta: 0.5, nudging: 'symmetric', optimizer: { kind: 'sgd', lr: [0.05, 0.02] }, batchSize: 50, epochs: 1, trainLimit: 100, testLimit: 100 },
      }),
      { quiet: true, say: (l: string) => said.push(l), out: path.join(root, 'train-feedforward') },
    );
    expect(summary.metrics).toMatchObject({ settled_in_one_step: true, settled_after_steps: 1, relaxation_steps: 6 });
    expect(String(summary.metrics.settling_note)).toMatch(/settles in one step .*feed-forward network, and 6 priced steps repeat one pass/);
    expect(said.some((l) => l.startsWith('note: the float relaxation settles in one step'))).toBe(true);
  }, 120_000);
});
