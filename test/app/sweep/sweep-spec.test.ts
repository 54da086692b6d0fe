import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/base/errors.js';
import { loadSweepFile, validateSweep } from '../../../src/app/sweep/load-sweep.js';
import { sweepJsonSchema } from '../../../src/app/sweep/sweep-schema.js';
import { canonicalJson, trialId } from '../../../src/app/sweep/trial-id.js';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
const base = 'tiny-ep.json';
const metric = { name: 'test_accuracy', goal: 'maximize' };

function errorOf(raw: unknown): string {
  try {
    validateSweep(raw, fixtures);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as Error).message;
  }
  throw new Error('expected a SpecError');
}

describe('sweep specs', () => {
  it('a grid plans every combination × seed, configuration-major, each trial with its own resolved spec', () => {
    const loaded = loadSweepFile(path.join(fixtures, 'tiny-grid.sweep.json'));
    expect(loaded.trials.map((t) => [t.config['job.optimizer.lr[0]'], t.seed])).toEqual([
      [0.05, 0],
      [0.05, 1],
      [0.05, 2],
      [0.2, 0],
      [0.2, 1],
      [0.2, 2],
    ]);
    const t = loaded.trials[4]!;
    expect(t.spec.seed).toBe(1);
    expect((t.spec.job as unknown as { optimizer: { lr: number[] } }).optimizer.lr).toEqual([0.2, 0.02]);
    expect(new Set(loaded.trials.map((x) => x.id)).size).toBe(6);
    // The id is the hash of what runs: recomputing it from the resolved spec gives it back, and any change moves it.
    expect(trialId(t.spec)).toBe(t.id);
    expect(trialId({ ...t.spec, seed: 7 })).not.toBe(t.id);
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });

  it('a random sweep with the same seed draws the same configurations; another seed draws others; each stays in its distribution', () => {
    const raw = (seed: number) => ({
      name: 'r',
      base,
      method: 'random',
      seed,
      samples: 12,
      parameters: {
        'job.beta': { distribution: 'log-uniform', min: 0.1, max: 2 },
        'job.batchSize': { distribution: 'integer', min: 5, max: 9 },
        'job.nudging': { distribution: 'categorical', values: ['symmetric', 'one-sided'] },
        'job.optimizer.momentum': { distribution: 'uniform', min: 0, max: 0.95 },
      },
      metric,
    });
    const a = validateSweep(raw(3), fixtures);
    const b = validateSweep(raw(3), fixtures);
    const c = validateSweep(raw(4), fixtures);
    expect(a.trials.map((t) => t.config)).toEqual(b.trials.map((t) => t.config));
    expect(a.trials.map((t) => t.id)).toEqual(b.trials.map((t) => t.id));
    expect(a.trials.map((t) => t.config)).not.toEqual(c.trials.map((t) => t.config));
    for (const t of a.trials) {
      const beta = t.config['job.beta'] as number;
      expect(beta).toBeGreaterThanOrEqual(0.1);
      expect(beta).toBeLessThan(2);
      expect([5, 6, 7, 8, 9]).toContain(t.config['job.batchSize']);
      expect(['symmetric', 'one-sided']).toContain(t.config['job.nudging']);
      expect(t.config['job.optimizer.momentum']).toBeGreaterThanOrEqual(0);
      expect(t.config['job.optimizer.momentum']).toBeLessThan(0.95);
    }
  }, 30_000);

  it('a configuration depends only on the seed, its index and its own parameter (adding a parameter keeps the others)', () => {
    const one = { name: 'r', base, method: 'random', seed: 5, samples: 6, parameters: { 'job.beta': { distribution: 'uniform', min: 0.5, max: 1.5 } }, metric };
    const two = { ...one, parameters: { ...one.parameters, 'job.batchSize': { distribution: 'integer', min: 10, max: 30 } } };
    const a = validateSweep(one, fixtures).trials.map((t) => t.config['job.beta']);
    const b = validateSweep(two, fixtures).trials.map((t) => t.config['job.beta']);
    expect(b).toEqual(a);
  });

  it('runCap keeps the first trials in plan order', () => {
    const loaded = validateSweep({ ...loadRaw(), runCap: 4 }, fixtures);
    expect(loaded.trials.map((t) => t.seed)).toEqual([0, 1, 2, 0]);
  });

  const cases: [string, unknown, RegExp][] = [
    ['unknown field', { name: 's', base, parameters: {}, metric, sead: 1 }, /\(top level\): unknown field "sead"/],
    ['missing metric', { name: 's', base, parameters: {} }, /metric: required field is missing/],
    ['bad goal', { name: 's', base, parameters: {}, metric: { name: 'x', goal: 'max' } }, /metric\.goal: must be one of "maximize", "minimize"; got "max"/],
    ['random without samples', { name: 's', base, method: 'random', parameters: {}, metric }, /samples: a random sweep needs samples/],
    ['grid with a distribution', { name: 's', base, parameters: { 'job.beta': { distribution: 'uniform', min: 0, max: 1 } }, metric }, /parameters\.job\.beta\.distribution: a grid sweep needs values/],
    ['uniform without max', { name: 's', base, method: 'random', samples: 2, parameters: { 'job.beta': { distribution: 'uniform', min: 0 } }, metric }, /parameters\.job\.beta\.max: a uniform parameter needs max/],
    ['log-uniform from 0', { name: 's', base, method: 'random', samples: 2, parameters: { 'job.beta': { distribution: 'log-uniform', min: 0, max: 1 } }, metric }, /log-uniform parameter needs min > 0/],
    ['empty values', { name: 's', base, parameters: { 'job.beta': { values: [] } }, metric }, /parameters\.job\.beta\.values: /],
    ['repeated seeds', { name: 's', base, parameters: {}, seeds: [1, 1], metric }, /seeds: seeds repeat/],
    ['bad path syntax', { name: 's', base, parameters: { 'job..beta': { values: [1] } }, metric }, /parameters\["job\.\.beta"\]: "job\.\.beta" is not a JSON path/],
    ['path through nothing', { name: 's', base, parameters: { 'job.optimiser.lr[0]': { values: [1] } }, metric }, /parameters\["job\.optimiser\.lr\[0\]"\]: the base spec has no job\.optimiser/],
    ['index past the end', { name: 's', base, parameters: { 'job.optimizer.lr[2]': { values: [1] } }, metric }, /job\.optimizer\.lr has 2 elements in the base spec; index \[2\] is past its end/],
    ['seed as a parameter', { name: 's', base, parameters: { seed: { values: [1, 2] } }, metric }, /the seed is swept by "seeds"/],
    ['a value the spec rejects', { name: 's', base, parameters: { 'job.beta': { values: [1, -1] } }, metric }, /configuration \{job\.beta=-1, seed=0\}\): gives an invalid spec: job\.beta: /],
    ['a uniform draw for an integer option', { name: 's', base, method: 'random', samples: 3, parameters: { 'job.nudgedSteps': { distribution: 'uniform', min: 1, max: 5 } }, metric }, /gives an invalid spec: job\.nudgedSteps: Invalid input: expected int/],
    ['a missing base file', { name: 's', base: 'nope.json', parameters: {}, metric }, /base: cannot read spec .*nope\.json: no such file/],
    ['an invalid inline base', { name: 's', base: { name: 'x' }, parameters: {}, metric }, /base \(system\): required field is missing/],
  ];
  for (const [what, raw, pattern] of cases) it(`a clear error: ${what}`, () => expect(errorOf(raw)).toMatch(pattern));

  it('the JSON Schema describes the sweep fields', () => {
    const schema = sweepJsonSchema() as { required: string[]; properties: Record<string, unknown> };
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'base', 'parameters', 'metric']));
    expect(JSON.stringify(schema.properties.earlyStopping)).toContain('"asha"');
  });
});

function loadRaw(): Record<string, unknown> {
  return { name: 'g', base, parameters: { 'job.optimizer.lr[0]': { values: [0.05, 0.2] } }, seeds: [0, 1, 2], metric };
}
