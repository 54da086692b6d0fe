/**
 * Steps of the families computed by one fused native kernel where the native kernels are active
 * (src/tensor/native/fused.ts), and by the equivalent tfjs ops elsewhere. The two forms are equal to float32
 * rounding (test/tensor/native-kernels.test.ts). Both are differentiable: the fused kernel has its own
 * (linear) gradient, so nothing changes inside tf.grad.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EP_LAYER, LEAKY_INTEGRATE, SOFT_THRESHOLD } from './native/fused.js';
import { SGD_MOMENTUM } from './native/kernel-names.js';
import { nativeKernelsActive } from './native/register.js';

/**
 * u + (p + qScale · q − u) / τ for u, p, q of one shape: the leaky integration of an LCA step (error form
 * p = Φᵀe, q = a; Gram form p = b, q = aG, qScale = −1). Fused, it is one pass over memory
 * instead of four or five tfjs ops (for convolutional LCA on MNIST, 3.2 M values read and written per op).
 */
export function leakyIntegrate(u: tf.Tensor, p: tf.Tensor, q: tf.Tensor, tau: number, qScale: 1 | -1 = 1): tf.Tensor {
  const same = tf.util.arraysEqual(u.shape, p.shape) && tf.util.arraysEqual(u.shape, q.shape);
  const float = u.dtype === 'float32' && p.dtype === 'float32' && q.dtype === 'float32';
  if (nativeKernelsActive() && same && float) return tf.engine().runKernel(LEAKY_INTEGRATE, { u, p, q }, { rate: 1 / tau, qScale }) as tf.Tensor;
  const sum = qScale === 1 ? tf.add(p, q) : tf.sub(p, q);
  return tf.add(u, tf.div(tf.sub(sum, u), tau));
}

/** The terms of one fully connected layer's drive: addend + below · W + above · Vᵀ (+ extra). */
export interface LayerDrive {
  /** The layer below and the weights from it: [rows, m], [m, n]. */
  readonly below?: readonly [tf.Tensor, tf.Tensor];
  /** A bias [n] or a precomputed drive [rows, n]. */
  readonly addend: tf.Tensor;
  /** The layer above and its weights, used transposed: [rows, p], [n, p]. */
  readonly above?: readonly [tf.Tensor, tf.Tensor];
  /** One more [rows, n] term (a nudge), added last. */
  readonly extra?: tf.Tensor;
}

/**
 * clip(addend + below · W + above · Vᵀ + extra, lo, hi): one layer of an EP free step in the primitive-map
 * dynamics with a clipping activation (s_n ← ρ(s_{n−1} W_n + b_n + s_{n+1} W_{n+1}ᵀ)). Where the native kernels
 * are active it is one native call (both products by sgemm accumulated onto the addend, then the clip;
 * `extra` is folded into the addend first), with its own gradient (src/tensor/native/fused.ts); elsewhere the
 * tfjs ops below, in the order the EP system has always used. Equal to float32 rounding (tests).
 */
export function clippedLayer(drive: LayerDrive, lo: number, hi: number): tf.Tensor {
  const { below, above, extra } = drive;
  const operands = [drive.addend, ...(below ?? []), ...(above ?? []), ...(extra ? [extra] : [])];
  const fusable = operands.every((t) => t.dtype === 'float32') && (below ?? above) !== undefined &&
    [below?.[0], below?.[1], above?.[0], above?.[1], extra].every((t) => t === undefined || t.rank === 2) && drive.addend.rank <= 2;
  if (nativeKernelsActive() && fusable) {
    const rows = (below?.[0] ?? above![0]).shape[0]!;
    const n = drive.addend.shape[drive.addend.rank - 1]!;
    const addend = extra ? tf.add(drive.addend, extra) : drive.addend;
    const empty = (shape: number[]) => tf.zeros(shape);
    const inputs = {
      below: below?.[0] ?? empty([rows, 0]), W: below?.[1] ?? empty([0, n]), addend,
      above: above?.[0] ?? empty([rows, 0]), V: above?.[1] ?? empty([n, 0]),
    };
    const [out, pre] = tf.engine().runKernel(EP_LAYER, inputs, { lo, hi }) as unknown as tf.Tensor[];
    pre!.dispose();
    return out!;
  }
  let f = below ? tf.add(tf.matMul(below[0], below[1]), drive.addend) : drive.addend;
  if (above) f = tf.add(f, tf.matMul(above[0], above[1], false, true));
  if (extra) f = tf.add(f, extra);
  return tf.clipByValue(f, lo, hi);
}

/**
 * max(u − λ, 0): LCA's non-negative soft threshold, one native pass (and one for its gradient) where the
 * native kernels are active, else relu(u − λ).
 */
export function softThreshold(u: tf.Tensor, lambda: number): tf.Tensor {
  if (nativeKernelsActive() && u.dtype === 'float32') return tf.engine().runKernel(SOFT_THRESHOLD, { u }, { lambda }) as tf.Tensor;
  return tf.relu(tf.sub(u, lambda));
}

/** The settings of one SGD-with-momentum step. */
export interface SgdMomentumSettings {
  readonly lr: number;
  readonly momentum: number;
  /** Weight decay λ (0: none). */
  readonly decay: number;
}

/**
 * One SGD step with momentum, PyTorch's convention: g = direction (+ λ θ), v' = μ v + g, θ' = θ − lr · v';
 * returns [θ', v']. One native pass over the four arrays where the native kernels are active (for EP's
 * 784×500 weights, four tfjs ops each reading and writing 1.6 MB before), else those ops in this order.
 * Both round each product and sum to float32 in the same order: the two forms are equal bit for bit (tests).
 */
export function sgdMomentumStep(theta: tf.Tensor, velocity: tf.Tensor, direction: tf.Tensor, settings: SgdMomentumSettings): [tf.Tensor, tf.Tensor] {
  const { lr, momentum, decay } = settings;
  const same = tf.util.arraysEqual(theta.shape, velocity.shape) && tf.util.arraysEqual(theta.shape, direction.shape);
  const float = theta.dtype === 'float32' && velocity.dtype === 'float32' && direction.dtype === 'float32';
  if (nativeKernelsActive() && same && float) {
    const [next, v] = tf.engine().runKernel(SGD_MOMENTUM, { theta, velocity, direction }, { lr, momentum, decay }) as unknown as tf.Tensor[];
    return [next!, v!];
  }
  const g = decay !== 0 ? tf.add(direction, tf.mul(theta, decay)) : direction;
  const v = tf.add(tf.mul(velocity, momentum), g);
  return [tf.sub(theta, tf.mul(v, lr)), v];
}
