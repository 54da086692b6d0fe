/**
 * Oversized specs are refused by validation (the one check `validate` and `run` share), in well under a
 * second and before anything is allocated, naming the field, the estimated memory and the 2 GiB limit.
 * The estimates are checked against hand arithmetic: float32 bytes of the one array each field grows.
 */
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/base/errors.js';
import { validateSpec } from '../../src/spec/parse.js';
import { MEMORY_BUDGET_BYTES } from '../../src/spec/memory-budget.js';

const data = { name: 'mnist-embedded' };
const LCA = { name: 'lca', seed: 0, backend: 'cpu', data, system: { kind: 'lca', features: 400 }, run: { maxSteps: 30 }, job: { kind: 'lca-dictionary', epochs: 1 } };
const HOPFIELD = { name: 'hop', seed: 0, backend: 'cpu', data, system: { kind: 'hopfield' }, run: { dt: 0.1, maxSteps: 10 }, job: { kind: 'hopfield-recall', cues: 10, noise: [0.1] } };
const PC = { name: 'pc', seed: 0, backend: 'cpu', data, system: { kind: 'pc-network', layers: [64, 10] }, run: { maxSteps: 10 }, job: { kind: 'pc-vs-bp', epochs: 1, optimizer: { kind: 'adam', lr: 0.001 } } };

/** The SpecError validateSpec throws, and how long it took. */
function refusal(raw: unknown): { message: string; seconds: number } {
  const start = performance.now();
  try {
    validateSpec(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return { message: (e as Error).message, seconds: (performance.now() - start) / 1000 };
  }
  throw new Error('validateSpec accepted the spec');
}

describe('oversized specs fail at validation with the estimated memory and the limit', () => {
  it('the budget is 2 GiB, and the specs just below each limit still validate', () => {
    expect(MEMORY_BUDGET_BYTES).toBe(2 ** 31);
    // 784 × 684 000 floats = 2.145e9 bytes < 2^31 = 2.147e9.
    expect(() => validateSpec({ ...LCA, system: { kind: 'lca', features: 684_000 } })).not.toThrow();
    expect(() => validateSpec({ ...HOPFIELD, job: { ...HOPFIELD.job, cues: 684_000 } })).not.toThrow();
  });

  it('LCA: 1e8 features need a 784 × 1e8 dictionary, 292 GiB', () => {
    const r = refusal({ ...LCA, system: { kind: 'lca', features: 100_000_000 } });
    expect(r.message).toMatch(/system\.features: a dictionary of 100000000 atoms of 784 values: 7\.84e\+10 floats, an estimated 292 GiB in float32; at most 2\.00 GiB is allowed: use fewer features/);
    expect(r.seconds).toBeLessThan(2);
  });

  it('Hopfield: 1e9 cues of 784 pixels relaxed at once', () => {
    const r = refusal({ ...HOPFIELD, job: { ...HOPFIELD.job, cues: 1_000_000_000 } });
    expect(r.message).toMatch(/job\.cues: 1000000000 cues of 784 values relaxed at once: 7\.84e\+11 floats, an estimated 2\.92e\+3 GiB .*at most 2\.00 GiB/);
    expect(r.seconds).toBeLessThan(2);
  });

  it('predictive coding: a width of 1e6 between the input and the classes', () => {
    // 784·1e6 + 1e6 + 1e6·10 + 10 = 7.95e8 weights and biases, 2.96 GiB.
    const r = refusal({ ...PC, system: { kind: 'pc-network', layers: [1_000_000, 10] } });
    expect(r.message).toMatch(/system\.layers: widths \[784, 1000000, 10\] need their weight matrices: 7\.95e\+8 floats, an estimated 2\.96 GiB in float32; at most 2\.00 GiB is allowed: use smaller layers/);
    expect(r.seconds).toBeLessThan(2);
  });

  it('convolutional LCA: 1e8 atoms of 1×7×7, and at stride 1 one example\'s 2e6 code maps of 784 positions', () => {
    const base = { name: 'lcaconv', seed: 0, backend: 'cpu', data, run: { maxSteps: 10 }, job: { kind: 'lcanet', epochs: 1 } };
    // 1e8 · 49 = 4.9e9 floats = 18.3 GiB.
    const r = refusal({ ...base, system: { kind: 'lca-conv', features: 100_000_000 } });
    expect(r.message).toMatch(/system\.features: a dictionary of 100000000 atoms of 1×7×7: 4\.90e\+9 floats, an estimated 18\.3 GiB .*use fewer features or a smaller kernelSize/);
    // 2e6 · 49 = 9.8e7 floats fit; 2e6 · 784 = 1.57e9 floats = 5.84 GiB do not.
    const codes = refusal({ ...base, system: { kind: 'lca-conv', features: 2_000_000 } });
    expect(codes.message).toMatch(/system\.features: one example's codes: 2000000 maps of 784 positions: 1\.57e\+9 floats, an estimated 5\.84 GiB .*a larger stride/);
    expect(codes.message).not.toMatch(/a dictionary of/);
  });

  it('Predify: 1e5-channel blocks and their decoders', () => {
    const base = { name: 'predify', seed: 0, backend: 'cpu', data, run: { maxSteps: 10 }, job: { kind: 'predify-noise' } };
    // 2·(1·1e5 + 1e5·1e5 + 1e5·32)·25 + 32·3·3·120 = 5.0e11 floats; first maps 1e5 · 784 = 7.84e7 fit.
    const r = refusal({ ...base, system: { kind: 'predify', channels: [100_000, 100_000, 32] } });
    expect(r.message).toMatch(/system\.channels: conv blocks \[100000, 100000, 32\] with 5×5 kernels, their decoders and the head's 120 hidden units: 5\.00e\+11 floats/);
    expect(() => validateSpec({ ...base, system: { kind: 'predify', channels: [8, 16, 32] } })).not.toThrow();
  });

  it('a probe over 1e9 steps records more than the budget, even at one float per example; every 100 steps it fits', () => {
    const probes = [{ variable: 'u' }];
    const r = refusal({ ...HOPFIELD, run: { dt: 0.1, maxSteps: 1_000_000_000 }, probes });
    // (1e9 + 2) samples × 16 examples × 4 bytes = 59.6 GiB.
    expect(r.message).toMatch(/probes\[0\]\.every: probe "u" records 1\.00e\+9 samples \(run\.maxSteps 1000000000 \/ every 1\) of 16 examples and at least one float each: 1\.60e\+10 floats, an estimated 59\.6 GiB .*record less often/);
    expect(r.seconds).toBeLessThan(2);
    expect(() => validateSpec({ ...HOPFIELD, run: { dt: 0.1, maxSteps: 1_000_000 }, probes: [{ variable: 'u', every: 100 }] })).not.toThrow();
  });

  it('every oversized field is named in the one message', () => {
    const r = refusal({ ...HOPFIELD, run: { dt: 0.1, maxSteps: 1_000_000_000 }, probes: [{ variable: 'u' }], job: { ...HOPFIELD.job, cues: 1_000_000_000 } });
    expect(r.message).toMatch(/job\.cues/);
    expect(r.message).toMatch(/probes\[0\]\.every/);
  });
});
