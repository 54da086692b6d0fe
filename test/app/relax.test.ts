/**
 * `neurodyn relax` on real small run folders (an EP net and a fully connected LCANet, trained here), and
 * the exports of what it records, read back by a NIRData reader written from NIR's spec
 * (test/export/nirdata-reader.ts).
 *
 * Oracles: the relax job reaches the model through its classifier (the attack path), the training job
 * through its own evaluation code, so the same probe on the same examples must agree between the two; the
 * NIRData keys must be node names of the graph `export --format nir --as spiking` writes; its dt the
 * probe's real spacing; the emulation's spike counts, re-counted from the EventData, equal to the
 * rasters' sum.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { executeRun } from '../../src/app/execute.js';
import { decodeNpz } from '../../src/export/npz.js';
import { readTraces } from '../../src/runs/trace-files.js';
import { validateSpec } from '../../src/spec/parse.js';
import { readNirData, readNirNodeNames, type ReadEvents, type ReadTimeGridded } from '../export/nirdata-reader.js';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const CLI = path.resolve('dist/src/cli/main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-relax-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, say: () => {} };
// Asynchronous, so the test worker keeps answering vitest while a command runs.
const run = promisify(execFile);
const cli = async (...args: string[]) => {
  try {
    return (await run(process.execPath, [CLI, '--threads', '1', ...args], { encoding: 'utf8' })).stdout;
  } catch (e) {
    throw new Error(`${(e as { stderr?: string }).stderr ?? ''}${(e as Error).message}`);
  }
};

const ep = path.join(root, 'ep');
const lca = path.join(root, 'lca');

beforeAll(async () => {
  await executeRun(
    validateSpec({
      name: 'ep-relax-src',
      seed: 1,
      data: { name: 'mnist-embedded' },
      system: { kind: 'equilibrium-prop', layers: [24, 10], output: 'mse' },
      run: { maxSteps: 12 },
      probes: [{ variable: 'layers.0', every: 5 }],
      job: { kind: 'ep-train', nudgedSteps: 3, beta: 0.5, nudging: 'symmetric', optimizer: { kind: 'sgd', lr: [0.1, 0.05] }, batchSize: 20, epochs: 1, trainLimit: 300, testLimit: 50 },
    }),
    { ...quiet, out: ep },
  );
  await executeRun(
    validateSpec({
      name: 'lcanet-relax-src',
      seed: 2,
      data: { name: 'mnist-embedded' },
      system: { kind: 'lca', features: 12, form: 'gram', lambda: 0.2, tau: 10 },
      run: { maxSteps: 15 },
      probes: [{ variable: 'a', every: 4 }],
      job: { kind: 'lcanet', head: 'mlp', hidden: 8, dictionaryExamples: 64, epochs: 1, batchSize: 32, trainExamples: 64, testExamples: 20, noise: [0.2], baseline: false },
    }),
    { ...quiet, out: lca },
  );
});

function trace(dir: string, name: string) {
  const t = readTraces(dir).find((x) => x.record.trace === name);
  if (!t) throw new Error(`no trace ${name} in ${dir}: ${readTraces(dir).map((x) => x.record.trace).join(', ')}`);
  return t;
}

/** Values of examples [0, n) of a [records, examples, width] trace. */
function firstExamples(t: ReturnType<typeof trace>, n: number): number[] {
  const [records, examples, width] = t.record.shape as [number, number, number];
  const out: number[] = [];
  for (let r = 0; r < records; r++) for (let e = 0; e < n; e++) for (let w = 0; w < width; w++) out.push(Number(t.data[(r * examples + e) * width + w]));
  return out;
}

