/**
 * CNN-F, the convolutional network with recurrent generative feedback (Huang et al., "Neural networks
 * with recurrent generative feedback", NeurIPS 2020, arXiv 2007.09200; official code yjhuangcd/CNNF
 * @37b610a, cnnf/model_mnist.py `run_cycles`), as a discrete dynamical system whose step is one cycle of
 * iterative inference. The layers and their forward/feedback maps are in system-layers.ts.
 *
 * With x̃ = 2x − 1 (the official Normalize(0.5, 0.5)), f the layers from `ind` up to the logits and g the
 * tied-weight feedback from the logits down to `ind`:
 *
 *   initial state (the first pass): h_0 = the activation entering layer `ind` (x̃ itself when ind = 0),
 *                                  y_0 = f(h_0) with plain ReLU and max-pool;
 *   one step (cycle t = 1, 2, …):  r_t = g(y_{t−1})            feedback from the logits (no softmax),
 *                                                              each AdaReLU/AdaPool storing its signal;
 *                                  h_t = h_{t−1} + η (r_t − h_{t−1})     (η = 0.1 in the paper);
 *                                  y_t = f(h_t) with AdaReLU and AdaPool steered by the stored signals.
 *
 * Layers below `ind` run once, in the first pass. The readout is y_t ('last') or the mean of y_0 … y_t
 * ('average', the official test default). There is no energy: the state records instead, per example, the
 * self-consistency residual ‖h_t − h_{t−1}‖₂ and the reconstruction error mean((r_t − h_{t−1})²), both
 * 0 in the initial state. The step index k decides one thing: the first feedback pass unpools to the
 * max-pool positions only (the forward pass it follows was plain max-pooling).
 *
 * Deviation from the official code, by design: the feedback path is the exact reverse of the layer list,
 * so the RMS norm of a conv → norm → adarelu → adapool block is applied to the feedback after the mask
 * (unpool → mask → norm → convᵀ), where the official net normalises before unpooling; the two differ by a
 * positive factor per example and channel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import type { Rng } from '../../base/rng.js';
import { countNonzero } from '../../core/count-nonzero.js';
import type { DiscreteSystem, StepCounts } from '../../core/system.js';
import {
  adaPoolFeedback,
  adaPoolForward,
  adaReluForward,
  convFeedback,
  convForward,
  initLayerParams,
  linearFeedback,
  linearForward,
  paramNamesOf,
  resolveLayers,
  rmsNormalize,
  type LayerSpec,
  type MaskGradient,
  type ResolvedLayer,
} from './system-layers.js';

export type CnnfReadout = 'last' | 'average';

export interface CnnfOptions {
  readonly layers: readonly LayerSpec[];
  /** Index of the layer whose *input* is reconstructed (0: the image). */
  readonly ind: number;
  /** η, the step of h toward the reconstruction (0.1). */
  readonly eta?: number;
  readonly readout?: CnnfReadout;
  /** [H, W, C] of the images. */
  readonly inputShape: readonly [number, number, number];
  /** How gradients pass the AdaReLU/AdaPool switches ('exact'; 'bpda' for attacks, system-layers.ts). The forward is the same. */
  readonly maskGradient?: MaskGradient;
}

export type CnnfParams = Readonly<Record<string, tf.Tensor>>;
export type CnnfInput = { readonly x: tf.Tensor };
export type CnnfState = {
  /** Features entering layer `ind`. */
  readonly h: tf.Tensor;
  readonly logits: tf.Tensor2D;
  /** Mean of the logits of every pass so far. */
  readonly logitsMean: tf.Tensor2D;
  /** The latest reconstruction r_t at `ind` (h_0 in the initial state). */
  readonly recon: tf.Tensor;
  readonly residual: tf.Tensor1D;
  readonly reconError: tf.Tensor1D;
  /** AdaReLU masks z of the latest forward pass, `z<i>`, for layers i ≥ ind. */
  readonly masks: Readonly<Record<string, tf.Tensor>>;
  /** AdaPool inputs of the latest forward pass, `x<i>`. */
  readonly pools: Readonly<Record<string, tf.Tensor>>;
  /** Feedback signals stored by AdaReLU/AdaPool layers, `g<i>` (zeros before the first feedback). */
  readonly feedback: Readonly<Record<string, tf.Tensor>>;
  /**
   * What each weighted (conv, linear) layer i ≥ ind received in the latest cycle, for the event counts:
   * `in<i>` its forward input, `fb<i>` its feedback input (zeros in the initial state). References to
   * tensors the cycle computed anyway.
   */
  readonly activity: Readonly<Record<string, tf.Tensor>>;
};

