/**
 * Convolutional layered energy network for equilibrium propagation: the MNIST P_CNN of Ernoult et al. 2019
 * (Table 1, "P-conv") and Laborieux et al. 2021 (model_utils.py `P_CNN`): 5×5 valid convolutions with 32
 * and 64 channels, each followed by a 2×2 max-pool, then a fully connected layer to the classes.
 *
 * With s_0 = x (NHWC), z_n = conv(s_{n-1}, W_n) + b_n and P = 2×2 max-pool, the primitive function is
 * (Laborieux: "for conv layers the term is s_n · Pool(Conv(s_{n-1}))")
 *
 *   Φ^β = Σ_{n ≤ L} s_n · P(z_n) + s_{L+1} · (flat(s_L) W_{L+1} + b_{L+1}) − β C
 *
 * and the synchronous dynamics is s_n ← ρ(∂Φ^β/∂s_n) (Jacobi), with
 *
 *   ∂Φ/∂s_n = P(z_n) + convᵀ(P'(z_{n+1}) ⊙ s_{n+1}, W_{n+1})     (n < L)
 *   ∂Φ/∂s_L = P(z_L) + unflatten(s_{L+1} W_{L+1}ᵀ)
 *   ∂Φ/∂s_{L+1} = flat(s_L) W_{L+1} + b_{L+1} + β (y − s_{L+1})
 *
 * where P'(z) ⊙ s routes each pooled unit's s to the position of its window's maximum (the gradient of the
 * max-pool) and convᵀ is the transposed convolution (the gradient of the convolution with respect to its
 * input). The first is tfjs's MaxPoolGrad kernel with its own gradient (`routeToMaxima`); the second
 * and the convolutions run in the form src/tensor/conv-forms.ts picks for the backend (direct on the native
 * kernels, the GEMM form on plain wasm, whose transposed convolution is a slow loop). All of it is
 * differentiable, so BPTT can run through this step too. With `output: 'softmax-ce'` the output layer leaves
 * the dynamics as in the fully connected network (equilibrium-prop.ts): the readout is
 * softmax(flat(s_L) W_{L+1} + b_{L+1}) and its cross-entropy nudges s_L.
 *
 * P(z_1) does not change during a relaxation: `prepare` precomputes it as `drive`.
 *
 * Counts per step, per free layer n: `macs` = the dense MACs of the convolution (or fc product) into it
 * from below and of the transposed product from above; `effective_macs` = the nonzero units the step read
 * below and above, each times its fan-out into layer n (k²·C_n through a convolution, an upper bound at the
 * border; the width through the fc weights), the graded synaptic operations an event-driven chip does;
 * `events` = nonzero units of the new state; `neuron_updates` = its size.
 */
import * as tf from '@tensorflow/tfjs-core';
import { countNonzero } from '../../core/count-nonzero.js';
import { SpecError } from '../../base/errors.js';
import { uniformArray, type Rng } from '../../base/rng.js';
import type { StepCounts } from '../../core/system.js';
import { convolve, convolveTransposed } from '../../tensor/conv-forms.js';
import { activation, type ActivationName } from './system-activations.js';
import { straightThrough, type SurrogateGradient } from './system-straight-through.js';
import type { EpInit, EpOutput, EpParams, EquilibriumNetwork } from './system.js';

export interface EquilibriumPropConvOptions {
  /** Input height = width (28 for MNIST) and channels. */
  readonly inputSize: number;
  readonly inputChannels?: number;
  /** Channels of the convolutional layers, e.g. [32, 64]. */
  readonly channels?: readonly number[];
  readonly kernelSize?: number;
  readonly classes?: number;
  readonly activation?: ActivationName;
  readonly output?: EpOutput;
  readonly init?: EpInit;
  /** How gradients pass the clip of ρ: exactly, or straight through (BPDA for attacks, a surrogate for BPTT; forward unchanged). */
  readonly surrogateGradient?: SurrogateGradient;
}

export type EpConvState = { readonly layers: readonly tf.Tensor[] };
export type EpConvInput = {
  readonly x: tf.Tensor4D;
  /** P(conv(x, W_1) + b_1), if precomputed. */
  readonly drive?: tf.Tensor4D;
  readonly target?: tf.Tensor2D;
  readonly beta?: tf.Scalar;
};

export interface EquilibriumPropConvSystem extends EquilibriumNetwork<EpConvState, EpConvInput> {
  readonly options: Required<EquilibriumPropConvOptions>;
  /** Spatial size of each convolutional layer's state (after pooling). */
  readonly spatial: readonly number[];
}

