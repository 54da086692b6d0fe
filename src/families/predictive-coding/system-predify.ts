/**
 * Predify: predictive-coding dynamics on a frozen feedforward backbone (Choksi et al. 2021, "Predify:
 * augmenting deep neural networks with brain-inspired predictive coding dynamics", NeurIPS; the equations of
 * miladmozafari/predify `PCoder`, restated in reference/peers.md §2a and new-families.md §2a). The default
 * backbone is the shallow network of Alamia et al. ("On the role of feedback in visual processing: a
 * predictive coding perspective", artipago/Role_of_Feedback_in_Predictive_Coding): three 5×5 convolutions
 * with ReLU and 2×2 max-pool, then two fully connected layers; here sized for 28×28 grey images.
 *
 * Backbone blocks ff_n = B_n(e_{n−1}) = maxpool(relu(conv(e_{n−1}, W_n) + b_n)), e_0 = x, n = 1…N; the
 * classifier head reads e_N. PCoder n has a decoder D_n predicting the layer below from e_n:
 * D_n(e) = g_n(convT(e, K_n, stride 2) + c_n), g_1 = identity (it predicts the image), g_n = ReLU above.
 *
 * State: the representations e_n, the predictions d_n = D_n(e_n) and the error gradients
 * ∇_n = ∇_{e_n} ε_{n−1}, ε_{n−1} = mean over the example's elements of (D_n(e_n) − e_{n−1})². Step t = 0
 * (`initState`) is the feedforward pass (or a given random state). A step t ≥ 1 goes bottom-up, n = 1…N:
 *
 *   e_n(t) = β_n B_n(e_{n−1}(t)) + λ_n d_{n+1}(t−1) + (1 − β_n − λ_n) e_n(t−1) − α_n s_n ∇_n(t−1)
 *
 * (the top layer has no λ term); layer n sees the *new* layer below and the *old* prediction from above.
 * Then d_n(t) = D_n(e_n(t)) and ∇_n(t) = (2/M_{n−1}) J_{D_n}ᵀ (d_n(t) − e_{n−1}(t)), with the target the
 * already updated layer below, as Predify's hooks compute it after each update. J_{D}ᵀ is written out
 * (a strided convolution with the decoder's kernel, gated by g'), so the step stays differentiable for
 * attacks through the loop. s_n = 1, or with `gradientScaling` the PCoderN-style factor of Alamia et al.,
 * s_n = round(√(M_{n−1}² / (k² C_{n−1}))) (M: elements per example of the layer below; k: decoder kernel;
 * C: its channels), which undoes the mean in ε.
 *
 * Predify's default (β, λ, α) in its robustness scripts is (0.8, 0.1, 0.01) in every layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { uniformArray, type Rng } from '../../base/rng.js';
import type { DiscreteSystem, StepCounts } from '../../core/system.js';
import { countNonzero } from '../../core/count-nonzero.js';

export interface PredifyOptions {
  /** Side of the square input image (28). */
  readonly imageSize: number;
  readonly inputChannels?: number;
  /** Channels of the conv blocks (one PCoder each). */
  readonly channels?: readonly number[];
  /** Backbone kernel width (5). */
  readonly kernelSize?: number;
  /** Hidden width of the fully connected head (120), then the classes. */
  readonly hidden?: number;
  readonly classes?: number;
  /** Per-layer or shared feedforward, feedback and error weights. */
  readonly beta?: number | readonly number[];
  readonly lambda?: number | readonly number[];
  readonly alpha?: number | readonly number[];
  readonly gradientScaling?: boolean;
}

/** e_n, d_n, ∇_n for n = 1…N (index n − 1). */
export type PredifyState = { readonly reps: readonly tf.Tensor4D[]; readonly preds: readonly tf.Tensor4D[]; readonly grads: readonly tf.Tensor4D[] };
export type PredifyParams = Readonly<Record<string, tf.Tensor>>;
/** `initial`: a given e_n(0) for every layer (random initialisation); otherwise the feedforward pass. */
export type PredifyInput = { readonly x: tf.Tensor4D; readonly initial?: readonly tf.Tensor4D[] };

