/**
 * A damped rotation dx/dt = A x, A = [[-a, -w], [w, -a]], with the exact solution
 * x(t) = e^{-a t} R(w t) x(0): the analytic oracle for the integrators.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ContinuousSystem } from '../../src/core/system.js';

export const damping = 0.3;
export const frequency = 2;

export type LinearState = { readonly x: tf.Tensor2D };
export const linearSystem: ContinuousSystem<LinearState, Record<string, never>, Record<string, never>> = Object.freeze({
  kind: 'damped-rotation',
  time: 'continuous',
  initState: () => ({ x: tf.tensor2d([[1, 0.5]]) }),
  vectorField: (_t: number, s: LinearState) => {
    const a = tf.tensor2d([
      [-damping, frequency],
      [-frequency, -damping],
    ]);
    return { x: tf.matMul(s.x, a) as tf.Tensor2D };
  },
  decay: () => ({ x: damping }),
});

export function exactSolution(t: number): [number, number] {
  const [x0, y0] = [1, 0.5];
  const e = Math.exp(-damping * t);
  const c = Math.cos(frequency * t);
  const s = Math.sin(frequency * t);
  return [e * (c * x0 - s * y0), e * (s * x0 + c * y0)];
}
