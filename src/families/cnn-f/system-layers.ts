/**
 * The layers of a CNN-F (Huang et al., NeurIPS 2020; code yjhuangcd/CNNF @37b610a, cnnf/layers.py) as
 * data, each with its forward map and its generative feedback map. Feedback runs the network backwards
 * from the logits with the *same* parameter tensors (tied weights), so one parameter receives gradients
 * from both directions and autodiff sums them (the official code keeps a second, transposed copy of
 * each linear weight; reference/new-families.md §0.1).
 *
 *   conv     forward y = conv(x, W) ('same' padding, stride 1, no bias, as the official net);
 *            feedback g_in = convᵀ(g, W), the transposed convolution with the same W; this is the
 *            vector-Jacobian product of the forward map, so (tested) feedback = VJP.
 *   linear   forward y = x W + b;  feedback g_in = g Wᵀ (the bias is skipped) = the VJP.
 *   norm     the official `InsNorm`: y = x / √(mean_{H,W}(x²) + 1e-8) + β per sample and channel (RMS, no
 *            mean subtraction) with a learned per-channel β; feedback applies the same RMS normalisation to
 *            g *without* β (not a VJP: it rescales the feedback per sample and channel).
 *   flatten  reshape; feedback reshapes back.
 *   adarelu  `resReLU` with res_param 0.1. First pass z = [x > 0]; later passes first blend the input with
 *            the stored feedback, x ← x + 0.1 (g − x), then z = [x·g > 0]; y = x·z. So a unit passes where
 *            feedforward and feedback agree in sign, *negative* values included where both are negative (the
 *            code; the slides' ReLU(−f) drops that sign, new-families.md §0.2), and g = 0 gives 0.
 *            Feedback stores g (before masking) and returns g·z with the mask of the latest forward pass.
 *   adapool  2×2, stride 2. First pass: max-pool. Later: y = [g>0]·max + [g<0]·min over each window, 0
 *            where g = 0. Feedback stores g (the signal at the pooled unit) and unpools it: on the first
 *            feedback pass everything goes to the argmax position; afterwards [g>0]·g goes to the argmax
 *            and [g<0]·g to the argmin of the window of the latest forward input. Ties go to the first
 *            position in row-major order, as PyTorch's indices do.
 *
 * The masks z = [·] and the arg-positions are piecewise constant in their inputs, so autodiff through a
 * cycle treats them as constants: that is the exact gradient wherever the masks do not switch. They are
 * computed with the gradient tape paused, so a backward pass neither stores nor differentiates them (the
 * gradient of the window max alone, through tfjs's broadcast Equal, had been half a training step).
 *
 * BPDA (`maskGradient: 'bpda'`, for attacks; Athalye et al., ICML 2018): the exact gradient never tells an
 * attacker how moving the feedback g would flip a switch, and each switch [u > 0] is a step. With BPDA each
 * step is differentiated as the sigmoid σ(u/τ), τ = RMS of u over the tensor (a constant), while the
 * forward value stays the step's: the switch becomes [u > 0] + (σ(u/τ) − sg σ(u/τ)), whose second term is
 * exactly 0 in value and σ′(u/τ)/τ in gradient (sg: stop-gradient). AdaReLU's switch is u = x̃·g; AdaPool's
 * is u = g, which moves the selection from the argmin (g < 0) to the argmax (g > 0).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { normalArray, uniformArray, type Rng } from '../../base/rng.js';
import { withTapePaused } from '../../tensor/engine.js';

export type LayerSpec =
  | { readonly type: 'conv'; readonly channels: number; readonly kernel?: number }
  | { readonly type: 'linear'; readonly units: number; readonly bias?: boolean }
  | { readonly type: 'norm' }
  | { readonly type: 'flatten' }
  | { readonly type: 'adarelu' }
  | { readonly type: 'adapool' };

export type LayerType = LayerSpec['type'];

/** A layer with the shapes (without the batch axis) it maps between. */
export interface ResolvedLayer {
  readonly index: number;
  readonly spec: LayerSpec;
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
}

export const RES_PARAM = 0.1;
const NORM_EPS = 1e-8;
const POOL = 2;