export interface PredifySystem extends DiscreteSystem<PredifyState, PredifyParams, PredifyInput> {
  readonly options: Readonly<Required<Omit<PredifyOptions, 'beta' | 'lambda' | 'alpha'>>> & { readonly beta: readonly number[]; readonly lambda: readonly number[]; readonly alpha: readonly number[] };
  readonly layout: 'nhwc';
  readonly classes: number;
  /** [height, width, channels] of e_0 = x, e_1, …, e_N. */
  readonly shapes: readonly (readonly [number, number, number])[];
  readonly backboneNames: readonly string[];
  readonly decoderNames: readonly string[];
  /** B_n(below). */
  block(n: number, below: tf.Tensor4D, params: PredifyParams): tf.Tensor4D;
  /** D_n(e). */
  decode(n: number, e: tf.Tensor4D, params: PredifyParams): tf.Tensor4D;
  /** The linear part of D_n: its stride-2 transposed convolution, without bias or ReLU (for the hardware network). */
  decodeLinear(n: number, e: tf.Tensor4D, params: PredifyParams): tf.Tensor4D;
  /** ε_{n−1} per example: mean squared error of D_n(e_n) against `below`. */
  reconstructionError(n: number, e: tf.Tensor4D, below: tf.Tensor4D, params: PredifyParams): tf.Tensor1D;
  /** Class scores of the head on e_N. */
  head(top: tf.Tensor4D, params: PredifyParams): tf.Tensor2D;
  /** e_1…e_N of the feedforward pass. */
  feedforward(x: tf.Tensor4D, params: PredifyParams): tf.Tensor4D[];
  /** The scaling s_n of layer n's error term. */
  readonly errorScale: readonly number[];
  initBackbone(rng: Rng): PredifyParams;
  initDecoders(rng: Rng): PredifyParams;
}

const perLayer = (value: number | readonly number[], n: number, name: string): number[] => {
  const list = typeof value === 'number' ? Array.from({ length: n }, () => value) : [...value];
  if (list.length !== n) throw new SpecError(`system.${name}`, `gives ${list.length} values for ${n} PCoders; give one number (shared) or one per layer`);
  return list;
};

