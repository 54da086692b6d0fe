/**
 * Every job of every family records the spec's probes on its evaluation relaxations, or is refused at
 * validation (never silence). Per family a tiny real job with probes: the traces exist per relaxation,
 * their step indices are the probe's grid (0, every, 2·every, … and the last step taken), their shape is
 * [records, examples, ...the variable's shape], and the description beside each .npy agrees with it.
 * executeRun itself fails on a leaked tensor, so each run also checks that.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SpecError } from '../../src/base/errors.js';
import { executeRun } from '../../src/app/execute.js';
import { decodeNpy } from '../../src/export/npy.js';
import { jobs } from '../../src/families/index.js';
import { TRACE_EXAMPLES } from '../../src/families/traces.js';
import { readTraces, type TraceRecord } from '../../src/runs/trace-files.js';
import { validateSpec } from '../../src/spec/parse.js';

vi.setConfig({ testTimeout: 300_000 });

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-traces-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, say: () => {} };

/** The grid a probe records on when the relaxation runs all `steps` steps. */
function grid(every: number, steps: number): number[] {
  const out: number[] = [];
  for (let s = 0; s <= steps; s += every) out.push(s);
  if (out[out.length - 1] !== steps) out.push(steps);
  return out;
}

async function runWithProbes(name: string, spec: Record<string, unknown>): Promise<Map<string, TraceRecord>> {
  const out = path.join(root, name);
  await executeRun(validateSpec({ name, seed: 1, backend: 'wasm', data: { name: 'mnist-embedded' }, ...spec }), { ...quiet, out });
  const traces = readTraces(out);
  for (const t of traces) {
    expect(t.guessed).toBe(false);
    const npy = decodeNpy(fs.readFileSync(path.join(out, 'traces', `${t.record.trace}.npy`)));
    expect(npy.shape).toEqual(t.record.shape);
    expect(t.record.shape[0]).toBe(t.record.steps.length);
    for (const v of npy.data) expect(Number.isFinite(v)).toBe(true);
  }
  return new Map(traces.map((t) => [t.record.trace, t.record]));
}