/** Shapes through the network, checked: convolutions and pools need [H, W, C], linear layers a vector. */
export function resolveLayers(layers: readonly LayerSpec[], inputShape: readonly number[]): ResolvedLayer[] {
  let shape = [...inputShape];
  return layers.map((spec, index) => {
    const where = `system.layers[${index}]`;
    const inShape = shape;
    const image = shape.length === 3;
    switch (spec.type) {
      case 'conv': {
        if (!image) throw new SpecError(where, `a conv layer needs an image [H, W, C] input but gets a vector of ${shape[0]}; put convolutions before 'flatten'`);
        const k = spec.kernel ?? 3;
        if (!(Number.isInteger(k) && k >= 1 && k % 2 === 1)) throw new SpecError(`${where}.kernel`, `must be an odd positive integer ('same' padding), got ${k}`);
        shape = [shape[0]!, shape[1]!, spec.channels];
        break;
      }
      case 'norm':
        if (!image) throw new SpecError(where, "the RMS instance norm normalises over H and W: put it after a conv layer, before 'flatten'");
        break;
      case 'adapool':
        if (!image) throw new SpecError(where, "adapool needs an image [H, W, C] input; put it before 'flatten'");
        if (shape[0]! % POOL !== 0 || shape[1]! % POOL !== 0) throw new SpecError(where, `adapool (2×2, stride 2) needs even H and W, got ${shape[0]}×${shape[1]}`);
        shape = [shape[0]! / POOL, shape[1]! / POOL, shape[2]!];
        break;
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'linear':
        if (image) throw new SpecError(where, `a linear layer needs a vector input but gets [${shape.join(', ')}]; put 'flatten' before it`);
        shape = [spec.units];
        break;
      case 'adarelu':
        break;
    }
    return { index, spec, inShape, outShape: shape };
  });
}

/** Names of the parameters of layer i: W<i> (conv, linear), b<i> (linear bias), beta<i> (norm bias). */
export function paramNamesOf(layer: ResolvedLayer): string[] {
  const i = layer.index;
  switch (layer.spec.type) {
    case 'conv':
      return [`W${i}`];
    case 'linear':
      return layer.spec.bias === false ? [`W${i}`] : [`W${i}`, `b${i}`];
    case 'norm':
      return [`beta${i}`];
    default:
      return [];
  }
}

/**
 * Initial parameters as the official code draws them: conv weights N(0, √(2/(k·k·C_out))) (He, fan-out),
 * linear weights and biases U(±1/√fan_in) (PyTorch's default), norm biases 0.
 */
export function initLayerParams(layer: ResolvedLayer, rng: Rng): Record<string, tf.Tensor> {
  const i = layer.index;
  const s = layer.spec;
  if (s.type === 'conv') {
    const k = s.kernel ?? 3;
    const cin = layer.inShape[2]!;
    const n = k * k * cin * s.channels;
    return { [`W${i}`]: tf.tensor4d(normalArray(rng.split(`W${i}`), n, Math.sqrt(2 / (k * k * s.channels))), [k, k, cin, s.channels]) };
  }
  if (s.type === 'linear') {
    const fanIn = layer.inShape[0]!;
    const bound = 1 / Math.sqrt(fanIn);
    const out: Record<string, tf.Tensor> = { [`W${i}`]: tf.tensor2d(uniformArray(rng.split(`W${i}`), fanIn * s.units, -bound, bound), [fanIn, s.units]) };
    if (s.bias !== false) out[`b${i}`] = tf.tensor1d(uniformArray(rng.split(`b${i}`), s.units, -bound, bound));
    return out;
  }
  if (s.type === 'norm') return { [`beta${i}`]: tf.zeros([layer.inShape[2]!]) };
  return {};
}

/** RMS over H and W per sample and channel: x / √(mean(x²) + 1e-8). */
export function rmsNormalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.sqrt(tf.add(tf.mean(tf.square(x), [1, 2], true), NORM_EPS)));
}

export function convForward(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
}

/** convᵀ(g, W) back onto the input's shape [batch, H, W, C_in]. */
export function convFeedback(g: tf.Tensor, w: tf.Tensor, inShape: readonly number[]): tf.Tensor {
  return tf.conv2dTranspose(g as tf.Tensor4D, w as tf.Tensor4D, [g.shape[0]!, inShape[0]!, inShape[1]!, inShape[2]!], 1, 'same');
}

