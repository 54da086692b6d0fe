import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../../src/app/execute.js';
import { checkpointDirFor } from '../../../src/runs/checkpoints.js';
import { loadModel } from '../../../src/runs/model-store.js';
import { validateSpec } from '../../../src/spec/parse.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-predify-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const tinySpec = (job: Record<string, unknown>) =>
  validateSpec({
    name: 'predify-tiny',
    seed: 1,
    backend: 'wasm',
    data: { name: 'mnist-embedded' },
    system: { kind: 'predify', channels: [2, 2, 2], hidden: 8 },
    run: { maxSteps: 2 },
    job: { kind: 'predify-noise', batchSize: 32, trainLimit: 64, testLimit: 20, sigmas: [0.5], ...job },
  });
const spec = tinySpec({ backboneEpochs: 1, decoderEpochs: 1 });
type Curves = { accuracy: number[]; corr_vs_clean_ff: number[][]; corr_vs_clean_t: number[][] };

describe('predify-noise job', () => {
  it('writes per-timestep accuracy and correlation distances; t = 0 is the backbone, and clean against itself is 0 at t = 0', async () => {
    const out = path.join(root, 'tiny');
    const { summary } = await executeRun(spec, { quiet: true, say: () => {}, out });
    const m = summary.metrics as { backbone_clean_accuracy: number; conditions: Record<string, Curves> };
    const clean = m.conditions.clean!;
    expect(clean.accuracy).toHaveLength(3);
    expect(clean.accuracy[0]).toBe(m.backbone_clean_accuracy);
    expect(clean.corr_vs_clean_ff.at(-1)![0]).toBeLessThan(1e-6);
    expect(clean.corr_vs_clean_t.at(-1)![2]).toBeLessThan(1e-6);
    expect(m.conditions['gaussian σ=0.5']!.corr_vs_clean_ff.at(-1)![0]).toBeGreaterThan(0);
    const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string });
    expect(lines.map((l) => l.phase)).toEqual(['backbone', 'decoders', 'timesteps', 'timesteps']);
    expect(fs.existsSync(path.join(out, 'accuracy-vs-timestep.svg'))).toBe(true);
  }, 120_000);

  it('a trained run folder (job.model) evaluates to the same curves; PGD through the timesteps agrees with the curves on its own target', async () => {
    const out = path.join(root, 'from-model');
    const attack = { epsilons: [0.3], steps: 3, limit: 8, batchSize: 4 };
    const { summary } = await executeRun(tinySpec({ model: path.join(root, 'tiny'), corruptions: ['mnist-c/shot_noise'], attack }), { quiet: true, say: () => {}, out });
    const trained = JSON.parse(fs.readFileSync(path.join(root, 'tiny', 'summary.json'), 'utf8')) as { metrics: { conditions: Record<string, Curves> } };
    const m = summary.metrics as { conditions: Record<string, Curves>; attacks: Record<string, Curves & { surface: string; target_fooled: number }>; train_seconds: number };
    // Same parameters, same noise stream: the same numbers, and nothing trained.
    // (through JSON, as summary.json holds them: -0 and 0 are one number there)
    const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    expect(json(m.conditions.clean)).toEqual(trained.metrics.conditions.clean);
    expect(json(m.conditions['gaussian σ=0.5'])).toEqual(trained.metrics.conditions['gaussian σ=0.5']);
    expect(m.conditions['mnist-c/shot_noise']!.accuracy).toHaveLength(3);
    const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string });
    expect(lines.map((l) => l.phase)).toEqual(['timesteps', 'timesteps', 'timesteps', 'attack-timesteps', 'attack-timesteps', 'attack-timesteps']);
    // The attack judges success on its own surface: the first pass is the loop at t = 0, the loop's score is
    // the head at t = T. Two code paths (the attack's classifier, the job's simulate curves) must agree.
    const first = m.attacks['pgd-first ε=0.3']!;
    const loop = m.attacks['pgd-loop ε=0.3']!;
    expect(first.accuracy[0]).toBeCloseTo(1 - first.target_fooled, 6);
    expect(loop.accuracy[2]).toBeCloseTo(1 - loop.target_fooled, 6);
    // at ε = 0.3 on an 8-image, barely trained net, PGD breaks most of them
    expect(loop.target_fooled).toBeGreaterThan(0.5);
    expect(first.corr_vs_clean_ff.at(-1)![0]).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(out, 'attack-accuracy-vs-timestep.svg'))).toBe(true);
  }, 180_000);

  it('APGD through the timesteps, with restarts, agrees with the curves on its own target', async () => {
    const attack = { method: 'apgd-dlr', epsilons: [0.3], steps: 4, restarts: 2, limit: 6, batchSize: 6, surfaces: ['loop'] };
    const { summary } = await executeRun(tinySpec({ model: path.join(root, 'tiny'), testLimit: 4, sigmas: [], attack }), { quiet: true, say: () => {}, out: path.join(root, 'apgd') });
    const m = summary.metrics as { attacks: Record<string, Curves & { target_fooled: number; accuracy_gain_ci95_at_T: number[] }> };
    expect(Object.keys(m.attacks)).toEqual(['apgd-dlr-loop ε=0.3']);
    const loop = m.attacks['apgd-dlr-loop ε=0.3']!;
    expect(loop.accuracy[2]).toBeCloseTo(1 - loop.target_fooled, 6);
    expect(loop.target_fooled).toBeGreaterThan(0.5);
    const [lo, hi] = loop.accuracy_gain_ci95_at_T;
    expect(lo! <= loop.accuracy[2]! - loop.accuracy[0]! + 1e-9 && loop.accuracy[2]! - loop.accuracy[0]! <= hi! + 1e-9).toBe(true);
  }, 120_000);

  it('an interrupted training resumed with --resume gives the same parameters, bit for bit, and the same records', async () => {
    // Two backbone epochs, so the interrupt after the first lands mid-training of a part.
    const resumable = () => tinySpec({ backboneEpochs: 2, decoderEpochs: 1, sigmas: [] });
    const straight = path.join(root, 'straight');
    await executeRun(resumable(), { quiet: true, say: () => {}, out: straight });
    expect(fs.existsSync(checkpointDirFor(straight))).toBe(false);
    const out = path.join(root, 'interrupted');
    const interrupt = (line: string) => {
      if (line.startsWith('backbone epoch 1:')) throw new Error('simulated interrupt');
    };
    await expect(executeRun(resumable(), { quiet: true, say: interrupt, out })).rejects.toThrow('simulated interrupt');
    expect(fs.existsSync(checkpointDirFor(out))).toBe(true);
    await expect(executeRun(resumable(), { quiet: true, say: () => {}, out })).rejects.toThrow(/--resume: an interrupted run left checkpoints/);
    const said: string[] = [];
    await executeRun(resumable(), { quiet: true, say: (l: string) => said.push(l), out, resume: true });
    expect(said).toContain('backbone: resuming after epoch 1 of 2');
    expect(fs.existsSync(checkpointDirFor(out))).toBe(false);
    const records = (folder: string) =>
      fs.readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
        const { seconds: _seconds, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return rest;
      });
    expect(records(out).map((r) => `${String(r.phase)}${String(r.epoch ?? '')}`)).toEqual(['backbone1', 'backbone2', 'decoders1', 'timesteps']);
    expect(records(out)).toEqual(records(straight));
    const a = loadModel(straight).params;
    const b = loadModel(out).params;
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of Object.keys(a)) expect(Buffer.from(b[name]!.dataSync().buffer), name).toEqual(Buffer.from(a[name]!.dataSync().buffer));
  }, 180_000);

  it('refuses a model with another architecture, and training without epochs, naming the field', async () => {
    const other = validateSpec({ ...spec, name: 'predify-other', system: { kind: 'predify', channels: [2, 2, 3], hidden: 8 }, job: { kind: 'predify-noise', model: path.join(root, 'tiny'), testLimit: 4, sigmas: [] } });
    await expect(executeRun(other, { quiet: true, say: () => {}, out: path.join(root, 'bad1') })).rejects.toThrow(/job\.model: .*channels/);
    await expect(executeRun(tinySpec({}), { quiet: true, say: () => {}, out: path.join(root, 'bad2') })).rejects.toThrow(/job\.backboneEpochs/);
  }, 60_000);
});
