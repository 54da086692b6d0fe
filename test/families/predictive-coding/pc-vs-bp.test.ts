import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../../src/app/execute.js';
import { checkpointDirFor } from '../../../src/runs/checkpoints.js';
import { loadModel } from '../../../src/runs/model-store.js';
import { validateSpec } from '../../../src/spec/parse.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-pc-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function spec(job: Record<string, unknown> = {}, system: Record<string, unknown> = {}) {
  return validateSpec({
    name: 'pc-vs-bp-tiny',
    seed: 3,
    backend: 'wasm',
    data: { name: 'mnist-embedded' },
    system: { kind: 'pc-network', layers: [24, 16, 10], activation: 'tanh', output: 'se', stateStep: 1, ...system },
    run: { maxSteps: 3 },
    job: { kind: 'pc-vs-bp', schedule: 'fpa', optimizer: { kind: 'adam', lr: 0.002 }, batchSize: 50, epochs: 2, seeds: [4, 5], trainLimit: 300, testLimit: 200, ...job },
  });
}
const quiet = { quiet: true, say: () => {} };
const lines = (folder: string) => fs.readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);

describe('pc-vs-bp job', () => {
  it('with the FPA schedule (γ = 1, T = L) PC and BP train to the same numbers, seed by seed; every seed is reported', async () => {
    const out = path.join(root, 'fpa');
    const { summary } = await executeRun(spec(), { ...quiet, out });
    const m = summary.metrics;
    expect(m.seeds).toEqual([4, 5]);
    const pc = m.pc_test_accuracy_per_seed as number[];
    const bp = m.bp_test_accuracy_per_seed as number[];
    expect(pc).toHaveLength(2);
    // Same initialisation, data order and optimizer, and directions equal to float32 precision: Adam on them
    // lands on the same test predictions (within a couple of borderline examples of 200).
    pc.forEach((a, i) => expect(Math.abs(a - bp[i]!)).toBeLessThanOrEqual(0.01));
    expect(pc[0]).toBeGreaterThan(0.3);
    const records = lines(out);
    expect(records.map((r) => `${r.seed}${r.method}${r.epoch}`)).toEqual(['4pc1', '4pc2', '4bp1', '4bp2', '5pc1', '5pc2', '5bp1', '5bp2']);
    for (const r of records) for (const key of ['train_loss', 'test_accuracy', 'seconds', 'peak_tensor_bytes', 'peak_rss_bytes']) expect(r[key] as number, key).toBeGreaterThan(0);
    expect(loadModel(out).trainedBy).toBe('predictive-coding-fpa');
    expect(loadModel(out, 'model-bp').trainedBy).toBe('backprop');
    expect(fs.readFileSync(path.join(out, 'learning-curves.svg'), 'utf8')).toContain('PC seed 4');
  }, 60_000);

  it('strict PC (γ = 0.1) trains and differs from BP; a z-il spec with γ ≠ 1 is refused naming stateStep', async () => {
    const { summary } = await executeRun(spec({ schedule: 'strict', seeds: [1], epochs: 1 }, { stateStep: 0.1 }), { ...quiet, out: path.join(root, 'strict') });
    expect(summary.metrics.pc_test_accuracy_mean as number).toBeGreaterThan(0.3);
    await expect(executeRun(spec({ schedule: 'z-il' }, { stateStep: 0.5 }), { ...quiet, out: path.join(root, 'zil') })).rejects.toThrow(/stateStep/);
  }, 60_000);

  it('an interrupted run resumed with --resume trains to the same parameters, bit for bit, and the same records', async () => {
    // Strict PC (γ = 0.1) so PC and BP differ; the interrupt lands after seed 4's first PC epoch, mid-training.
    const resumable = () => spec({ schedule: 'strict', seeds: [4, 5] }, { stateStep: 0.1 });
    const straight = path.join(root, 'straight');
    await executeRun(resumable(), { ...quiet, out: straight });
    expect(fs.existsSync(checkpointDirFor(straight))).toBe(false);
    const out = path.join(root, 'interrupted');
    const interrupt = (line: string) => {
      if (line.startsWith('seed 4 pc epoch 1:')) throw new Error('simulated interrupt');
    };
    await expect(executeRun(resumable(), { quiet: true, say: interrupt, out })).rejects.toThrow('simulated interrupt');
    expect(fs.existsSync(checkpointDirFor(out))).toBe(true);
    await expect(executeRun(resumable(), { ...quiet, out })).rejects.toThrow(/--resume: an interrupted run left checkpoints/);
    const said: string[] = [];
    await executeRun(resumable(), { quiet: true, say: (l: string) => said.push(l), out, resume: true });
    expect(said.some((l) => l.startsWith('seed 4 pc: resuming after epoch 1 of 2'))).toBe(true);
    expect(fs.existsSync(checkpointDirFor(out))).toBe(false);
    const stable = (folder: string) => lines(folder).map(({ seed, method, epoch, train_loss, train_accuracy, test_accuracy, energy }) => ({ seed, method, epoch, train_loss, train_accuracy, test_accuracy, energy }));
    expect(stable(out)).toEqual(stable(straight));
    for (const model of ['model', 'model-bp']) {
      const a = loadModel(straight, model).params;
      const b = loadModel(out, model).params;
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      for (const name of Object.keys(a)) expect(Buffer.from(b[name]!.dataSync().buffer), `${model}/${name}`).toEqual(Buffer.from(a[name]!.dataSync().buffer));
    }
  }, 120_000);
});
