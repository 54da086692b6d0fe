/**
 * The system registry: what a spec's `system.kind` may name. Adding a family:
 *   1. `src/systems/<name>.ts`: the factory, with the maths in its doc comment;
 *   2. an entry below: its options schema (zod, strict: unknown keys are errors), the variables a probe may
 *      read, and `create`;
 *   3. `test/systems/<name>.test.ts` with a real oracle;
 *   4. a `sims/<name>-*.json` that runs it.
 */
import { z } from 'zod';
import { createRegistry } from '../core/registry.js';
import type { DynamicalSystem } from '../core/system.js';
import { hopfield } from './hopfield.js';

export interface SystemEntry {
  readonly kind: string;
  readonly description: string;
  /** Options in the spec (without `kind`). */
  readonly options: z.ZodObject;
  /** State variables and derived quantities a probe may record. */
  readonly variables: readonly string[];
  /** Builds the system from its validated options and the sizes the data imposes. */
  readonly create: (options: any, dims: { readonly inputSize: number }) => DynamicalSystem<any, any, any>;
}

export const systems = createRegistry<SystemEntry>('system kind');

systems.register('hopfield', {
  kind: 'hopfield',
  description: 'continuous Hopfield network (Hopfield 1984) with tanh units and its Lyapunov energy',
  options: z.strictObject({
    gain: z.number().positive().default(4).describe('slope of tanh at 0'),
    tau: z.number().positive().default(1).describe('time constant, in the unit of dt'),
    cueCurrent: z.number().min(0).default(0).describe('external current I = cueCurrent · cue held during the relaxation'),
  }),
  variables: ['u', 'energy', 'readout'],
  create: (options: { gain: number; tau: number; cueCurrent: number }, dims) => hopfield({ ...options, size: dims.inputSize }),
});

export { hopfield, storePatterns } from './hopfield.js';