const POOL = 2;

const maxPoolGradient = (dy: tf.Tensor, input: tf.Tensor, output: tf.Tensor) =>
  tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: POOL, strides: POOL, pad: 'valid' }) as tf.Tensor;

/**
 * ∂/∂z [s · P(z)] for the 2×2 max-pool P: each pooled unit's s goes to the first maximum of its window in
 * row-major order, the position tfjs's (and PyTorch's) max-pool gradient picks, so the step stays ∂Φ/∂s
 * even where a window is flat (saturated units make whole windows equal). It is the MaxPoolGrad kernel
 * with s as the incoming gradient; its own gradient (for BPTT through the step) is linear in s: gather
 * the incoming values at those positions, 4·avgPool(dy ⊙ mask), and zero with respect to z, on which the
 * routing depends only piecewise-constantly. (A nearest-neighbour upsampling would do the routing too,
 * but tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad is wrong for more than one channel or example.)
 */
const routeToMaxima = tf.customGrad(((s: tf.Tensor, z: tf.Tensor, pooled: tf.Tensor, save: tf.GradSaveFunc) => {
  save([z, pooled]);
  return {
    value: maxPoolGradient(s, z, pooled),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [zSaved, pooledSaved] = saved as [tf.Tensor, tf.Tensor];
      const mask = maxPoolGradient(tf.onesLike(pooledSaved), zSaved, pooledSaved);
      return [tf.mul(tf.avgPool(tf.mul(dy, mask) as tf.Tensor4D, POOL, POOL, 'valid'), POOL * POOL), tf.zerosLike(zSaved), tf.zerosLike(pooledSaved)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (s: tf.Tensor, z: tf.Tensor, pooled: tf.Tensor) => tf.Tensor;

export function equilibriumPropConv(options: EquilibriumPropConvOptions): EquilibriumPropConvSystem {
  const o: Required<EquilibriumPropConvOptions> = Object.freeze({
    inputChannels: 1,
    channels: Object.freeze([32, 64]),
    kernelSize: 5,
    classes: 10,
    activation: 'hard-sigmoid' as ActivationName,
    output: 'mse' as EpOutput,
    init: 'torch-default' as EpInit,
    surrogateGradient: 'exact' as SurrogateGradient,
    ...options,
  });
  if (!(o.channels.length >= 1 && o.channels.every((c) => Number.isInteger(c) && c > 0))) {
    throw new SpecError('channels', `must list at least one positive integer channel count, got ${JSON.stringify(o.channels)}`);
  }
  const spatial: number[] = [];
  let size = o.inputSize;
  for (let n = 0; n < o.channels.length; n++) {
    const convolved = size - o.kernelSize + 1;
    if (!(convolved >= POOL && convolved % POOL === 0)) {
      throw new SpecError('channels', `layer ${n + 1}: a ${size}×${size} map convolved by a ${o.kernelSize}×${o.kernelSize} kernel is ${convolved}×${convolved}, which a 2×2 pool cannot tile; use fewer layers or another kernelSize`);
    }
    size = convolved / POOL;
    spatial.push(size);
  }
  if (o.surrogateGradient === 'straight-through-output') throw new SpecError('surrogateGradient', "the convolutional network has 'exact' or 'straight-through' clips");
  const rho = o.surrogateGradient === 'straight-through' ? straightThrough(activation(o.activation)) : activation(o.activation);
  const L = o.channels.length;
  const flat = spatial[L - 1]! * spatial[L - 1]! * o.channels[L - 1]!;
  const free = o.output === 'mse' ? L + 1 : L;
  const paramNames = Object.freeze(Array.from({ length: L + 1 }, (_, i) => [`W${i + 1}`, `b${i + 1}`]).flat());
  const W = (p: EpParams, n: number) => p[`W${n}`]!;
  const b = (p: EpParams, n: number) => p[`b${n}`]!;
  const nudging = (input: EpConvInput) => input.beta !== undefined && input.target !== undefined;

  const inChannels = (n: number) => (n === 1 ? o.inputChannels : o.channels[n - 2]!);
  const valid = { stride: 1, pad: 0 };
  /** conv(below, W_n) + b_n, in the backend's fastest form (src/tensor/conv-forms.ts). */
  const preactivation = (below: tf.Tensor, p: EpParams, n: number) => tf.add(convolve(below, W(p, n), valid), b(p, n));
  /** convᵀ(dz, W_n), the gradient of conv(·, W_n) with respect to its input. */
  const transposedConvolution = (dz: tf.Tensor, p: EpParams, n: number, like: tf.Tensor) => convolveTransposed(dz, W(p, n), like.shape, valid);
  const pool = (z: tf.Tensor) => tf.maxPool(z as tf.Tensor4D, POOL, POOL, 'valid');
  const poolGradient = (z: tf.Tensor, pooled: tf.Tensor, s: tf.Tensor) => routeToMaxima(s, z, pooled);
  const drive = (x: tf.Tensor, p: EpParams) => pool(preactivation(x, p, 1));
  const logitsOf = (s: readonly tf.Tensor[], p: EpParams) => tf.add(tf.matMul(tf.reshape(s[L - 1]!, [-1, flat]), W(p, L + 1) as tf.Tensor2D), b(p, L + 1));

  function forces(s: readonly tf.Tensor[], input: EpConvInput, p: EpParams): tf.Tensor[] {
    const batch = input.x.shape[0];
    // z_n and P(z_n) for n = 2..L, from the current state.
    const z: tf.Tensor[] = [];
    const pooled: tf.Tensor[] = [input.drive ?? drive(input.x, p)];
    for (let n = 2; n <= L; n++) {
      z[n] = preactivation(s[n - 2]!, p, n);
      pooled.push(pool(z[n]!));
    }
    const out: tf.Tensor[] = [];
    for (let n = 1; n <= L; n++) {
      let f = pooled[n - 1]!;
      if (n < L) {
        const dz = poolGradient(z[n + 1]!, pooled[n]!, s[n]!);
        f = tf.add(f, transposedConvolution(dz, p, n + 1, s[n - 1]!));
      } else {
        let top: tf.Tensor | undefined;
        if (o.output === 'mse') top = tf.matMul(s[L]! as tf.Tensor2D, W(p, L + 1) as tf.Tensor2D, false, true);
        else if (nudging(input)) top = tf.mul(tf.matMul(tf.sub(input.target!, tf.softmax(logitsOf(s, p))), W(p, L + 1) as tf.Tensor2D, false, true), input.beta!);
        if (top) f = tf.add(f, tf.reshape(top, [batch, spatial[L - 1]!, spatial[L - 1]!, o.channels[L - 1]!]));
      }
      out.push(f);
    }
    if (o.output === 'mse') {
      let f: tf.Tensor = tf.add(tf.matMul(tf.reshape(s[L - 1]!, [batch, flat]), W(p, L + 1) as tf.Tensor2D), b(p, L + 1));
      if (nudging(input)) f = tf.add(f, tf.mul(tf.sub(input.target!, s[L]!), input.beta!));
      out.push(f);
    }
    return out;
  }

  function cost(state: EpConvState, input: EpConvInput, p: EpParams): tf.Tensor1D {
    if (!input.target) throw new SpecError('input.target', 'the output cost needs one-hot targets in the input');
    if (o.output === 'mse') return tf.mul(tf.sum(tf.square(tf.sub(state.layers[L]!, input.target)), 1), 0.5) as tf.Tensor1D;
    return tf.neg(tf.sum(tf.mul(input.target, tf.logSoftmax(logitsOf(state.layers, p))), 1)) as tf.Tensor1D;
  }

  function primitive(state: EpConvState, input: EpConvInput, p: EpParams): tf.Tensor1D {
    const s = state.layers;
    const batch = input.x.shape[0];
    const terms: tf.Tensor[] = [];
    for (let n = 1; n <= L; n++) {
      const below = n === 1 ? (input.drive ?? drive(input.x, p)) : pool(preactivation(s[n - 2]!, p, n));
      terms.push(tf.sum(tf.reshape(tf.mul(s[n - 1]!, below), [batch, -1]), 1));
    }
    if (o.output === 'mse') terms.push(tf.sum(tf.mul(s[L]!, tf.add(tf.matMul(tf.reshape(s[L - 1]!, [batch, flat]), W(p, L + 1) as tf.Tensor2D), b(p, L + 1))), 1));
    const phi = tf.addN(terms);
    return (nudging(input) ? tf.sub(phi, tf.mul(cost(state, input, p), input.beta!)) : phi) as tf.Tensor1D;
  }

  return Object.freeze({
    kind: 'equilibrium-prop-conv',
    time: 'discrete',
    options: o,
    spatial: Object.freeze(spatial),
    paramNames,
    classes: o.classes,
    layout: 'nhwc',
    prepare: (input: EpConvInput, p: EpParams): EpConvInput => ({ ...input, drive: drive(input.x, p) as tf.Tensor4D }),
    initState(input: EpConvInput): EpConvState {
      const batch = input.x.shape[0];
      const layers: tf.Tensor[] = o.channels.map((c, i) => tf.zeros([batch, spatial[i]!, spatial[i]!, c]));
      if (o.output === 'mse') layers.push(tf.zeros([batch, o.classes]));
      return { layers };
    },
    step(state: EpConvState, input: EpConvInput, p: EpParams): EpConvState {
      return { layers: forces(state.layers, input, p).map((f) => rho.apply(f)) };
    },
    energy(state: EpConvState, input: EpConvInput, p: EpParams): tf.Tensor1D {
      const batch = input.x.shape[0];
      const half = tf.mul(tf.addN(state.layers.map((s) => tf.sum(tf.reshape(tf.square(s), [batch, -1]), 1))), 0.5);
      return tf.sub(half, primitive(state, input, p)) as tf.Tensor1D;
    },
    readout: (state: EpConvState, _input: EpConvInput, p: EpParams) => (o.output === 'mse' ? state.layers[L]! : logitsOf(state.layers, p)),
    primitive,
    cost,
    counts(previous: EpConvState, next: EpConvState, input: EpConvInput): StepCounts {
      const batch = input.x.shape[0];
      const convMacs = (n: number) => batch * (spatial[n - 1]! * POOL) ** 2 * o.channels[n - 1]! * o.kernelSize ** 2 * inChannels(n);
      const fcMacs = batch * flat * o.classes;
      const out: Record<string, Record<string, tf.Scalar>> = {};
      const counted = new Map<tf.Tensor, tf.Scalar>();
      const active = (t: tf.Tensor) => counted.get(t) ?? counted.set(t, countNonzero(t)).get(t)!;
      for (let i = 0; i < free; i++) {
        const n = i + 1;
        // Into layer n: its own convolution (or the fc product) from below, and the transposed product from above.
        const below = n <= L ? convMacs(n) : fcMacs;
        const above = n < L ? convMacs(n + 1) : n === L && o.output === 'mse' ? fcMacs : 0;
        // Effective MACs: each nonzero unit the step read, times its nonzero fan-out into layer n (k²·C_n
        // through a convolution, an upper bound at the border; the layer's width through the fc weights).
        const source = n === 1 ? input.x : previous.layers[n - 2]!;
        const fromBelow = tf.mul(active(source), n <= L ? o.kernelSize ** 2 * o.channels[n - 1]! : o.classes);
        const fromAbove = n < L ? tf.mul(active(previous.layers[n]!), o.kernelSize ** 2 * o.channels[n - 1]!) : n === L && o.output === 'mse' ? tf.mul(active(previous.layers[L]!), flat) : undefined;
        out[`layer${n}`] = {
          macs: tf.scalar(below + above),
          effective_macs: (fromAbove ? tf.add(fromBelow, fromAbove) : fromBelow) as tf.Scalar,
          events: countNonzero(next.layers[i]!),
          neuron_updates: tf.scalar(next.layers[i]!.size),
        };
      }
      return out;
    },
    initParams(rng: Rng): EpParams {
      const params: Record<string, tf.Tensor> = {};
      const draw = (stream: Rng, shape: number[], bound: number) => tf.tensor(uniformArray(stream, shape.reduce((a, c) => a * c, 1), -bound, bound), shape, 'float32');
      for (let n = 1; n <= L + 1; n++) {
        const stream = rng.split(`layer-${n}`);
        const conv = n <= L;
        const fanIn = conv ? inChannels(n) * o.kernelSize ** 2 : flat;
        const fanOut = conv ? o.channels[n - 1]! * o.kernelSize ** 2 : o.classes;
        const shape = conv ? [o.kernelSize, o.kernelSize, inChannels(n), o.channels[n - 1]!] : [flat, o.classes];
        const width = conv ? o.channels[n - 1]! : o.classes;
        const bound = o.init === 'glorot-uniform' ? Math.sqrt(6 / (fanIn + fanOut)) : 1 / Math.sqrt(fanIn);
        params[`W${n}`] = draw(stream, shape, bound);
        params[`b${n}`] = o.init === 'glorot-uniform' ? tf.zeros([width]) : draw(stream, [width], 1 / Math.sqrt(fanIn));
      }
      return params;
    },
  } satisfies EquilibriumPropConvSystem);
}
