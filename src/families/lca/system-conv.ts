/**
 * Convolutional LCA (lcapt's LCAConv2D; Schultz, Paiton et al.; Teti et al., "LCANets", ICML 2022), see
 * reference/peers.md §3a. The dictionary is a bank of K atoms of size kh×kw×C, placed at every `stride`-th
 * position of the image: Φa = conv_transpose(a, Φ), Φᵀe = conv(e, Φ). Layout NHWC: signal x [B, H, W, C],
 * code and potentials [B, H', W', K], dictionary [k, k, C, K] (tfjs's conv2d filter; atom K is Φ[:, :, :, K],
 * lcapt's weights[K] transposed), each atom of unit norm.
 *
 * Padding: 'same' pads k//2 on every side (odd k only, as lcapt asserts), so H' = ⌊(H − 1)/s⌋ + 1, with
 * lcapt's alignment (tfjs's own 'same' would pad asymmetrically for s > 1); 'valid' pads nothing.
 *
 * One step, in the error form (code → reconstruction → error → drive):
 *
 *   a = T(u);  ŝ = conv_transpose(a, Φ);  e = s − ŝ;  u ← u + (1/τ)(conv(e, Φ) + a − u)
 *
 * This equals u ← u + (1/τ)(b − u − aG) with b = Φᵀs and G = ΦᵀΦ − I for the explicit convolution matrix Φ
 * (the test builds that matrix). lcapt computes G as conv(Φ, Φ), which ignores that atoms are cut off at the
 * image border; the error form does not, and is therefore exactly gradient descent on the energy
 * E = ½‖s − ŝ‖² + λ‖a‖₁ (per example), which never increases along the Euler steps for τ large enough. The
 * state keeps a = T(u) before the update, so the code lags u by one step as in lcapt.
 *
 * Counts per step: `events` = nonzero coefficients; `macs` = dense MACs of the two convolutions,
 * 2·B·H'·W'·K·k²·C; `effective_macs` = events·k²·C (each event adds its atom into ŝ) plus the dense
 * conv(e, Φ); `synaptic_ops` = events × the coefficients whose atoms overlap (the lateral form on a chip);
 * `neuron_updates` = B·H'·W'·K.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import type { DiscreteSystem } from '../../core/system.js';
import { convolve, convolveTransposed } from '../../tensor/conv-forms.js';
import { lcaCounts, lcaSystemParts, resolveDynamics, type DictionaryOperator, type LcaDynamicsOptions, type LcaInput, type LcaParams, type LcaState } from './system-common.js';

export type LcaPadding = 'same' | 'valid';

export interface LcaConvOptions extends LcaDynamicsOptions {
  /** C, channels of the input image (1 for MNIST). */
  readonly inputChannels: number;
  /** K, the number of atoms. */
  readonly features: number;
  /** Atom height and width k (lcapt default 7). */
  readonly kernelSize?: number;
  /** Distance between neighbouring atom positions (default 1). */
  readonly stride?: number;
  /** 'same' (default; odd kernels only) or 'valid'. */
  readonly padding?: LcaPadding;
}

export type LcaConvSystem = DiscreteSystem<LcaState, LcaParams, LcaInput> & {
  readonly options: Required<LcaConvOptions>;
  /** Φa = conv_transpose(a, Φ) and Φᵀe = conv(e, Φ). */
  readonly operator: DictionaryOperator;
  /** [k, k, C, K]. */
  dictionaryShape(): [number, number, number, number];
};

/**
 * Φa = conv_transpose(a, Φ) and Φᵀe = conv(e, Φ), in the form the backend runs fastest (the choice is made
 * in src/tensor/conv-forms.ts: direct convolutions on the native kernels, the GEMM form on plain wasm).
 */
export function convDictionary(o: Required<LcaConvOptions>): DictionaryOperator {
  const { kernelSize: k, stride: s, padding, features, inputChannels } = o;
  const half = padding === 'same' ? (k - 1) / 2 : 0;
  const shape = { stride: s, pad: half };
  const outSize = (size: number) => Math.floor((size + 2 * half - k) / s) + 1;
  const overlapping = 2 * Math.floor((k - 1) / s) + 1;
  const patchSize = k * k * inputChannels;
  return Object.freeze({
    reconstruct: (code: tf.Tensor, dictionary: tf.Tensor, like: tf.Tensor) => convolveTransposed(code, dictionary, like.shape, shape),
    project: (error: tf.Tensor, dictionary: tf.Tensor) => convolve(error, dictionary, shape, 'direct'),
    codeShape: (signalShape: readonly number[]) => [signalShape[0]!, outSize(signalShape[1]!), outSize(signalShape[2]!), features],
    atomSize: patchSize,
    lateralFanOut: overlapping * overlapping * features,
  });
}

export function lcaConv(options: LcaConvOptions): LcaConvSystem {
  const dynamics = resolveDynamics(options);
  const o: Required<LcaConvOptions> = Object.freeze({
    ...dynamics,
    inputChannels: options.inputChannels,
    features: options.features,
    kernelSize: options.kernelSize ?? 7,
    stride: options.stride ?? 1,
    padding: options.padding ?? 'same',
  });
  const positiveInteger = (name: keyof LcaConvOptions, value: number) => {
    if (!(Number.isInteger(value) && value > 0)) throw new SpecError(`system.${name}`, `must be a positive integer, got ${value}`);
  };
  positiveInteger('inputChannels', o.inputChannels);
  positiveInteger('features', o.features);
  positiveInteger('kernelSize', o.kernelSize);
  positiveInteger('stride', o.stride);
  if (o.padding !== 'same' && o.padding !== 'valid') throw new SpecError('padding', `must be 'same' or 'valid', got ${JSON.stringify(o.padding)}`);
  if (o.padding === 'same' && o.kernelSize % 2 === 0) {
    throw new SpecError('kernelSize', `'same' padding needs an odd kernel (it pads k//2 on each side, as lcapt); got ${o.kernelSize}; use an odd size or padding 'valid'`);
  }
  const operator = convDictionary(o);
  const parts = lcaSystemParts(dynamics, operator);
  const { kernelSize: k, inputChannels: c, features } = o;
  return Object.freeze({
    kind: 'lca-conv',
    time: 'discrete',
    options: o,
    operator,
    dictionaryShape: () => [k, k, c, features] as [number, number, number, number],
    initState(input: LcaInput): LcaState {
      const [, h, w, channels] = input.x.shape;
      if (input.x.rank !== 4 || channels !== c) {
        throw new SpecError('input.x', `convolutional LCA with ${c} input channel(s) needs x of shape [batch, height, width, ${c}], got [${input.x.shape.join(', ')}]`);
      }
      if (o.padding === 'valid' && (h! < k || w! < k)) throw new SpecError('kernelSize', `kernel ${k} is larger than the ${h}×${w} image under 'valid' padding`);
      return parts.initState(input);
    },
    step: parts.step,
    energy: parts.energy,
    readout: parts.readout,
    derived: parts.derived,
    counts(_previous: LcaState, next: LcaState) {
      const positions = next.u.size;
      const perEvent = k * k * c;
      return lcaCounts(next, operator, 2 * positions * perEvent, (events) => tf.add(tf.mul(events, perEvent), positions * perEvent) as tf.Scalar);
    },
  } satisfies LcaConvSystem);
}