export function linearForward(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor {
  const y = tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
  return b ? tf.add(y, b) : y;
}

export function linearFeedback(g: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return tf.matMul(g as tf.Tensor2D, w as tf.Tensor2D, false, true);
}

/** How a gradient passes the switches (module comment): as constants, or through a sigmoid surrogate. */
export type MaskGradient = 'exact' | 'bpda';
export const MASK_GRADIENTS: readonly MaskGradient[] = ['exact', 'bpda'];

/** σ(u/τ) − sg σ(u/τ) with τ the RMS of u: exactly 0 in value, σ′(u/τ)/τ in gradient. */
function switchSurrogate(u: tf.Tensor): tf.Tensor {
  const tau = withTapePaused(() => tf.add(tf.sqrt(tf.mean(tf.square(u))), 1e-12));
  const smooth = tf.sigmoid(tf.div(u, tau));
  return tf.sub(smooth, withTapePaused(() => tf.clone(smooth)));
}

/** AdaReLU's forward: the mask z and the output. `g` undefined: the first pass (plain ReLU). */
export function adaReluForward(x: tf.Tensor, g: tf.Tensor | undefined, maskGradient: MaskGradient = 'exact'): { y: tf.Tensor; z: tf.Tensor } {
  if (!g) {
    const z = withTapePaused(() => tf.step(x));
    return { y: tf.mul(x, z), z };
  }
  const blended = tf.add(x, tf.mul(tf.sub(g, x), RES_PARAM));
  if (maskGradient === 'exact') {
    // The product x̃·g only decides the switch: off the tape, as it costs a training step nothing to keep.
    const z = withTapePaused(() => tf.step(tf.mul(blended, g)));
    return { y: tf.mul(blended, z), z };
  }
  const u = tf.mul(blended, g);
  const z = tf.add(withTapePaused(() => tf.step(u)), switchSurrogate(u));
  return { y: tf.mul(blended, z), z };
}

/** [batch, H, W, C] → [batch, H/2, W/2, C, 4]: each 2×2 window's values in row-major order. */
function windows(x: tf.Tensor): tf.Tensor {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const split = tf.reshape(x, [b * (h / POOL), POOL, w / POOL, POOL, c]);
  return tf.reshape(tf.transpose(split, [0, 2, 4, 1, 3]), [b, h / POOL, w / POOL, c, POOL * POOL]);
}

/** Inverse of `windows`. */
function unwindows(v: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const [b, h, w, c] = shape as [number, number, number, number];
  const split = tf.reshape(v, [b * (h / POOL), w / POOL, c, POOL, POOL]);
  return tf.reshape(tf.transpose(split, [0, 3, 1, 4, 2]), [b, h, w, c]);
}

/**
 * One-hot [.., 4] of the first maximum (or minimum) of each window, a constant. Built from tf.step rather
 * than argMax: the backends break ties differently (wasm does not pick the first), and after a ReLU whole
 * windows are tied at 0.
 */
function argPositions(win: tf.Tensor, which: 'max' | 'min'): tf.Tensor {
  const v = which === 'max' ? win : tf.neg(win);
  const isExtreme = tf.sub(1, tf.step(tf.sub(tf.max(v, -1, true), v)));
  const earlier = tf.cumsum(isExtreme, win.rank - 1, true);
  return tf.mul(isExtreme, tf.step(tf.sub(0.5, earlier)));
}

/**
 * The selection of each window used by AdaPool: argmax everywhere on the first pass (`g` undefined),
 * else argmax where g > 0, argmin where g < 0 and nothing where g = 0.
 */
function poolSelection(win: tf.Tensor, g: tf.Tensor | undefined, maskGradient: MaskGradient = 'exact'): tf.Tensor {
  const { selection, spread } = withTapePaused(() => {
    const max = argPositions(win, 'max');
    if (!g) return { selection: max };
    const min = argPositions(win, 'min');
    const gw = tf.expandDims(g, -1);
    return { selection: tf.add(tf.mul(max, tf.step(gw)), tf.mul(min, tf.step(tf.neg(gw)))), spread: maskGradient === 'bpda' ? tf.sub(max, min) : undefined };
  });
  if (!spread) return selection;
  // [g > 0] and [g < 0] = 1 − [g > 0] (away from 0) share one surrogate, with opposite signs.
  return tf.add(selection, tf.mul(spread, switchSurrogate(tf.expandDims(g!, -1))));
}

export function adaPoolForward(x: tf.Tensor, g: tf.Tensor | undefined, maskGradient: MaskGradient = 'exact'): tf.Tensor {
  const win = windows(x);
  return tf.sum(tf.mul(win, poolSelection(win, g, maskGradient)), -1);
}

/**
 * AdaPool's feedback: g at each pooled unit goes back to the position the window selects (see the
 * module comment); `first` selects by argmax alone. `x` is the pool's latest forward input.
 */
export function adaPoolFeedback(g: tf.Tensor, x: tf.Tensor, first: boolean, maskGradient: MaskGradient = 'exact'): tf.Tensor {
  const win = windows(x);
  const selection = poolSelection(win, first ? undefined : g, maskGradient);
  return unwindows(tf.mul(selection, tf.expandDims(g, -1)), x.shape);
}
