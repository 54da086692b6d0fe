/**
 * The `cnn-f` system as the spec sees it: its options (strict), the variables a probe may read, and the
 * factory from validated options and the data's image size.
 */
import { z } from 'zod';
import { SpecError } from '../../base/errors.js';
import { randomUniform } from '../../base/rng.js';
import type { SystemEntry } from '../family.js';
import { ARCHITECTURES, ARCHITECTURE_NAMES, type ArchitectureName } from './system-architectures.js';
import { MASK_GRADIENTS, type LayerSpec, type MaskGradient } from './system-layers.js';
import { cnnf, type CnnfSystem } from './system.js';

const layerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('conv'), channels: z.int().min(1), kernel: z.int().min(1).default(3) }),
  z.strictObject({ type: z.literal('linear'), units: z.int().min(1), bias: z.boolean().default(true) }),
  z.strictObject({ type: z.literal('norm') }),
  z.strictObject({ type: z.literal('flatten') }),
  z.strictObject({ type: z.literal('adarelu') }),
  z.strictObject({ type: z.literal('adapool') }),
]);

export const cnnfOptionsSchema = z.strictObject({
  architecture: z
    .union([z.enum(ARCHITECTURE_NAMES as [ArchitectureName, ...ArchitectureName[]]), z.array(layerSchema).min(1)])
    .default('fashion-cpu')
    .describe("'fashion-official' (the paper's Fashion-MNIST net), 'fashion-cpu' (a small one for two cores), or a list of layers"),
  ind: z.int().min(0).optional().describe("index of the layer whose input is reconstructed (0: the image); default: the named architecture's"),
  eta: z.number().min(0).max(1).default(0.1).describe('η: h ← h + η (reconstruction − h) each cycle'),
  readout: z.enum(['average', 'last']).default('average').describe("class scores: the mean of every pass's logits (the official test default) or the last"),
  maskGradient: z
    .enum(MASK_GRADIENTS as [MaskGradient, ...MaskGradient[]])
    .default('exact')
    .describe("how gradients pass the AdaReLU/AdaPool switches: 'exact' (constants: the true gradient) or 'bpda' (a sigmoid surrogate, for attacks; the forward pass is the same)"),
});
export type CnnfSpecOptions = z.infer<typeof cnnfOptionsSchema>;

function layersOf(options: CnnfSpecOptions): { layers: readonly LayerSpec[]; ind: number } {
  const named = typeof options.architecture === 'string' ? ARCHITECTURES[options.architecture] : undefined;
  const layers = (named?.layers ?? options.architecture) as readonly LayerSpec[];
  const ind = options.ind ?? named?.ind;
  if (ind === undefined) throw new SpecError('system.ind', 'a custom architecture needs ind: the index of the layer whose input the feedback reconstructs (0: the image)');
  return { layers, ind };
}

export function createCnnf(options: CnnfSpecOptions, dims: { readonly inputSize: number }): CnnfSystem {
  const side = Math.round(Math.sqrt(dims.inputSize));
  if (side * side !== dims.inputSize) throw new SpecError('data', `cnn-f needs square single-channel images; got ${dims.inputSize} pixels`);
  const { layers, ind } = layersOf(options);
  return cnnf({ layers, ind, eta: options.eta, readout: options.readout, inputShape: [side, side, 1], maskGradient: options.maskGradient });
}

/** The state's leaves (per-layer masks, pool inputs and feedback signals from `ind` up), the derived quantities and the readout. */
export function cnnfVariables(options: CnnfSpecOptions): string[] {
  const { layers, ind } = layersOf(options);
  const perLayer = layers.flatMap((l, i) =>
    i < ind
      ? []
      : l.type === 'adarelu'
        ? [`masks.z${i}`, `feedback.g${i}`]
        : l.type === 'adapool'
          ? [`pools.x${i}`, `feedback.g${i}`]
          : l.type === 'conv' || l.type === 'linear'
            ? [`activity.in${i}`, `activity.fb${i}`]
            : [],
  );
  return ['h', 'logits', 'logitsMean', 'recon', 'residual', 'reconError', ...perLayer, 'recon_error', 'readout'];
}

/** A small network on 8×8 images for the shared family tests. */
const EXAMPLE_LAYERS: LayerSpec[] = [
  { type: 'conv', channels: 2, kernel: 3 },
  { type: 'norm' },
  { type: 'adarelu' },
  { type: 'adapool' },
  { type: 'conv', channels: 3, kernel: 3 },
  { type: 'norm' },
  { type: 'adarelu' },
  { type: 'adapool' },
  { type: 'flatten' },
  { type: 'linear', units: 5, bias: true },
];

export const cnnfSystemEntry: SystemEntry = {
  kind: 'cnn-f',
  description: "CNN-F (Huang et al. 2020): a CNN with tied-weight generative feedback, AdaReLU and AdaPool; one step = one feedback-forward cycle; attacked through the whole loop or its first pass, with the switches' exact gradient or BPDA (maskGradient 'bpda', attack --bpda)",
  options: cnnfOptionsSchema,
  variables: (options: CnnfSpecOptions) => cnnfVariables(options),
  create: (options: CnnfSpecOptions, dims) => createCnnf(options, dims),
  example: {
    options: { architecture: EXAMPLE_LAYERS, ind: 3 },
    inputSize: 64,
    make: (system, batch, rng) => ({ params: (system as CnnfSystem).initParams(rng.split('params')), input: { x: randomUniform(rng.split('x'), [batch, 8, 8, 1]) } }),
  },
};
