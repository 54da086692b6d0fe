/**
 * Classical fourth-order Runge-Kutta:
 *   k1 = f(t, s), k2 = f(t + dt/2, s + dt/2 k1), k3 = f(t + dt/2, s + dt/2 k2), k4 = f(t + dt, s + dt k3),
 *   s_{n+1} = s_n + dt/6 (k1 + 2 k2 + 2 k3 + k4).
 */
import * as tf from '@tensorflow/tfjs-core';
import { zipTree } from '../tree.js';
import { continuousOnly } from './continuous.js';
import type { Integrator } from './integrator.js';

export const rk4: Integrator = Object.freeze({
  name: 'rk4',
  accepts: 'continuous',
  order: 4,
  step(system, t, dt, state, input, params) {
    const sys = continuousOnly(system, 'rk4');
    const shifted = (d: typeof state, h: number) => zipTree(state, d, (s, x) => tf.add(s, tf.mul(x, h)));
    const k1 = sys.vectorField(t, state, input, params);
    const k2 = sys.vectorField(t + dt / 2, shifted(k1, dt / 2), input, params);
    const k3 = sys.vectorField(t + dt / 2, shifted(k2, dt / 2), input, params);
    const k4 = sys.vectorField(t + dt, shifted(k3, dt), input, params);
    const sum = zipTree(zipTree(k1, k4, (a, b) => tf.add(a, b)), zipTree(k2, k3, (a, b) => tf.add(a, b)), (a, b) => tf.add(a, tf.mul(b, 2)));
    return shifted(sum, dt / 6);
  },
} satisfies Integrator);
