/** `neurodyn attack` end to end on a small Hopfield spec: the run folder, its summary keys, and option errors. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../src/base/errors.js';
import { attackCommand } from '../../src/cli/commands/attack.js';
import { corruptCommand } from '../../src/cli/commands/corrupt.js';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { decodeNpy } from '../../src/export/npy.js';
import { useBackend } from '../../src/tensor/index.js';
import { makeRng } from '../../src/base/rng.js';
import { equilibriumProp } from '../../src/families/equilibrium-prop/system.js';
import { saveModel } from '../../src/runs/model-store.js';
import { openRunFolder } from '../../src/runs/run-folder.js';

let dir: string;
let specFile: string;

beforeAll(async () => {
  await useBackend('wasm');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-attack-'));
  specFile = path.join(dir, 'tiny-hopfield.json');
  fs.writeFileSync(
    specFile,
    JSON.stringify({
      name: 'tiny-hopfield',
      data: { name: 'mnist-embedded' },
      system: { kind: 'hopfield', gain: 4, tau: 1, cueCurrent: 0.5 },
      run: { integrator: 'euler', dt: 0.25, maxSteps: 8 },
      job: { kind: 'hopfield-recall' },
    }),
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('neurodyn attack', () => {
  it('writes the summary keys, the metrics per ε and the pictures', async () => {
    const out = path.join(dir, 'run');
    const before = tf.memory().numTensors;
    await attackCommand(specFile, { eps: '0.1,0.3', attacks: 'fgsm,pgd,square,transfer', steps: '4', apgdSteps: '4', queries: '10', examples: '6', out, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    const m = summary.metrics;
    expect(Object.keys(m.robust_accuracy)).toEqual(['0.1', '0.3']);
    expect(m.clean_accuracy).toBeGreaterThanOrEqual(m.robust_accuracy['0.1']);
    expect(m.robust_accuracy['0.1']).toBeGreaterThanOrEqual(m.robust_accuracy['0.3']);
    // Worst case: never above any single attack.
    for (const eps of ['0.1', '0.3']) for (const a of Object.values(m.accuracy_per_attack[eps]) as number[]) expect(m.robust_accuracy[eps]).toBeLessThanOrEqual(a);
    expect(m).toHaveProperty('median_min_perturbation');
    for (const f of ['accuracy-vs-eps.svg', 'energy-trajectories.svg', 'diagnostics.json', 'metrics.jsonl', 'attack.json', 'min-perturbation.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const diagnostics = JSON.parse(fs.readFileSync(path.join(out, 'diagnostics.json'), 'utf8'));
    expect(diagnostics.clean.energy.length).toBe(diagnostics.clean.steps.length);
    expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  }, 120_000);

  it('off a terminal prints the cost estimate and a line per attack and batch; writes per-example results that compare reads', async () => {
    const out = path.join(dir, 'progress');
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const ci = process.env.CI;
    process.env.CI = 'true';
    process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      await attackCommand(specFile, { eps: '0.1,0.3', attacks: 'pgd', steps: '2', examples: '6', batchSize: '4', diagnostics: false, minPerturbation: false, out });
    } finally {
      process.stderr.write = write;
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
    const text = written.join('');
    expect(text).toMatch(/estimated cost \(an upper bound[^\n]*forward and [^\n]*differentiated relaxations, about [^\n]* per example \(timed on a warm-up batch of 4\)/);
    for (const eps of ['0.1', '0.3']) for (const batch of ['1/2', '2/2']) expect(text).toMatch(new RegExp(`ε ${eps}, batch ${batch}, pgd: broke \\d+ of \\d+ in [\\d.]+ s; \\d+% of the estimated work`));
    expect(text).toMatch(/attack evaluation done in/);
    const rows = fs.readFileSync(path.join(out, 'examples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(12);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'attack.json'), 'utf8')).examples).toBe(6);
    for (const eps of [0.1, 0.3]) {
      const { shape } = decodeNpy(new Uint8Array(fs.readFileSync(path.join(out, `adversarial/eps-${eps}.npy`))));
      expect(shape).toEqual([6, 784]);
    }
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).metrics;
    for (const eps of ['0.1', '0.3']) expect(summary.robust_accuracy[eps]).toBe(rows.filter((r) => r.epsilon === Number(eps) && r.robust).length / 6);
    const lines: string[] = [];
    const stdout = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await compareCommand(out, out, {});
    } finally {
      process.stdout.write = stdout;
    }
    expect(lines.join('')).toMatch(/12 \(example, ε\) pairs in both[\s\S]*every example has the same verdict in both/);
    await expect(compareCommand(out, undefined, {})).rejects.toThrow(/give a second attack run folder/);
  }, 240_000);

  it('names the option and what is allowed when an option is wrong', async () => {
    const out = path.join(dir, 'never');
    await expect(attackCommand(specFile, { attacks: 'pgd,fab', out })).rejects.toThrow(/--attacks: unknown attack "fab"; allowed: fgsm, pgd/);
    await expect(attackCommand(specFile, { threat: 'l1', out })).rejects.toThrow(SpecError);
    await expect(attackCommand(specFile, { eps: '0.1,x', out })).rejects.toThrow(/--eps: expected a comma-separated list/);
    await expect(attackCommand(specFile, { gradient: 'truncated(0)', out })).rejects.toThrow(/--gradient/);
    // ε outside the input range: refused before any attack runs, naming what the norm allows.
    await expect(attackCommand(specFile, { eps: '0,0.1', out })).rejects.toThrow(/--eps: ε = 0 is outside the input range; allowed under linf: 0 < ε < 1 /);
    await expect(attackCommand(specFile, { eps: '0.1,1', out })).rejects.toThrow(/--eps: ε = 1 is outside/);
    await expect(attackCommand(specFile, { threat: 'l2', eps: '2,28', out })).rejects.toThrow(/--eps: ε = 28 is outside the input range; allowed under l2: 0 < ε < 28 \(the input range's width 1 × √784/);
    await expect(attackCommand(specFile, { gradient: 'implicit', stepWeighting: 'uniform', examples: '2', out })).rejects.toThrow(/needs the unrolled gradient/);
    await expect(attackCommand(specFile, { bpda: true, examples: '2', out })).rejects.toThrow(/--bpda: BPDA is defined for equilibrium-prop nets \(straight-through clips\) and cnn-f nets \(surrogate switches\); .* is hopfield/);
    expect(fs.existsSync(out)).toBe(false);
  }, 60_000);
});

describe('neurodyn corrupt', () => {
  it('writes accuracy per corruption, severity and step', async () => {
    const out = path.join(dir, 'corrupt');
    const before = tf.memory().numTensors;
    await corruptCommand(specFile, { corruptions: 'mnist-c/stripe,cifar-10-c/contrast', examples: '20', out, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).metrics;
    expect(Object.keys(m.accuracy)).toEqual(['mnist-c/stripe', 'cifar-10-c/contrast']);
    expect(Object.keys(m.accuracy['cifar-10-c/contrast'])).toEqual(['1', '2', '3', '4', '5']);
    expect(m.clean_accuracy).toBeGreaterThan(0);
    const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1 + 1 + 5);
    // 8 steps: records after steps 0..8.
    expect(lines[0].accuracy_per_step).toHaveLength(9);
    expect(lines[0].accuracy_per_step[8]).toBeCloseTo(m.clean_accuracy, 6);
    for (const f of ['accuracy-vs-severity.svg', 'accuracy-per-step.svg', 'corrupt.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    await expect(corruptCommand(specFile, { corruptions: 'fog', out: path.join(dir, 'never2') })).rejects.toThrow(/--corruptions: unknown corruption "fog"/);
  }, 60_000);
});

describe('neurodyn attack on a run folder with a trained model', () => {
  it('loads the saved parameters, frees them, and reports', async () => {
    // A run folder as a training run leaves it: spec.json and model/ (an untrained 784-20-10 EP net will do).
    const runDir = path.join(dir, 'ep-run');
    const system = { kind: 'equilibrium-prop', layers: [20, 10] };
    const folder = openRunFolder(runDir);
    folder.writeJson('spec.json', { name: 'tiny-ep', data: { name: 'mnist-embedded' }, system, run: { maxSteps: 5 }, job: { kind: 'ep-train', nudgedSteps: 2, beta: 0.5, optimizer: { kind: 'sgd', lr: [0.02, 0.01] }, batchSize: 20, epochs: 1 } });
    const params = equilibriumProp({ sizes: [784, 20, 10], init: 'torch-default' }).initParams(makeRng(1));
    saveModel(folder, { system, trainedBy: 'test' }, params);
    folder.commit();
    tf.dispose(Object.values(params));
    const before = tf.memory().numTensors;
    const out = path.join(dir, 'ep-attack');
    await attackCommand(runDir, { eps: '0.1', attacks: 'pgd,transfer', steps: '3', examples: '4', out, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).metrics;
    expect(m.model).toMatch(/equilibrium-prop 784-20-10/);
    expect(fs.existsSync(path.join(out, 'energy-trajectories.svg'))).toBe(true);
    const corruptOut = path.join(dir, 'ep-corrupt');
    await corruptCommand(runDir, { corruptions: 'mnist-c/stripe', examples: '4', out: corruptOut, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
