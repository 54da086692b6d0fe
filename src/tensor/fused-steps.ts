/**
 * Steps of the families computed by one fused native kernel where the native kernels are active
 * (src/tensor/native/fused.ts), and by the equivalent tfjs ops elsewhere. The two forms are equal to float32
 * rounding (test/tensor/native-kernels.test.ts). Both are differentiable: the fused kernel has its own
 * (linear) gradient, so nothing changes inside tf.grad.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LEAKY_INTEGRATE } from './native/fused.js';
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
