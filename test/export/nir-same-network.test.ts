/**
 * `neurodyn export --format nir` and `neurodyn energy --emulate` on one run folder build one network: the
 * same calibration (the first 100 test images, whatever --count is), so the thresholds, the input scale,
 * the weights and the biases in the file are those the estimate priced. Also: `export --format nir`
 * without `--as` picks the form the family has, and an impossible form names the allowed ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { energyCommand } from '../../src/cli/commands/energy.js';
import { exportCommand } from '../../src/cli/commands/export.js';
import { readNir } from '../../src/export/nir.js';
import { equilibriumProp } from '../../src/families/equilibrium-prop/system.js';
import { randomDictionary } from '../../src/families/lca/system-common.js';
import { saveModel } from '../../src/runs/model-store.js';
import { openRunFolder } from '../../src/runs/run-folder.js';
import { useBackend } from '../../src/tensor/index.js';
import { CLI } from '../app/fixtures.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nir-same-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await useBackend('cpu', 'backend');
});

function epRun(): string {
  const runDir = path.join(dir, 'ep-run');
  const system = { kind: 'equilibrium-prop', layers: [20, 10], output: 'softmax-ce' };
  const folder = openRunFolder(runDir);
  folder.writeJson('spec.json', { name: 'tiny-ep', backend: 'cpu', data: { name: 'mnist-embedded' }, system, run: { maxSteps: 5 }, job: { kind: 'ep-train', nudgedSteps: 2, beta: 0.5, optimizer: { kind: 'sgd', lr: [0.02, 0.01] }, batchSize: 20, epochs: 1 } });
  const params = equilibriumProp({ sizes: [784, 20, 10], init: 'torch-default', output: 'softmax-ce' }).initParams(makeRng(1));
  saveModel(folder, { system, trainedBy: 'test' }, params);
  folder.commit();
  tf.dispose(Object.values(params));
  return runDir;
}

function lcaRun(): string {
  const runDir = path.join(dir, 'lca-run');
  const system = { kind: 'lca', features: 16, form: 'gram', lambda: 0.1, tau: 10 };
  const folder = openRunFolder(runDir);
  folder.writeJson('spec.json', { name: 'tiny-lca', backend: 'cpu', data: { name: 'mnist-embedded' }, system, run: { maxSteps: 20 }, job: { kind: 'lca-dictionary', epochs: 1 } });
  const dictionary = tf.tidy(() => {
    const d = randomDictionary([784, 16], makeRng(3));
    return tf.div(d, tf.norm(d, 'euclidean', 0, true));
  });
  saveModel(folder, { system, trainedBy: 'test' }, { dictionary });
  folder.commit();
  dictionary.dispose();
  return runDir;
}

const sumAbs = (v: ArrayLike<number>) => Array.from(v).reduce((a, x) => a + Math.abs(x), 0);

/** Exports and prices `runDir` on one profile; compares what the file holds with what the estimate priced. */
async function exportAndPrice(runDir: string, reset: 'subtract' | 'zero') {
  const file = path.join(dir, `${path.basename(runDir)}-${reset}.nir`);
  const json = path.join(dir, `${path.basename(runDir)}-${reset}.json`);
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  let printed = '';
  try {
    // Different --count for the estimate: calibration must not follow it.
    await exportCommand(runDir, { format: 'nir', profile: 'loihi2', reset, out: file });
    write.mockClear();
    await energyCommand(runDir, { profile: ['loihi2'], count: '7', emulate: '4', reset, out: json });
    printed = write.mock.calls.map((c) => String(c[0])).join('');
  } finally {
    write.mockRestore();
  }
  const priced = JSON.parse(fs.readFileSync(json, 'utf8'));
  const network = priced.profiles.loihi2.emulation.network;
  const g = await readNir(file);
  const threshold = (name: string) => {
    const node = reset === 'subtract' ? g.nodes[`${name}_spike`]! : g.nodes[name]!;
    const values = (reset === 'subtract' ? node.datasets.threshold! : node.datasets.v_threshold!).value as Float64Array;
    return values[0]!;
  };
  expect(network.reset).toBe(reset);
  expect(priced.calibration).toMatch(/first 100 test images|none/);
  expect(threshold(Object.keys(g.nodes).includes('signal') ? 'signal' : 'x')).toBe(network.inputThreshold);
  for (const p of network.populations) {
    expect(threshold(p.name), p.name).toBe(p.threshold);
    const into = Object.entries(g.nodes).filter(([name, n]) => name.endsWith(`_to_${p.name}`) && (n.type === 'Affine' || n.type === 'Linear'));
    expect(into.reduce((a, [, n]) => a + sumAbs(n.datasets.weight!.value as Float32Array), 0), `${p.name} weights`).toBe(p.sumAbsWeight);
    expect(into.reduce((a, [, n]) => a + (n.datasets.bias ? sumAbs(n.datasets.bias.value as Float32Array) : 0), 0), `${p.name} bias`).toBe(p.sumAbsBias);
  }
  return { g, network, priced, printed };
}