export interface CnnfSystem extends DiscreteSystem<CnnfState, CnnfParams, CnnfInput> {
  readonly options: Required<CnnfOptions>;
  readonly resolved: readonly ResolvedLayer[];
  readonly paramNames: readonly string[];
  readonly classes: number;
  initParams(rng: Rng): Record<string, tf.Tensor>;
  /** Shape of h (without the batch axis). */
  readonly hShape: readonly number[];
  /** The forward input `in<i>` of every weighted layer in the first pass (all layers, not only ≥ ind). */
  firstPassInputs(input: CnnfInput, params: CnnfParams): Record<string, tf.Tensor>;
}

interface PassResult {
  readonly logits: tf.Tensor2D;
  readonly h: tf.Tensor;
  readonly masks: Record<string, tf.Tensor>;
  readonly pools: Record<string, tf.Tensor>;
  readonly inputs: Record<string, tf.Tensor>;
}

export function cnnf(options: CnnfOptions): CnnfSystem {
  const eta = options.eta ?? 0.1;
  const readoutKind = options.readout ?? 'average';
  const maskGradient = options.maskGradient ?? 'exact';
  const { ind } = options;
  const resolved = resolveLayers(options.layers, options.inputShape);
  const last = resolved[resolved.length - 1];
  if (!last || last.spec.type !== 'linear') throw new SpecError('system.layers', 'the last layer must be linear: its outputs are the logits the feedback starts from');
  if (!(Number.isInteger(ind) && ind >= 0 && ind < resolved.length)) {
    throw new SpecError('system.ind', `must be an integer layer index from 0 (reconstruct the image) to ${resolved.length - 1}, got ${ind}`);
  }
  if (!(eta >= 0 && eta <= 1)) throw new SpecError('system.eta', `must lie in [0, 1], got ${eta}`);
  const classes = last.outShape[0]!;
  const paramNames = resolved.flatMap(paramNamesOf);
  const hShape = ind === 0 ? options.inputShape : resolved[ind - 1]!.outShape;
  const above = resolved.slice(ind);

  /** Forward from layer `from`; `feedback` undefined: the first pass (plain ReLU and max-pool). */
  const forward = (x: tf.Tensor, params: CnnfParams, from: number, feedback: Readonly<Record<string, tf.Tensor>> | undefined): PassResult => {
    let a = x;
    let h = from === ind ? x : undefined;
    const masks: Record<string, tf.Tensor> = {};
    const pools: Record<string, tf.Tensor> = {};
    const inputs: Record<string, tf.Tensor> = {};
    for (const layer of resolved.slice(from)) {
      const i = layer.index;
      if (i === ind) h = a;
      const g = feedback?.[`g${i}`];
      switch (layer.spec.type) {
        case 'conv':
          inputs[`in${i}`] = a;
          a = convForward(a, params[`W${i}`]!);
          break;
        case 'linear':
          inputs[`in${i}`] = a;
          a = linearForward(a, params[`W${i}`]!, params[`b${i}`]);
          break;
        case 'norm':
          a = tf.add(rmsNormalize(a), params[`beta${i}`]!);
          break;
        case 'flatten':
          a = tf.reshape(a, [a.shape[0]!, -1]);
          break;
        case 'adarelu': {
          const r = adaReluForward(a, g, maskGradient);
          if (i >= ind) masks[`z${i}`] = r.z;
          a = r.y;
          break;
        }
        case 'adapool':
          if (i >= ind) pools[`x${i}`] = a;
          a = adaPoolForward(a, g, maskGradient);
          break;
      }
    }
    return { logits: a as tf.Tensor2D, h: h!, masks, pools, inputs };
  };

  /** The generative feedback from the logits down to `ind`: the reconstruction and the stored signals. */
  const feedbackPass = (state: CnnfState, params: CnnfParams, first: boolean) => {
    let g: tf.Tensor = state.logits;
    const stored: Record<string, tf.Tensor> = {};
    const inputs: Record<string, tf.Tensor> = {};
    for (const layer of [...above].reverse()) {
      const i = layer.index;
      switch (layer.spec.type) {
        case 'conv':
          inputs[`fb${i}`] = g === state.logits ? tf.clone(g) : g;
          g = convFeedback(g, params[`W${i}`]!, layer.inShape);
          break;
        case 'linear':
          // The logits belong to the previous state, which simulate frees after the step: keep a handle.
          inputs[`fb${i}`] = g === state.logits ? tf.clone(g) : g;
          g = linearFeedback(g, params[`W${i}`]!);
          break;
        case 'norm':
          g = rmsNormalize(g);
          break;
        case 'flatten':
          g = tf.reshape(g, [g.shape[0]!, ...layer.inShape]);
          break;
        case 'adarelu':
          stored[`g${i}`] = g;
          g = tf.mul(g, state.masks[`z${i}`]!);
          break;
        case 'adapool':
          stored[`g${i}`] = g;
          g = adaPoolFeedback(g, state.pools[`x${i}`]!, first, maskGradient);
          break;
      }
    }
    return { recon: g, stored, inputs };
  };

  /** `in<i>`, `fb<i>` of the weighted layers from ind up, in layer order (the same leaves in every state). */
  const activityOf = (forwardInputs: Record<string, tf.Tensor>, feedbackInputs: Record<string, tf.Tensor>) => {
    const out: Record<string, tf.Tensor> = {};
    for (const l of above) {
      if (l.spec.type !== 'conv' && l.spec.type !== 'linear') continue;
      out[`in${l.index}`] = forwardInputs[`in${l.index}`]!;
      out[`fb${l.index}`] = feedbackInputs[`fb${l.index}`]!;
    }
    return out;
  };

  const perExample = (t: tf.Tensor, f: (v: tf.Tensor) => tf.Tensor) => f(tf.reshape(t, [t.shape[0]!, -1]));

  const system: CnnfSystem = {
    kind: 'cnn-f',
    time: 'discrete',
    options: { layers: options.layers, ind, eta, readout: readoutKind, inputShape: options.inputShape, maskGradient },
    resolved,
    paramNames,
    classes,
    hShape,
    initParams(rng: Rng) {
      return Object.assign({}, ...resolved.map((l) => initLayerParams(l, rng.split(`layer${l.index}`)))) as Record<string, tf.Tensor>;
    },
    initState(input, params) {
      const x = tf.sub(tf.mul(input.x, 2), 1);
      const pass = forward(x, params, 0, undefined);
      const batch = x.shape[0]!;
      const feedback: Record<string, tf.Tensor> = {};
      for (const l of above) if (l.spec.type === 'adarelu' || l.spec.type === 'adapool') feedback[`g${l.index}`] = tf.zeros([batch, ...l.outShape]);
      const zeros = Object.fromEntries(above.filter((l) => l.spec.type === 'conv' || l.spec.type === 'linear').map((l) => [`fb${l.index}`, tf.zeros([batch, ...l.outShape])]));
      const activity = activityOf(pass.inputs, zeros);
      return {
        h: pass.h,
        logits: pass.logits,
        logitsMean: pass.logits,
        recon: pass.h,
        residual: tf.zeros([batch]),
        reconError: tf.zeros([batch]),
        masks: pass.masks,
        pools: pass.pools,
        feedback,
        activity,
      };
    },
    firstPassInputs(input, params) {
      return forward(tf.sub(tf.mul(input.x, 2), 1), params, 0, undefined).inputs;
    },
    step(state, _input, params, k) {
      const { recon, stored, inputs } = feedbackPass(state, params, k === 0);
      const h = tf.add(state.h, tf.mul(tf.sub(recon, state.h), eta));
      const pass = forward(h, params, ind, stored);
      const logitsMean = tf.add(state.logitsMean, tf.div(tf.sub(pass.logits, state.logitsMean), k + 2)) as tf.Tensor2D;
      return {
        h,
        logits: pass.logits,
        logitsMean,
        recon,
        residual: perExample(tf.sub(h, state.h), (v) => tf.norm(v, 'euclidean', 1)) as tf.Tensor1D,
        reconError: perExample(tf.sub(recon, state.h), (v) => tf.mean(tf.square(v), 1)) as tf.Tensor1D,
        masks: pass.masks,
        pools: pass.pools,
        feedback: stored,
        activity: activityOf(pass.inputs, inputs),
      };
    },
    readout(state) {
      return readoutKind === 'last' ? state.logits : state.logitsMean;
    },
    // The residual is a state leaf already; `recon_error` is the snake-case name probes use elsewhere.
    derived: {
      recon_error: (state) => state.reconError,
    },
    counts(_previous, next, _input, params) {
      return countsOfPass(above, next.activity, params, true);
    },
  };
  return Object.freeze(system);
}