export function predify(options: PredifyOptions): PredifySystem {
  const channels = [...(options.channels ?? [16, 32, 64])];
  const N = channels.length;
  const o = Object.freeze({
    imageSize: options.imageSize,
    inputChannels: options.inputChannels ?? 1,
    channels: Object.freeze(channels),
    kernelSize: options.kernelSize ?? 5,
    hidden: options.hidden ?? 120,
    classes: options.classes ?? 10,
    gradientScaling: options.gradientScaling ?? false,
    beta: Object.freeze(perLayer(options.beta ?? 0.8, N, 'beta')),
    lambda: Object.freeze(perLayer(options.lambda ?? 0.1, N, 'lambda')),
    alpha: Object.freeze(perLayer(options.alpha ?? 0.01, N, 'alpha')),
  });
  if (N < 1) throw new SpecError('system.channels', 'needs at least one conv block');
  o.beta.forEach((b, i) => {
    const l = i === N - 1 ? 0 : o.lambda[i]!;
    if (!(b >= 0 && l >= 0 && b + l <= 1)) throw new SpecError(`system.beta[${i}]`, `β = ${b} and λ = ${l} must be non-negative with β + λ ≤ 1 (the memory weight 1 − β − λ)`);
  });
  const shapes: [number, number, number][] = [[o.imageSize, o.imageSize, o.inputChannels]];
  for (let n = 1; n <= N; n++) {
    const side = Math.floor(shapes[n - 1]![0] / 2);
    if (side < 1) throw new SpecError('system.channels', `${N} pooled blocks shrink a ${o.imageSize}-pixel image below one pixel; use fewer`);
    shapes.push([side, side, channels[n - 1]!]);
  }
  // Decoder n maps e_n (side s) onto the layer below (side S) by a stride-2 transposed convolution: 'same'
  // with the backbone's kernel when S = 2s, else 'valid' with the kernel k = S − 2(s − 1) that lands on S.
  const decoder = shapes.slice(1).map((shape, i) => {
    const below = shapes[i]!;
    const same = below[0] === 2 * shape[0];
    return { pad: same ? ('same' as const) : ('valid' as const), k: same ? o.kernelSize : below[0] - 2 * (shape[0] - 1) };
  });
  const errorScale = shapes.slice(0, N).map((below, i) => {
    if (!o.gradientScaling) return 1;
    const m = below[0] * below[1] * below[2];
    return Math.round(Math.sqrt((m * m) / (decoder[i]!.k ** 2 * below[2])));
  });
  const backboneNames = [...Array.from({ length: N }, (_, i) => [`conv${i + 1}.w`, `conv${i + 1}.b`]).flat(), 'fc1.w', 'fc1.b', 'fc2.w', 'fc2.b'];
  const decoderNames = Array.from({ length: N }, (_, i) => [`dec${i + 1}.w`, `dec${i + 1}.b`]).flat();

  const block = (n: number, below: tf.Tensor4D, p: PredifyParams): tf.Tensor4D =>
    tf.maxPool(tf.relu(tf.add(tf.conv2d(below, p[`conv${n}.w`] as tf.Tensor4D, 1, 'same'), p[`conv${n}.b`]!)) as tf.Tensor4D, 2, 2, 'valid') as tf.Tensor4D;
  const decodeLinear = (n: number, e: tf.Tensor4D, p: PredifyParams): tf.Tensor4D => {
    const [h, w, c] = shapes[n - 1]!;
    return tf.conv2dTranspose(e, p[`dec${n}.w`] as tf.Tensor4D, [e.shape[0], h, w, c], 2, decoder[n - 1]!.pad);
  };
  const preDecode = (n: number, e: tf.Tensor4D, p: PredifyParams): tf.Tensor4D => tf.add(decodeLinear(n, e, p), p[`dec${n}.b`]!) as tf.Tensor4D;
  const decode = (n: number, e: tf.Tensor4D, p: PredifyParams): tf.Tensor4D => (n === 1 ? preDecode(n, e, p) : tf.relu(preDecode(n, e, p)));
  const perExampleMean = (t: tf.Tensor) => tf.mean(t, [1, 2, 3]) as tf.Tensor1D;
  const reconstructionError = (n: number, e: tf.Tensor4D, below: tf.Tensor4D, p: PredifyParams) => perExampleMean(tf.square(tf.sub(decode(n, e, p), below)));
  /** ∇_{e_n} ε_{n−1} = (2/M) J_{D_n}ᵀ (D_n(e_n) − below): the adjoint of a transposed convolution is the convolution. */
  const errorGradient = (n: number, e: tf.Tensor4D, below: tf.Tensor4D, p: PredifyParams): { pred: tf.Tensor4D; grad: tf.Tensor4D } => {
    const pre = preDecode(n, e, p);
    const pred = n === 1 ? pre : (tf.relu(pre) as tf.Tensor4D);
    let residual = tf.sub(pred, below) as tf.Tensor4D;
    // tf.step, not a comparison: it has a (zero) gradient, so attacks can differentiate through the step.
    if (n !== 1) residual = tf.mul(residual, tf.step(pre)) as tf.Tensor4D;
    const [h, w, c] = shapes[n - 1]!;
    const back = tf.conv2d(residual as tf.Tensor4D, p[`dec${n}.w`] as tf.Tensor4D, 2, decoder[n - 1]!.pad) as tf.Tensor4D;
    return { pred, grad: tf.mul(back, 2 / (h * w * c)) as tf.Tensor4D };
  };
  const head = (top: tf.Tensor4D, p: PredifyParams): tf.Tensor2D => {
    const flat = tf.reshape(top, [top.shape[0], -1]);
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(flat, p['fc1.w'] as tf.Tensor2D), p['fc1.b']!)), p['fc2.w'] as tf.Tensor2D), p['fc2.b']!) as tf.Tensor2D;
  };
  const feedforward = (x: tf.Tensor4D, p: PredifyParams): tf.Tensor4D[] => {
    const reps: tf.Tensor4D[] = [];
    for (let n = 1; n <= N; n++) reps.push(block(n, n === 1 ? x : reps[n - 2]!, p));
    return reps;
  };
  /** Predictions and error gradients of a full set of representations. */
  const complete = (x: tf.Tensor4D, reps: readonly tf.Tensor4D[], p: PredifyParams): PredifyState => {
    const parts = reps.map((e, i) => errorGradient(i + 1, e, i === 0 ? x : reps[i - 1]!, p));
    return { reps, preds: parts.map((q) => q.pred), grads: parts.map((q) => q.grad) };
  };

  const uniform = (rng: Rng, shape: number[], bound: number) => tf.tensor(uniformArray(rng, shape.reduce((a, b) => a * b, 1), -bound, bound), shape);

  return Object.freeze({
    kind: 'predify',
    time: 'discrete' as const,
    options: o,
    layout: 'nhwc' as const,
    classes: o.classes,
    shapes,
    backboneNames,
    decoderNames,
    block,
    decode,
    decodeLinear,
    reconstructionError,
    head,
    feedforward,
    errorScale,
    initState(input: PredifyInput, params: PredifyParams): PredifyState {
      return complete(input.x, input.initial ? input.initial.map((t) => t.clone()) : feedforward(input.x, params), params);
    },
    step(state: PredifyState, input: PredifyInput, params: PredifyParams): PredifyState {
      const reps: tf.Tensor4D[] = [];
      const preds: tf.Tensor4D[] = [];
      const grads: tf.Tensor4D[] = [];
      for (let n = 1; n <= N; n++) {
        const i = n - 1;
        const below = n === 1 ? input.x : reps[i - 1]!;
        const beta = o.beta[i]!;
        const lambda = n === N ? 0 : o.lambda[i]!;
        let e: tf.Tensor = tf.add(tf.mul(block(n, below, params), beta), tf.mul(state.reps[i]!, 1 - beta - lambda));
        if (lambda > 0) e = tf.add(e, tf.mul(state.preds[i + 1]!, lambda));
        e = tf.sub(e, tf.mul(state.grads[i]!, o.alpha[i]! * errorScale[i]!));
        const rep = e as tf.Tensor4D;
        const { pred, grad } = errorGradient(n, rep, below, params);
        reps.push(rep);
        preds.push(pred);
        grads.push(grad);
      }
      return { reps, preds, grads };
    },
    readout(state: PredifyState, _input: PredifyInput, params: PredifyParams): tf.Tensor {
      return head(state.reps[N - 1]!, params);
    },
    derived: {
      /** Σ_n ε_{n−1}, per example: how well the feedback explains each layer below. */
      reconstruction_error(state: PredifyState, input: PredifyInput): tf.Tensor {
        const terms = state.preds.map((d, i) => perExampleMean(tf.square(tf.sub(d, i === 0 ? input.x : state.reps[i - 1]!))));
        return terms.length === 1 ? terms[0]! : tf.addN(terms);
      },
    },
    counts(_previous: PredifyState, next: PredifyState, input: PredifyInput): StepCounts {
      // Per PCoder and step: the backbone block (k²·C_in MACs per output unit before pooling), the decoder
      // (its kernel over the layer below) and its adjoint for ∇ (the same again). Event-driven (effective)
      // MACs: each nonzero unit of the updated layer below sends k²·C_n (the block), each nonzero e_n sends
      // k_d²·C_{n−1} (the decoder), and the residual the adjoint reads is dense (counted in full); padding
      // makes these upper bounds at the borders.
      const batch = input.x.shape[0];
      const out: Record<string, Record<string, tf.Scalar>> = {};
      for (let n = 1; n <= N; n++) {
        const [h, w, cin] = shapes[n - 1]!;
        const cout = shapes[n]![2];
        const ff = batch * h * w * cout * o.kernelSize ** 2 * cin;
        const fb = batch * shapes[n]![0] * shapes[n]![1] * cout * decoder[n - 1]!.k ** 2 * cin;
        const events = countNonzero(next.reps[n - 1]!);
        const below = countNonzero(n === 1 ? input.x : next.reps[n - 2]!);
        const effective = tf.add(tf.add(tf.mul(below, o.kernelSize ** 2 * cout), tf.mul(events, decoder[n - 1]!.k ** 2 * cin)), fb) as tf.Scalar;
        out[`pcoder${n}`] = { macs: tf.scalar(ff + 2 * fb), effective_macs: effective, events, neuron_updates: tf.scalar(batch * shapes[n]![0] * shapes[n]![1] * cout) };
      }
      return out;
    },
    initBackbone(rng: Rng): PredifyParams {
      // PyTorch's defaults: U(±1/√fan_in) for weights and biases of Conv2d and Linear.
      const p: Record<string, tf.Tensor> = {};
      const k = o.kernelSize;
      for (let n = 1; n <= N; n++) {
        const cin = shapes[n - 1]![2];
        const bound = 1 / Math.sqrt(k * k * cin);
        p[`conv${n}.w`] = uniform(rng.split(`conv${n}.w`), [k, k, cin, channels[n - 1]!], bound);
        p[`conv${n}.b`] = uniform(rng.split(`conv${n}.b`), [channels[n - 1]!], bound);
      }
      const [h, w, c] = shapes[N]!;
      const flat = h * w * c;
      p['fc1.w'] = uniform(rng.split('fc1.w'), [flat, o.hidden], 1 / Math.sqrt(flat));
      p['fc1.b'] = uniform(rng.split('fc1.b'), [o.hidden], 1 / Math.sqrt(flat));
      p['fc2.w'] = uniform(rng.split('fc2.w'), [o.hidden, o.classes], 1 / Math.sqrt(o.hidden));
      p['fc2.b'] = uniform(rng.split('fc2.b'), [o.classes], 1 / Math.sqrt(o.hidden));
      return p;
    },
    initDecoders(rng: Rng): PredifyParams {
      const p: Record<string, tf.Tensor> = {};
      for (let n = 1; n <= N; n++) {
        const k = decoder[n - 1]!.k;
        const below = shapes[n - 1]![2];
        const bound = 1 / Math.sqrt(k * k * channels[n - 1]!);
        // conv2dTranspose filters are [k, k, outChannels (the layer below), inChannels (e_n)].
        p[`dec${n}.w`] = uniform(rng.split(`dec${n}.w`), [k, k, below, channels[n - 1]!], bound);
        p[`dec${n}.b`] = uniform(rng.split(`dec${n}.b`), [below], bound);
      }
      return p;
    },
  } satisfies PredifySystem);
}
