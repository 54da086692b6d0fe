import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../../src/app/execute.js';
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
});