describe('every job records the spec’s probes or is refused', () => {
  it('every registered job declares whether it records probes', () => {
    for (const kind of jobs.names()) {
      const t = jobs.get(kind).traces;
      expect(typeof t === 'function' || t === 'yes' || /^no: \S/.test(t), kind).toBe(true);
    }
  });

  it('a job that cannot honour a probe fails validation, naming the job and the probe', () => {
    const spec = {
      name: 'sim-probe',
      data: { name: 'mnist-embedded' },
      system: { kind: 'lca', features: 8 },
      run: { maxSteps: 5 },
      probes: [{ name: 'code', variable: 'a' }],
      job: { kind: 'similarity-regularized', targets: [{ kind: 'pixels', name: 'px' }] },
    };
    expect(() => validateSpec(spec)).toThrow(SpecError);
    expect(() => validateSpec(spec)).toThrow(/probes\[0\].*similarity-regularized.*"code".*feed-forward/);
    expect(() => validateSpec({ ...spec, probes: [] })).not.toThrow();
    // cnnf-train with testCycles 0 and a 0-cycle model relaxes nothing: refused, per spec.
    const cnnf = { name: 'c', data: { name: 'mnist-embedded' }, system: { kind: 'cnn-f', architecture: 'fashion-official' }, run: { maxSteps: 1 }, probes: [{ variable: 'logits' }] };
    expect(() => validateSpec({ ...cnnf, job: { kind: 'cnnf-train', cycles: [0], testCycles: 0 } })).toThrow(/cnnf-train.*"logits".*first pass/);
    expect(() => validateSpec({ ...cnnf, job: { kind: 'cnnf-train', cycles: [0], testCycles: 2 } })).not.toThrow();
  });

  it('hopfield-recall: one trace per noise level over all cues, on the every-3 grid up to convergence', async () => {
    const traces = await runWithProbes('hopfield', {
      system: { kind: 'hopfield', gain: 4, tau: 1 },
      run: { integrator: 'euler', dt: 0.2, maxSteps: 20 },
      probes: [{ variable: 'u', every: 3 }],
      job: { kind: 'hopfield-recall', cues: 6, noise: [0, 0.3] },
    });
    for (const p of ['0', '0.3']) {
      const u = traces.get(`u-noise-${p}`)!;
      expect(u.steps).toEqual(grid(3, 20));
      expect(u.shape).toEqual([grid(3, 20).length, 6, 784]);
      expect(u.dt).toBe(0.2);
      expect(u.labels).toHaveLength(6);
    }
  });

  it('ep-train: the free phase of the trained net on the first test examples', async () => {
    const traces = await runWithProbes('ep', {
      system: { kind: 'equilibrium-prop', layers: [20, 10], output: 'softmax-ce' },
      run: { maxSteps: 12 },
      probes: [{ variable: 'layers.0', every: 5 }, { variable: 'energy', reduce: 'mean' }],
      job: { kind: 'ep-train', nudgedSteps: 3, beta: 1, nudging: 'symmetric', optimizer: { kind: 'sgd', lr: [0.05, 0.02] }, batchSize: 20, epochs: 1, trainLimit: 100, testLimit: 40 },
    });
    expect(traces.get('layers.0-ep')).toMatchObject({ steps: [0, 5, 10, 12], shape: [4, TRACE_EXAMPLES, 20], dt: 1, examples: Array.from({ length: TRACE_EXAMPLES }, (_, i) => i) });
    expect(traces.get('energy-ep')).toMatchObject({ steps: grid(1, 12), shape: [13] });
  });

  it('lca-dictionary and lcanet: the relaxation with the initial and the learned dictionary, and the LCANet front end', async () => {
    const system = { kind: 'lca', features: 12, form: 'gram', lambda: 0.2, tau: 10 };
    const dict = await runWithProbes('lca-dict', {
      system,
      run: { maxSteps: 25 },
      probes: [{ variable: 'a', every: 10 }, { variable: 'u', every: 25 }],
      job: { kind: 'lca-dictionary', epochs: 1, batchSize: 32, trainExamples: 64, evalExamples: 20, atomsShown: 4 },
    });
    for (const label of ['initial-dictionary', 'learned-dictionary']) {
      expect(dict.get(`a-${label}`)).toMatchObject({ steps: [0, 10, 20, 25], shape: [4, 16, 12] });
      expect(dict.get(`u-${label}`)).toMatchObject({ steps: [0, 25], shape: [2, 16, 12] });
    }
    const net = await runWithProbes('lcanet', {
      system,
      run: { maxSteps: 15 },
      probes: [{ variable: 'a', every: 4 }],
      job: { kind: 'lcanet', head: 'mlp', hidden: 8, dictionaryExamples: 64, epochs: 1, batchSize: 32, trainExamples: 64, testExamples: 20, noise: [0.2], baseline: false },
    });
    expect(net.get('a-lcanet')).toMatchObject({ steps: [0, 4, 8, 12, 15], shape: [5, 16, 12] });
  });

  it('pc-vs-bp: PC inference with the trained weights, per method; predify-noise: per condition', async () => {
    const pc = await runWithProbes('pc', {
      system: { kind: 'pc-network', layers: [16, 10], activation: 'tanh', output: 'se', stateStep: 0.5 },
      run: { maxSteps: 6 },
      probes: [{ variable: 'layers.0', every: 4 }],
      job: { kind: 'pc-vs-bp', schedule: 'strict', optimizer: { kind: 'adam', lr: 0.002 }, batchSize: 50, epochs: 1, trainLimit: 100, testLimit: 50 },
    });
    for (const method of ['pc', 'bp']) expect(pc.get(`layers.0-${method}`)).toMatchObject({ steps: [0, 4, 6], shape: [3, 16, 16] });
    const predify = await runWithProbes('predify', {
      system: { kind: 'predify', channels: [2, 2, 2], hidden: 8 },
      run: { maxSteps: 2 },
      probes: [{ variable: 'readout' }],
      job: { kind: 'predify-noise', backboneEpochs: 1, decoderEpochs: 1, batchSize: 32, trainLimit: 64, testLimit: 20, sigmas: [0.5] },
    });
    for (const label of ['clean', 'gaussian-sigma-0.5']) expect(predify.get(`readout-${label}`)).toMatchObject({ steps: [0, 1, 2], shape: [3, 16, 10] });
  });

  it('cnnf-train: the evaluation relaxation of every model, max(cycles, testCycles) cycles', async () => {
    const traces = await runWithProbes('cnnf', {
      system: {
        kind: 'cnn-f',
        architecture: [{ type: 'conv', channels: 2 }, { type: 'norm' }, { type: 'adarelu' }, { type: 'adapool' }, { type: 'flatten' }, { type: 'linear', units: 10 }],
        ind: 0,
        eta: 0.1,
      },
      run: { maxSteps: 1 },
      probes: [{ variable: 'logits' }],
      job: { kind: 'cnnf-train', cycles: [0, 1], epochs: 1, batchSize: 50, lr: 0.05, trainLimit: 100, testLimit: 20, testCycles: 2 },
    });
    for (const label of ['c0', 'c1']) expect(traces.get(`logits-${label}`)).toMatchObject({ steps: [0, 1, 2], shape: [3, 16, 10] });
  });
});
