/**
 * The equilibrium-propagation systems as a spec names them: their options (zod, strict) and how they are built.
 */
import { z } from 'zod';
import { SpecError, withSpecPath } from '../../base/errors.js';
import type { SystemEntry } from '../family.js';
import { ACTIVATION_NAMES } from './system-activations.js';
import { randomUniform } from '../../base/rng.js';
import type { DynamicalSystem } from '../../core/system.js';
import { equilibriumProp, type EquilibriumPropOptions, type EquilibriumPropSystem } from './system.js';
import { equilibriumPropConv, type EquilibriumPropConvOptions, type EquilibriumPropConvSystem } from './system-conv.js';

const stateLayers = (count: number) => Array.from({ length: count }, (_, i) => `layers.${i}`);

const epNetworkOptions = {
  activation: z.enum(ACTIVATION_NAMES).default('hard-sigmoid').describe('ρ: clip(x,0,1), clip(x/2,0,1), clip(x,−½,½) or sigmoid(4(x−½))'),
  output: z.enum(['mse', 'softmax-ce']).default('mse').describe("'mse': the output layer relaxes and is nudged by ½‖s−y‖²; 'softmax-ce': a softmax readout of the last hidden layer, nudged by cross-entropy"),
  init: z.enum(['glorot-uniform', 'torch-default']).default('glorot-uniform').describe("weights U(±√(6/(fan_in+fan_out))) with zero biases, or PyTorch's U(±1/√fan_in)"),
};

export const equilibriumPropEntry: SystemEntry = {
  kind: 'equilibrium-prop',
  description: 'layered Hopfield energy network for equilibrium propagation (Scellier & Bengio 2017; Laborieux et al. 2021), fully connected',
  options: z.strictObject({
    layers: z.array(z.int().min(1)).min(2).describe('widths after the input: hidden layers…, then the classes, e.g. [500, 10]'),
    dynamics: z.enum(['primitive-map', 'energy-descent']).default('primitive-map').describe("'primitive-map': s ← ρ(∂Φ/∂s) (Laborieux); 'energy-descent': s ← clip(s − ε∂E/∂s) (Scellier & Bengio)"),
    stepSize: z.number().positive().default(0.5).describe('ε of the energy-descent dynamics'),
    ...epNetworkOptions,
  }),
  // The state holds the relaxing layers: every layer with the MSE readout, all but the last with softmax.
  variables: (options: { layers: number[]; output: string }) => [...stateLayers(options.layers.length - (options.output === 'mse' ? 0 : 1)), 'energy', 'readout'],
  create: (options: Omit<EquilibriumPropOptions, 'sizes'> & { layers: number[] }, dims) => {
    const { layers, ...rest } = options;
    return withSpecPath('system', () => equilibriumProp({ ...rest, sizes: [dims.inputSize, ...layers] }));
  },
  example: {
    options: { layers: [12, 8, 4], output: 'mse' },
    inputSize: 16,
    make: (system: DynamicalSystem<any, any, any>, batch, rng) => {
      const ep = system as EquilibriumPropSystem;
      const params = ep.initParams(rng.split('params'));
      return { params, input: ep.prepare({ x: randomUniform(rng.split('x'), [batch, 16]) as never }, params) };
    },
  },
};

export const equilibriumPropConvEntry: SystemEntry = {
  kind: 'equilibrium-prop-conv',
  description: 'convolutional layered energy network for equilibrium propagation: the MNIST P_CNN (Ernoult et al. 2019; Laborieux et al. 2021)',
  options: z.strictObject({
    channels: z.array(z.int().min(1)).min(1).default([32, 64]).describe('channels of the convolutional layers, each followed by a 2×2 max-pool'),
    kernelSize: z.int().min(1).default(5).describe('square kernel width'),
    classes: z.int().min(2).default(10).describe('units of the fully connected output layer'),
    ...epNetworkOptions,
    init: epNetworkOptions.init.unwrap().default('torch-default'),
  }),
  variables: (options: { channels: number[]; output: string }) => [...stateLayers(options.channels.length + (options.output === 'mse' ? 1 : 0)), 'energy', 'readout'],
  create: (options: Omit<EquilibriumPropConvOptions, 'inputSize'>, dims) => {
    const side = Math.round(Math.sqrt(dims.inputSize));
    if (side * side !== dims.inputSize) throw new SpecError('data', `equilibrium-prop-conv needs square single-channel images; got ${dims.inputSize} pixels`);
    return withSpecPath('system', () => equilibriumPropConv({ ...options, inputSize: side }));
  },
  example: {
    options: { channels: [2, 3], kernelSize: 3, classes: 4, output: 'mse' },
    inputSize: 196,
    make: (system: DynamicalSystem<any, any, any>, batch, rng) => {
      const ep = system as EquilibriumPropConvSystem;
      const params = ep.initParams(rng.split('params'));
      return { params, input: ep.prepare({ x: randomUniform(rng.split('x'), [batch, 14, 14, 1]) as never }, params) };
    },
  },
};
