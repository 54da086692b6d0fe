import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy } from '../../src/export/npy.js';
import { executeRun } from '../../src/app/execute.js';
import { loadSpecFile } from '../../src/spec/parse.js';
import { validateSpec } from '../../src/spec/parse.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-runs-'));
const quickstart = loadSpecFile(path.join(path.dirname(new URL(import.meta.url).pathname), '../../sims/quickstart.json'));
/** The quickstart, shrunk to seconds. */
const small = validateSpec({
  ...quickstart,
  run: { ...quickstart.run, maxSteps: 30 },
  probes: [{ variable: 'u', every: 10, reduce: 'mean' }],
  job: { ...quickstart.job, cues: 20, noise: [0.1, 0.3] },
});

describe('a run folder', () => {
  it('holds the resolved spec, metrics.jsonl, summary.json with stable keys, traces and the energy picture', async () => {
    const out = path.join(root, 'a');
    const lines: string[] = [];
    const { summary } = await executeRun(small, { out, backend: 'cpu', quiet: true, say: (l) => lines.push(l) });
    expect(fs.readdirSync(out).sort()).toEqual(['energy-trajectory.svg', 'metrics.jsonl', 'spec.json', 'summary.json', 'traces']);
    expect(Object.keys(summary)).toEqual(['spec', 'backend', 'seed', 'seconds', 'metrics']);
    const onDisk = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(onDisk).toEqual(summary);
    expect(summary.backend).toBe('cpu');
    const spec = JSON.parse(fs.readFileSync(path.join(out, 'spec.json'), 'utf8'));
    expect(spec.backend).toBe('cpu');
    expect(spec.run.checkEvery).toBe(1); // defaults are resolved into the saved spec
    const metrics = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.noise)).toEqual([0.1, 0.3]);
    expect(lines).toHaveLength(2);
    const energy = decodeNpy(fs.readFileSync(path.join(out, 'traces', 'energy-noise-0.1.npy')));
    expect(energy.dtype).toBe('float32');
    expect(energy.shape[0]).toBe(metrics[0].steps + 1);
    const u = decodeNpy(fs.readFileSync(path.join(out, 'traces', 'u-noise-0.1.npy')));
    expect(u.shape[1]).toBe(784);
    expect(fs.readFileSync(path.join(out, 'energy-trajectory.svg'), 'utf8')).toMatch(/^<svg[\s\S]*flip p = 0\.3[\s\S]*<\/svg>\n$/);
    // No temporary files are left beside it.
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('the same seed on the same backend (wasm) gives the same numbers; another seed does not', async () => {
    const metricsOf = async (name: string, seed: number) =>
      (await executeRun(small, { out: path.join(root, name), backend: 'wasm', seed, quiet: true, say: () => {} })).summary.metrics;
    const first = await metricsOf('s1', 3);
    const second = await metricsOf('s2', 3);
    expect(second).toEqual(first);
    const other = await metricsOf('s3', 4);
    expect(other.overlap_before).not.toEqual(first.overlap_before);
  });

  it('refuses to overwrite a folder that has files in it', async () => {
    const out = path.join(root, 'full');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'x');
    await expect(executeRun(small, { out, backend: 'cpu', quiet: true, say: () => {} })).rejects.toThrow(/already exists and is not an empty folder/);
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
  });
});

describe('interrupted runs', () => {
  it('the hidden folder an interrupted run leaves is removed by the next run there, but not while its process lives', async () => {
    const { spawnSync } = await import('node:child_process');
    const { openRunFolder } = await import('../../src/runs/run-folder.js');
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-partial-'));
    const deadPid = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    const abandoned = path.join(parent, `.quickstart-1.partial-${deadPid}`);
    const live = path.join(parent, `.quickstart-2.partial-${process.ppid}`);
    for (const dir of [abandoned, live]) {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'spec.json'), '{}');
    }
    const folder = openRunFolder(path.join(parent, 'next'));
    expect(fs.existsSync(abandoned)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
    folder.abort();
    expect(fs.readdirSync(parent)).toEqual([path.basename(live)]);
  });
});
