import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../../src/base/rng.js';
import { corruptDataset } from '../../../src/data/corruptions.js';
import { loadDataset, subset } from '../../../src/data/index.js';
import { gaussianNoise } from '../../../src/families/predictive-coding/job-predify.js';
import { executeRun } from '../../../src/app/execute.js';
import { validateSpec } from '../../../src/spec/parse.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-predify-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('predify-noise job', () => {
  it('Gaussian noise is x + σN(0,1) clipped to [0, 1], seeded per image', () => {
    const data = subset(loadDataset('mnist-embedded').test, 0, 20);
    const a = corruptDataset(data, gaussianNoise(0.5), 1, makeRng(1));
    const b = corruptDataset(data, gaussianNoise(0.5), 1, makeRng(1));
    expect(Array.from(a.images)).toEqual(Array.from(b.images));
    expect(Math.min(...a.images)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.images)).toBeLessThanOrEqual(1);
    let diff = 0;
    let unclipped = 0;
    a.images.forEach((v, i) => {
      if (v > 0 && v < 1) {
        diff += (v - data.images[i]!) ** 2;
        unclipped++;
      }
    });
    // Inside (0, 1) the clip is inactive on most pixels, so the spread there is near σ (a little less).
    expect(Math.sqrt(diff / unclipped)).toBeGreaterThan(0.3);
    expect(Math.sqrt(diff / unclipped)).toBeLessThan(0.55);
  });

  it('writes per-timestep accuracy and correlation distances; t = 0 is the backbone, and clean against itself is 0 at t = 0', async () => {
    const spec = validateSpec({
      name: 'predify-tiny',
      seed: 1,
      backend: 'wasm',
      data: { name: 'mnist-embedded' },
      system: { kind: 'predify', channels: [2, 2, 2], hidden: 8 },
      run: { maxSteps: 2 },
      job: { kind: 'predify-noise', backboneEpochs: 1, decoderEpochs: 1, batchSize: 32, trainLimit: 64, testLimit: 20, sigmas: [0.5] },
    });
    const out = path.join(root, 'tiny');
    const { summary } = await executeRun(spec, { quiet: true, say: () => {}, out });
    const m = summary.metrics as { backbone_clean_accuracy: number; conditions: Record<string, { accuracy: number[]; top_corr_vs_clean_ff: number[] }> };
    const clean = m.conditions.clean!;
    expect(clean.accuracy).toHaveLength(3);
    expect(clean.accuracy[0]).toBe(m.backbone_clean_accuracy);
    expect(clean.top_corr_vs_clean_ff[0]).toBeLessThan(1e-6);
    expect(m.conditions['gaussian σ=0.5']!.top_corr_vs_clean_ff[0]).toBeGreaterThan(0);
    const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string });
    expect(lines.map((l) => l.phase)).toEqual(['backbone', 'decoders', 'timesteps', 'timesteps']);
    expect(fs.existsSync(path.join(out, 'accuracy-vs-timestep.svg'))).toBe(true);
  }, 120_000);
});
