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
import { ACTIVATION_NAMES } from './equilibrium-prop-activations.js';
import { equilibriumProp, type EquilibriumPropOptions } from './equilibrium-prop.js';
import { equilibriumPropConv, type EquilibriumPropConvOptions } from './equilibrium-prop-conv.js';
import { SpecError } from '../base/errors.js';

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

const epNetworkOptions = {
  activation: z.enum(ACTIVATION_NAMES).default('hard-sigmoid').describe('ρ: clip(x,0,1), clip(x/2,0,1), clip(x,−½,½) or sigmoid(4(x−½))'),
  output: z.enum(['mse', 'softmax-ce']).default('mse').describe("'mse': the output layer relaxes and is nudged by ½‖s−y‖²; 'softmax-ce': a softmax readout of the last hidden layer, nudged by cross-entropy"),
  init: z.enum(['glorot-uniform', 'torch-default']).default('glorot-uniform').describe("weights U(±√(6/(fan_in+fan_out))) with zero biases, or PyTorch's U(±1/√fan_in)"),
};

systems.register('equilibrium-prop', {
  kind: 'equilibrium-prop',
  description: 'layered Hopfield energy network for equilibrium propagation (Scellier & Bengio 2017; Laborieux et al. 2021), fully connected',
  options: z.strictObject({
    layers: z.array(z.int().min(1)).min(2).describe('widths after the input: hidden layers…, then the classes, e.g. [500, 10]'),
    dynamics: z.enum(['primitive-map', 'energy-descent']).default('primitive-map').describe("'primitive-map': s ← ρ(∂Φ/∂s) (Laborieux); 'energy-descent': s ← clip(s − ε∂E/∂s) (Scellier & Bengio)"),
    stepSize: z.number().positive().default(0.5).describe('ε of the energy-descent dynamics'),
    ...epNetworkOptions,
  }),
  variables: ['layers.0', 'layers.1', 'layers.2', 'layers.3', 'energy', 'readout'],
  create: (options: Omit<EquilibriumPropOptions, 'sizes'> & { layers: number[] }, dims) => {
    const { layers, ...rest } = options;
    return equilibriumProp({ ...rest, sizes: [dims.inputSize, ...layers] });
  },
});

systems.register('equilibrium-prop-conv', {
  kind: 'equilibrium-prop-conv',
  description: 'convolutional layered energy network for equilibrium propagation: the MNIST P_CNN (Ernoult et al. 2019; Laborieux et al. 2021)',
  options: z.strictObject({
    channels: z.array(z.int().min(1)).min(1).default([32, 64]).describe('channels of the convolutional layers, each followed by a 2×2 max-pool'),
    kernelSize: z.int().min(1).default(5).describe('square kernel width'),
    classes: z.int().min(2).default(10).describe('units of the fully connected output layer'),
    ...epNetworkOptions,
    init: epNetworkOptions.init.unwrap().default('torch-default'),
  }),
  variables: ['layers.0', 'layers.1', 'layers.2', 'energy', 'readout'],
  create: (options: Omit<EquilibriumPropConvOptions, 'inputSize'>, dims) => {
    const side = Math.round(Math.sqrt(dims.inputSize));
    if (side * side !== dims.inputSize) throw new SpecError('data', `equilibrium-prop-conv needs square single-channel images; got ${dims.inputSize} pixels`);
    return equilibriumPropConv({ ...options, inputSize: side });
  },
});

export { hopfield, storePatterns } from './hopfield.js';
export { lca, type LcaSystem } from './lca.js';
export { lcaConv, type LcaConvSystem } from './lca-conv.js';
export { equilibriumProp, type EquilibriumPropSystem } from './equilibrium-prop.js';
export { equilibriumPropConv, type EquilibriumPropConvSystem } from './equilibrium-prop-conv.js';