describe('neurodyn relax', () => {
  it('EP: clean, corrupted and adversarial inputs traced per example; the clean trace equals the training job’s on the same examples', async () => {
    const out = path.join(root, 'ep-relax');
    const printed = await cli('relax', ep, '--count', '4', '--corrupt', 'mnist-c/shot_noise', '--attack', 'pgd:0.1:linf:3', '--out', out, '--quiet');
    expect(printed).toMatch(/run folder/);
    const clean = trace(out, 'layers.0-clean');
    expect(clean.record).toMatchObject({ steps: [0, 5, 10, 12], shape: [4, 4, 24], examples: [0, 1, 2, 3], condition: 'clean', dt: 1 });
    const job = trace(ep, 'layers.0-ep');
    const a = firstExamples(clean, 4);
    const b = firstExamples(job, 4);
    expect(a.length).toBe(b.length);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
    const adversarial = trace(out, 'layers.0-adversarial-pgd-linf-0.1');
    expect(adversarial.record.condition).toMatch(/pgd-3 linf eps 0.1/);
    expect(trace(out, 'layers.0-corrupted-mnist-c_shot_noise-1').record.shape).toEqual([4, 4, 24]);
    const metrics = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(12);
    expect(metrics[0]).toMatchObject({ condition: 'clean', example: 0, steps: 12 });
  });

  it('LCANet: chosen examples by index; the clean code trace equals the lcanet job’s', async () => {
    const out = path.join(root, 'lca-relax');
    await cli('relax', lca, '--examples', '0,1,2', '--out', out, '--quiet');
    const clean = trace(out, 'a-clean');
    expect(clean.record).toMatchObject({ steps: [0, 4, 8, 12, 15], shape: [5, 3, 12], examples: [0, 1, 2] });
    const a = firstExamples(clean, 3);
    const b = firstExamples(trace(lca, 'a-lcanet'), 3);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
    expect(a.some((v) => v !== 0)).toBe(true);
  });

  it('refuses a condition it cannot run before relaxing anything, and a run folder of another system', async () => {
    await expect(cli('relax', ep, '--corrupt', 'mnist-c/nope', '--out', path.join(root, 'bad'), '--quiet')).rejects.toThrow(/corruption.*nope/);
    const spec = validateSpec({ name: 'mismatch', data: { name: 'mnist-embedded' }, system: { kind: 'lca', features: 12 }, run: { maxSteps: 5 }, probes: [{ variable: 'a' }], job: { kind: 'relax', from: ep } });
    await expect(executeRun(spec, { ...quiet, out: path.join(root, 'bad2') })).rejects.toThrow(/equilibrium-prop.*this spec's system/);
    expect(fs.existsSync(path.join(root, 'bad2'))).toBe(false);
  });
});

describe('exports of traces', () => {
  it('npz: traces.npz holds the traces with their steps and times, weights.npz the parameters', async () => {
    await cli('export', ep, '--format', 'npz');
    const traces = decodeNpz(fs.readFileSync(path.join(ep, 'traces.npz')));
    expect(Object.keys(traces).sort()).toEqual(['traces/layers.0-ep', 'traces/layers.0-ep.steps', 'traces/layers.0-ep.time']);
    expect(Array.from(traces['traces/layers.0-ep.steps']!.data)).toEqual([0, 5, 10, 12]);
    const weights = decodeNpz(fs.readFileSync(path.join(ep, 'weights.npz')));
    expect(Object.keys(weights).sort()).toEqual(['model/W1', 'model/W2', 'model/b1', 'model/b2']);
  });

  it('NIRData: keys are node names of the exported NIR graph, dt is every·h, the off-grid last record is dropped, spikes are EventData', async () => {
    const out = path.join(root, 'ep-relax');
    const graphFile = path.join(root, 'ep.nir');
    await cli('export', ep, '--format', 'nir', '--as', 'spiking', '--out', graphFile);
    const nodes = await readNirNodeNames(graphFile);
    const file = path.join(root, 'ep-relax.h5');
    const printed = await cli('export', out, '--format', 'nirdata', '--spikes', '20', '--count', '3', '--out', file);
    expect(printed).toMatch(/step 12 .*dropped/);
    const data = await readNirData(file);
    for (const node of Object.keys(data.nodes)) expect(nodes).toContain(node);
    const layer = data.nodes.layer1 as Record<string, ReadTimeGridded | ReadEvents>;
    const rate = layer['rate-clean'] as ReadTimeGridded;
    expect(rate.type).toBe('TimeGriddedData');
    expect(rate.shape).toEqual([4, 3, 24]);
    expect(rate.dt).toBe(5);
    // Sample 0, records at steps 0, 5, 10: the relax trace's first three records of example 0.
    const t = trace(out, 'layers.0-clean');
    for (let r = 0; r < 3; r++) for (let n = 0; n < 24; n++) expect(rate.data[r * 24 + n]).toBeCloseTo(Number(t.data[(r * 4 + 0) * 24 + n]), 6);
    const spikes = layer.spikes as ReadEvents;
    expect(spikes).toMatchObject({ type: 'EventData', nNeurons: 24, tMax: 20 });
    expect(spikes.idx).toHaveLength(3);
    const input = (data.nodes.x as Record<string, ReadEvents>).spikes!;
    expect(input.nNeurons).toBe(784);
    // The deterministic rate code of the encoder: pixel value v spikes floor(20·v + carry) times in 20 steps, so every sample has events.
    for (const row of input.idx) expect(row.filter((i) => i >= 0).length).toBeGreaterThan(0);
  });

  it('NIRData is refused for a system without a NIR graph, naming the alternative', async () => {
    const hop = path.join(root, 'hop');
    await executeRun(
      validateSpec({ name: 'hop', data: { name: 'mnist-embedded' }, system: { kind: 'hopfield' }, run: { integrator: 'euler', dt: 0.2, maxSteps: 5 }, probes: [{ variable: 'u' }], job: { kind: 'hopfield-recall', cues: 4, noise: [0.1] } }),
      { ...quiet, out: hop },
    );
    await expect(cli('export', hop, '--format', 'nirdata')).rejects.toThrow(/hopfield has no NIR graph.*--format npz/);
  });
});
