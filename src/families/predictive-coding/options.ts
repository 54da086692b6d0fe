/**
 * The predictive-coding family's system entries: what a spec's `system` may say for each system kind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { randomUniform, type Rng } from '../../base/rng.js';
import type { DynamicalSystem } from '../../core/system.js';
import type { SystemEntry } from '../family.js';
import { PC_ACTIVATION_NAMES, type PcActivationName } from './system-activations.js';
import { SpecError } from '../../base/errors.js';
import { predify, type PredifyOptions, type PredifySystem } from './system-predify.js';
import { predictiveCodingFlow, predictiveCodingNetwork, type PcInit, type PcNetwork, type PcOutput } from './system-pc.js';

const pcNetworkFields = {
  layers: z.array(z.int().min(1)).min(2).describe('widths after the input: hidden layers…, then the classes, e.g. [128, 128, 128, 10]'),
  activation: z.enum(PC_ACTIVATION_NAMES).default('tanh').describe('φ of the value nodes (PCX: gelu; W&B 2017 and ngc-learn: sigmoid)'),
  output: z.enum(['se', 'ce']).default('se').describe("output cost C: 'se' ½‖u_L − y‖² or 'ce' cross-entropy of softmax(u_L) (PCX)"),
  init: z.enum(['torch-default', 'glorot-uniform']).default('torch-default').describe("weights (and biases) U(±1/√fan_in), PyTorch's Linear default as PCX; or Glorot-uniform with zero biases"),
};

export interface PcNetworkSpec {
  readonly layers: number[];
  readonly activation: PcActivationName;
  readonly output: PcOutput;
  readonly init: PcInit;
  readonly stateStep: number;
}

const hiddenVariables = (options: { layers?: readonly number[] }) => [
  ...Array.from({ length: Math.max(0, (options.layers?.length ?? 2) - 1) }, (_, i) => `layers.${i}`),
  'energy',
  'readout',
];

export const pcNetworkEntry: SystemEntry = {
  kind: 'pc-network',
  description: 'discriminative predictive-coding network (Whittington & Bogacz 2017; PCX): value nodes relax by z ← z − γ∂F/∂z, F = Σ½‖z_l − u_l‖² + βC',
  options: z.strictObject({
    ...pcNetworkFields,
    stateStep: z.number().positive().default(0.1).describe('γ, the inference step (1 for the exact FPA / Z-IL schedules)'),
  }),
  variables: hiddenVariables,
  create: (options: PcNetworkSpec, dims) => {
    const { layers, ...rest } = options;
    return predictiveCodingNetwork({ ...rest, sizes: [dims.inputSize, ...layers] });
  },
  example: {
    options: { layers: [6, 5, 3], activation: 'tanh' },
    inputSize: 8,
    make: (system: DynamicalSystem<any, any, any>, batch: number, rng: Rng) => {
      const params = (system as PcNetwork).initParams(rng.split('params'));
      return { params, input: { x: randomUniform(rng.split('x'), [batch, 8]) as tf.Tensor2D } };
    },
  },
};

export const pcFlowEntry: SystemEntry = {
  kind: 'pc-network-flow',
  description: 'the same predictive-coding network as the flow dz/dt = −∂F/∂z, for the integrators (JPC)',
  options: z.strictObject(pcNetworkFields),
  variables: hiddenVariables,
  create: (options: Omit<PcNetworkSpec, 'stateStep'>, dims) => {
    const { layers, ...rest } = options;
    return predictiveCodingFlow({ ...rest, sizes: [dims.inputSize, ...layers] });
  },
  example: {
    options: { layers: [6, 5, 3], activation: 'tanh' },
    inputSize: 8,
    make: (system: DynamicalSystem<any, any, any>, batch: number, rng: Rng) => {
      const params = (system as PcNetwork).initParams(rng.split('params'));
      return { params, input: { x: randomUniform(rng.split('x'), [batch, 8]) as tf.Tensor2D } };
    },
  },
};

const perLayer = z.union([z.number().min(0).max(1), z.array(z.number().min(0).max(1)).min(1)]);

export const predifyEntry: SystemEntry = {
  kind: 'predify',
  description: 'Predify (Choksi et al. 2021): PCoders on a frozen conv backbone, e_n ← β ff_n + λ d_{n+1} + (1 − β − λ) e_n − α ∇ε_{n−1}, bottom-up',
  options: z.strictObject({
    channels: z.array(z.int().min(1)).min(1).default([16, 32, 64]).describe('channels of the conv blocks (5×5 conv, ReLU, 2×2 max-pool), one PCoder each (Alamia et al.’s shallow network)'),
    kernelSize: z.int().min(1).default(5).describe('backbone kernel width'),
    hidden: z.int().min(1).default(120).describe('width of the head’s hidden layer'),
    classes: z.int().min(2).default(10),
    beta: perLayer.default(0.8).describe('β_n, feedforward weight (shared or per layer); Predify’s robustness runs: 0.8'),
    lambda: perLayer.default(0.1).describe('λ_n, feedback weight (the top layer has none); 0.1'),
    alpha: z.union([z.number().min(0), z.array(z.number().min(0)).min(1)]).default(0.01).describe('α_n, error-gradient step; 0.01'),
    gradientScaling: z.boolean().default(false).describe('scale the error term by round(√(M²/(k²C))) (PCoderN / Alamia et al.)'),
  }),
  variables: (options: { channels?: readonly number[] }) => [
    ...['reps', 'preds', 'grads'].flatMap((v) => Array.from({ length: options.channels?.length ?? 3 }, (_, i) => `${v}.${i}`)),
    'readout',
    'reconstruction_error',
  ],
  create: (options: Omit<PredifyOptions, 'imageSize'>, dims) => {
    const side = Math.round(Math.sqrt(dims.inputSize));
    if (side * side !== dims.inputSize) throw new SpecError('data', `predify needs square single-channel images; got ${dims.inputSize} pixels`);
    return predify({ ...options, imageSize: side });
  },
  example: {
    options: { channels: [2, 2], kernelSize: 3, hidden: 4, classes: 3 },
    inputSize: 64,
    make: (system: DynamicalSystem<any, any, any>, batch: number, rng: Rng) => {
      const net = system as PredifySystem;
      const params = { ...net.initBackbone(rng.split('backbone')), ...net.initDecoders(rng.split('decoders')) };
      return { params, input: { x: randomUniform(rng.split('x'), [batch, 8, 8, 1]) as tf.Tensor4D } };
    },
  },
};
