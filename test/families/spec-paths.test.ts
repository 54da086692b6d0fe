/**
 * Errors name options as their caller wrote them: a library call names the option alone (`tau`), and the
 * spec layer that read it from a section adds where it sits (`system.tau`, `job.beta`).
 */
import { describe, expect, it } from 'vitest';
import { SpecError, withSpecPath } from '../../src/base/errors.js';
import { lca } from '../../src/families/lca/system.js';
import { systems } from '../../src/families/index.js';

describe('spec paths in errors', () => {
  it('a library call names the option alone; the registered entry adds system.', () => {
    expect(() => lca({ inputSize: 10, features: 5, tau: 0.5 })).toThrow(/^tau: must be a number ≥ 1/);
    const entry = systems.get('lca');
    expect(() => entry.create({ ...entry.options.parse({ features: 5 }), tau: 0.5 }, { inputSize: 10 })).toThrow(/^system\.tau: must be a number ≥ 1/);
  });

  it('withSpecPath prefixes SpecErrors only, and keeps the detail', () => {
    expect(() => withSpecPath('job', () => { throw new SpecError('beta', 'must be positive'); })).toThrow(/^job\.beta: must be positive$/);
    expect(() => withSpecPath('job', () => { throw new Error('internal'); })).toThrow(/^internal$/);
  });
});
