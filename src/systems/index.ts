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
import { lca } from './lca.js';
import { lcaConv } from './lca-conv.js';

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

const lcaDynamicsOptions = {
  lambda: z.number().min(0).default(0.25).describe('threshold λ of the transfer function and weight of the ℓ1 term (lcapt default 0.25)'),
  tau: z.number().min(1).default(100).describe('time constant τ: each step moves u by 1/τ of its drive (lcapt default 100)'),
  threshold: z.enum(['soft', 'hard']).default('soft').describe("transfer function: 'soft' (ℓ1, the default) or 'hard'"),
  nonnegative: z.boolean().default(true).describe('non-negative codes (true, lcapt default) or signed'),
  normalizeInput: z.boolean().default(true).describe('zero mean and unit variance per sample before coding (lcapt default)'),
};
const LCA_VARIABLES = ['u', 'a', 'energy', 'readout', 'fraction_active', 'recon_error_rel'] as const;

systems.register('lca', {
  kind: 'lca',
  description: 'fully connected LCA sparse coding (Rozell 2008; lcapt): u ← u + (b − u − aG)/τ, soft/hard threshold',
  options: z.strictObject({
    features: z.int().min(1).describe('number of atoms k (the input size n comes from the data)'),
    form: z.enum(['error', 'gram']).default('error').describe("'error': code → reconstruction → error → drive (4nk MACs/step); 'gram': b and G = ΦᵀΦ − I once, then k² MACs/step"),
    ...lcaDynamicsOptions,
  }),
  variables: LCA_VARIABLES,
  create: (options: { features: number; form: 'error' | 'gram' }, dims) => lca({ ...options, inputSize: dims.inputSize }),
});

systems.register('lca-conv', {
  kind: 'lca-conv',
  description: 'convolutional LCA sparse coding (lcapt LCAConv2D, LCANets): atoms k×k×C at every stride-th position',
  options: z.strictObject({
    features: z.int().min(1).describe('number of atoms K'),
    inputChannels: z.int().min(1).default(1).describe('channels C of the input images'),
    kernelSize: z.int().min(1).default(7).describe("atom height and width k (odd for 'same' padding)"),
    stride: z.int().min(1).default(1).describe('distance between neighbouring atom positions'),
    padding: z.enum(['same', 'valid']).default('same').describe("'same' pads k//2 on every side (as lcapt); 'valid' pads nothing"),
    ...lcaDynamicsOptions,
  }),
  variables: LCA_VARIABLES,
  create: (options: { features: number; inputChannels: number; kernelSize: number; stride: number; padding: 'same' | 'valid' }) => lcaConv(options),
});

export { hopfield, storePatterns } from './hopfield.js';
export { lca, type LcaSystem } from './lca.js';
export { lcaConv, type LcaConvSystem } from './lca-conv.js';