/**
 * Event counts of one pass for the hardware meter (NeuroBench's definitions, hardware/counts.ts), per
 * weighted layer i that ran (its forward input `in<i>`, its feedback input `fb<i>` in `state.activity`),
 * with W the layer's weight and nz(·) the indicator of a nonzero entry:
 *
 *   macs            dense multiply-accumulates: conv H·W·k²·C_in·C_out, linear in·out, per map that ran
 *                   (forward, and on a cycle the tied feedback map too; 'same' padding counted as taps);
 *   effective_macs  Σ nz(input) × nz(W) over the connections each map really has (border taps of a 'same'
 *                   convolution excluded): Σ conv(nz(in), nz(W)) + Σ convᵀ(nz(fb), nz(W)), likewise
 *                   nz(in)·nz(W) and nz(fb)·nz(W)ᵀ for a linear layer;
 *   events          the nonzero activations the layer receives, nnz(in) + nnz(fb): each is one graded event
 *                   sent by the unit below (forward) or above (feedback), counted once whatever its fan-out;
 *   neuron_updates  the units the layer's maps compute (out, plus in on the feedback).
 *
 * The norm, AdaReLU and AdaPool layers compute per unit (neuron_updates: their outputs, each way on a
 * cycle) and send nothing themselves: what they pass on is counted as the next weighted layer's input.
 * A cycle is one step; the first pass is the initial state, which simulate does not count:
 * `countsOfPass(resolved, firstPassInputs(...), params, false)` gives it (every layer, forward only) for a
 * per-inference total (hardware.ts).
 */
