/**
 * Real run folders for the report and view tests, made by the real commands on small data: a Hopfield
 * recall run (traces), a tiny EP training run (a trained model), and an attack and a corruption evaluation
 * of that model (diagnostics, intervals, the corruption grid). Made once per test file, in a temp folder.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { executeRun } from '../../src/app/execute.js';
import { validateSpec } from '../../src/spec/parse.js';

export const CLI = path.resolve('dist/src/cli/main.js');

export interface RunFolders {
  readonly root: string;
  readonly hopfield: string;
  readonly ep: string;
  readonly attack: string;
  readonly corrupt: string;
}

const quiet = { quiet: true, say: () => {} };

export const tinyEpSpec = {
  name: 'ep-tiny',
  seed: 1,
  backend: 'wasm',
  data: { name: 'mnist-embedded' },
  system: { kind: 'equilibrium-prop', layers: [36, 10], activation: 'hard-sigmoid', output: 'softmax-ce', init: 'torch-default' },
  run: { maxSteps: 12 },
  job: { kind: 'ep-train', rule: 'ep', nudgedSteps: 3, beta: 1, nudging: 'symmetric', optimizer: { kind: 'sgd', lr: [0.05, 0.02], momentum: 0.9 }, batchSize: 20, epochs: 1, trainLimit: 400, testLimit: 100 },
};

export async function makeRunFolders(parts: ReadonlyArray<keyof Omit<RunFolders, 'root'>> = ['hopfield', 'ep', 'attack', 'corrupt']): Promise<RunFolders> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-report-'));
  const folders = { root, hopfield: path.join(root, 'hopfield'), ep: path.join(root, 'ep'), attack: path.join(root, 'attack'), corrupt: path.join(root, 'corrupt') };
  if (parts.includes('hopfield')) {
    await executeRun(
      validateSpec({
        name: 'hopfield-tiny',
        seed: 0,
        backend: 'wasm',
        data: { name: 'mnist-embedded' },
        system: { kind: 'hopfield', gain: 4, tau: 1 },
        run: { integrator: 'euler', dt: 0.2, maxSteps: 40, converge: { tolerance: 0.0001 } },
        job: { kind: 'hopfield-recall', rule: 'projection', cueSource: 'prototypes', cues: 20, noise: [0, 0.2, 0.4] },
      }),
      { ...quiet, out: folders.hopfield },
    );
  }
  if (parts.some((p) => p !== 'hopfield')) await executeRun(validateSpec(tinyEpSpec), { ...quiet, out: folders.ep });
  const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { stdio: 'pipe' });
  if (parts.includes('attack')) {
    cli('attack', folders.ep, '--eps', '0.05,0.1', '--attacks', 'pgd,square', '--examples', '12', '--steps', '4', '--queries', '20', '--no-min-perturbation', '--out', folders.attack, '--quiet');
  }
  if (parts.includes('corrupt')) cli('corrupt', folders.ep, '--corruptions', 'mnist-c/fog,mnist-c/shot_noise,cifar-10-c/contrast', '--examples', '20', '--out', folders.corrupt, '--quiet');
  return folders;
}