describe('export and energy build the same spiking network from one run folder', () => {
  it('equilibrium-prop (softmax readout: its spike value is calibrated)', async () => {
    const runDir = epRun();
    for (const reset of ['subtract', 'zero'] as const) {
      const { network, priced, printed } = await exportAndPrice(runDir, reset);
      expect(network.populations.map((p: { name: string }) => p.name)).toEqual(['layer1', 'readout2']);
      // One free layer and a feed-forward readout: the relaxation settles in one step, said next to the 4 emulated steps.
      expect(priced.float.settling).toMatchObject({ settled_in_one_step: true, settled_after_steps: 1, priced_steps: 4 });
      expect(printed).toMatch(/note: the float relaxation settles in one step .*feed-forward network, and 4 priced steps repeat one pass/);
      expect(network.populations[1].spikeValue).not.toBe(1);
    }
  }, 120_000);

  it('lca (the input scale S is the encoder threshold, calibrated)', async () => {
    const runDir = lcaRun();
    const { g, network } = await exportAndPrice(runDir, 'subtract');
    expect(network.inputThreshold).toBeGreaterThan(0.05);
    expect(String(g.metadata.input_encoding)).toMatch(/\[s\+, s-\]/);
    expect(String(g.metadata.calibration)).toMatch(/first 100 test images/);
  }, 120_000);

  it('export --format nir without --as writes the spiking form; an impossible form names the allowed ones', async () => {
    const runDir = path.join(dir, 'ep-run');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await exportCommand(runDir, { format: 'nir' });
    } finally {
      write.mockRestore();
    }
    expect(fs.existsSync(path.join(runDir, 'equilibrium-prop-spiking.nir'))).toBe(true);
    // From the command line, in a fresh process (the command sets the spec's backend before loading the model).
    const out = path.join(dir, 'cli.nir');
    const printed = execFileSync(process.execPath, [CLI, 'export', runDir, '--format', 'nir', '--reset', 'zero', '--out', out], { encoding: 'utf8' });
    expect(printed).toMatch(/written: .*cli\.nir \(spiking form, reset zero, float weights, unbounded state\)\ncalibration: readout spike value = the largest logit of the float model over the first 100 test images/);
    expect((await readNir(out)).nodes.layer1!.type).toBe('IF');
    await expect(exportCommand(runDir, { format: 'nir', as: 'rate' })).rejects.toThrow(/cannot be exported as rate \(.*hard sigmoid.*\); allowed: spiking/);
    await expect(exportCommand(runDir, { format: 'nir', as: 'ratee' })).rejects.toThrow(/--as: must be spiking or rate, got "ratee"; equilibrium-prop exports as spiking/);
    await expect(exportCommand('sims/hopfield-recall.json', { format: 'nir', as: 'rate' })).rejects.toThrow(/hopfield cannot be exported as rate \(.*tanh.*\); allowed: spiking/);
    await expect(exportCommand('sims/pc-mnist.json', { format: 'nir' })).rejects.toThrow(/pc-network has no NIR form \(spiking: /);
  }, 120_000);
});
