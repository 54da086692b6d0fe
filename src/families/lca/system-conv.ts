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
import { col2im, patchKernelsAvailable, type PatchGeometry } from '../../tensor/patches.js';
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

type Padding = 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/**
 * For stride 1 the transposed convolution is a convolution with the atoms flipped in space and the
 * channel axes swapped (used where the patch kernels are missing).
 */
function flippedFilter(dictionary: tf.Tensor): tf.Tensor4D {
  return tf.transpose(tf.reverse(dictionary, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
}

/**
 * Φa and Φᵀe. Φᵀe is a plain convolution. Φa, the transposed convolution, runs on wasm and cpu in the GEMM
 * form (src/tensor/patches.ts): col2im(a · Φ_mᵀ) with Φ_m = Φ reshaped [k·k·C, K], so that the arithmetic is
 * in one matrix product (tfjs-wasm 4.22's own Conv2DBackpropInput ran at about 1 GFLOP/s and its one-output-channel
 * convolution, the flipped form, at 2–3; src/tensor/wasm-kernels/Conv2DBackpropInput.ts now picks this same
 * GEMM form for such shapes). Other backends use their own transposed convolutions.
 */
export function convDictionary(o: Required<LcaConvOptions>): DictionaryOperator {
  const { kernelSize: k, stride: s, padding, features, inputChannels } = o;
  const half = padding === 'same' ? (k - 1) / 2 : 0;
  const pad: Padding = padding === 'same' ? [[0, 0], [half, half], [half, half], [0, 0]] : 'valid';
  const outSize = (size: number) => Math.floor((size + 2 * half - k) / s) + 1;
  const overlapping = 2 * Math.floor((k - 1) / s) + 1;
  const patchSize = k * k * inputChannels;
  const geometry = (h: number, w: number): PatchGeometry => ({ height: h, width: w, channels: inputChannels, kernelSize: k, stride: s, padTop: half, padLeft: half, outHeight: outSize(h), outWidth: outSize(w) });
  return Object.freeze({
    reconstruct(code: tf.Tensor, dictionary: tf.Tensor, like: tf.Tensor) {
      const [batch, h, w] = like.shape as number[];
      if (patchKernelsAvailable()) {
        const g = geometry(h!, w!);
        const columns = tf.matMul(tf.reshape(code, [-1, features]), tf.reshape(dictionary, [patchSize, features]), false, true);
        return col2im(tf.reshape(columns, [batch!, g.outHeight, g.outWidth, patchSize]), g);
      }
      if (s === 1 && padding === 'same') return tf.conv2d(code as tf.Tensor4D, flippedFilter(dictionary), 1, pad);
      return tf.conv2dTranspose(code as tf.Tensor4D, dictionary as tf.Tensor4D, like.shape as [number, number, number, number], s, pad);
    },
    // XNNPACK's convolution with K output channels is already a good GEMM. Measured on wasm against
    // im2col + matMul (on a loaded machine, A/B in one process): within ±15% either way for C = 1, stride 1,
    // K = 64, and 2.5× faster for stride 2, K = 16, where the im2col copy is not amortised over many atoms.
    project: (error: tf.Tensor, dictionary: tf.Tensor) => tf.conv2d(error as tf.Tensor4D, dictionary as tf.Tensor4D, s, pad),
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
