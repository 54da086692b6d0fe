/**
 * The LCA systems as a spec names them: their options (zod, strict) and how they are built.
 */
import { z } from 'zod';
import { withSpecPath } from '../../base/errors.js';
import type { SystemEntry } from '../family.js';
import { randomUniform } from '../../base/rng.js';
import type { DynamicalSystem } from '../../core/system.js';
import { randomDictionary } from './system-common.js';
import { lca, type LcaSystem } from './system.js';
import { lcaConv, type LcaConvSystem } from './system-conv.js';

const lcaDynamicsOptions = {
  lambda: z.number().min(0).default(0.25).describe('threshold λ of the transfer function and weight of the ℓ1 term (lcapt default 0.25)'),
  tau: z.number().min(1).default(100).describe('time constant τ: each step moves u by 1/τ of its drive (lcapt default 100)'),
  threshold: z.enum(['soft', 'hard']).default('soft').describe("transfer function: 'soft' (ℓ1, the default) or 'hard'"),
  nonnegative: z.boolean().default(true).describe('non-negative codes (true, lcapt default) or signed'),
  normalizeInput: z.boolean().default(true).describe('zero mean and unit variance per sample before coding (lcapt default)'),
};
const LCA_VARIABLES = ['u', 'a', 'energy', 'readout', 'fraction_active', 'recon_error_rel'] as const;

export const lcaEntry: SystemEntry = {
  kind: 'lca',
  description: 'fully connected LCA sparse coding (Rozell 2008; lcapt): u ← u + (b − u − aG)/τ, soft/hard threshold',
  options: z.strictObject({
    features: z.int().min(1).describe('number of atoms k (the input size n comes from the data)'),
    form: z.enum(['error', 'gram']).default('error').describe("'error': code → reconstruction → error → drive (4nk MACs/step); 'gram': b and G = ΦᵀΦ − I once, then k² MACs/step"),
    ...lcaDynamicsOptions,
  }),
  variables: () => LCA_VARIABLES,
  create: (options: { features: number; form: 'error' | 'gram' }, dims) => withSpecPath('system', () => lca({ ...options, inputSize: dims.inputSize })),
  example: {
    options: { features: 12, lambda: 0.2, tau: 10 },
    inputSize: 16,
    make: (system: DynamicalSystem<any, any, any>, batch, rng) => {
      const params = { dictionary: randomDictionary([16, 12], rng.split('dictionary')) };
      const input = (system as LcaSystem).prepare({ x: randomUniform(rng.split('x'), [batch, 16]) as never }, params);
      return { params, input };
    },
  },
};

export const lcaConvEntry: SystemEntry = {
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
  variables: () => LCA_VARIABLES,
  create: (options: { features: number; inputChannels: number; kernelSize: number; stride: number; padding: 'same' | 'valid' }) => withSpecPath('system', () => lcaConv(options)),
  example: {
    options: { features: 4, kernelSize: 3, stride: 2, lambda: 0.2, tau: 10 },
    inputSize: 64,
    make: (system: DynamicalSystem<any, any, any>, batch, rng) => {
      const params = { dictionary: randomDictionary((system as LcaConvSystem).dictionaryShape(), rng.split('dictionary')) };
      return { params, input: { x: randomUniform(rng.split('x'), [batch, 8, 8, 1]) } };
    },
  },
};
