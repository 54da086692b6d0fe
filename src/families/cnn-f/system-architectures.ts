/**
 * Named CNN-F architectures, as data.
 *
 * - `fashion-official`: the Fashion-MNIST network of the official code (cnnf/model_mnist.py `CNNF`):
 *   conv 1→16, 16→32, 32→32, max-pool, 32→64, max-pool (3×3, each followed by the RMS instance norm with
 *   its bias and AdaReLU), fc 3136→1000→128→10 with biases; ind = 2 in the official block numbering, the
 *   32-channel conv2 output after its AdaReLU, which is the input of layer 6 here. 3.3M parameters (3.1M in
 *   fc1).
 * - `fashion-cpu`: the same kinds of layers, small enough to train on two CPU cores: conv 1→8, pool,
 *   conv 8→16, pool, fc 784→64→10; ind = 4 (the 8×14×14 output of the first block), so the feedback loop
 *   spans the second conv block and both linear layers. 52,138 parameters.
 */
import type { LayerSpec } from './system-layers.js';

export interface Architecture {
  readonly layers: readonly LayerSpec[];
  readonly ind: number;
}

const block = (channels: number): LayerSpec[] => [{ type: 'conv', channels, kernel: 3 }, { type: 'norm' }, { type: 'adarelu' }];

export const ARCHITECTURES = {
  'fashion-official': {
    layers: [
      ...block(16),
      ...block(32),
      ...block(32),
      { type: 'adapool' },
      ...block(64),
      { type: 'adapool' },
      { type: 'flatten' },
      { type: 'linear', units: 1000 },
      { type: 'adarelu' },
      { type: 'linear', units: 128 },
      { type: 'adarelu' },
      { type: 'linear', units: 10 },
    ],
    ind: 6,
  },
  'fashion-cpu': {
    layers: [
      ...block(8),
      { type: 'adapool' },
      ...block(16),
      { type: 'adapool' },
      { type: 'flatten' },
      { type: 'linear', units: 64 },
      { type: 'adarelu' },
      { type: 'linear', units: 10 },
    ],
    ind: 4,
  },
} as const satisfies Record<string, Architecture>;

export type ArchitectureName = keyof typeof ARCHITECTURES;
export const ARCHITECTURE_NAMES = Object.keys(ARCHITECTURES) as ArchitectureName[];