export function countsOfPass(layers: readonly ResolvedLayer[], activity: Readonly<Record<string, tf.Tensor>>, params: CnnfParams, withFeedback: boolean): StepCounts {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const ways = withFeedback ? 2 : 1;
  const nz = (t: tf.Tensor) => tf.step(tf.abs(t));
  const out: Record<string, Record<string, tf.Scalar>> = {};
  for (const layer of layers) {
    const i = layer.index;
    const s = layer.spec;
    const name = `${s.type}${i}`;
    if (s.type === 'conv' || s.type === 'linear') {
      const input = activity[`in${i}`];
      const fb = withFeedback ? activity[`fb${i}`] : undefined;
      if (!input) continue;
      const batch = input.shape[0]!;
      const w = nz(params[`W${i}`]!);
      const dense = s.type === 'conv' ? size(layer.inShape) * (s.kernel ?? 3) ** 2 * s.channels : layer.inShape[0]! * s.units;
      const forwardEffective = s.type === 'conv' ? tf.sum(convForward(nz(input), w)) : tf.sum(tf.matMul(nz(input) as tf.Tensor2D, w as tf.Tensor2D));
      const feedbackEffective = !fb ? tf.scalar(0) : s.type === 'conv' ? tf.sum(convFeedback(nz(fb), w, layer.inShape)) : tf.sum(linearFeedback(nz(fb), w));
      out[name] = {
        macs: tf.scalar(ways * batch * dense),
        effective_macs: tf.add(forwardEffective, feedbackEffective) as tf.Scalar,
        events: (fb ? tf.add(countNonzero(input), countNonzero(fb)) : countNonzero(input)) as tf.Scalar,
        neuron_updates: tf.scalar(batch * (size(layer.outShape) + (fb ? size(layer.inShape) : 0))),
      };
    } else if (s.type === 'norm' || s.type === 'adarelu' || s.type === 'adapool') {
      const batch = Object.values(activity)[0]!.shape[0]!;
      out[name] = { neuron_updates: tf.scalar(ways * batch * size(layer.outShape)) };
    }
  }
  return out;
}
