/** Forward Euler, order 1: s_{n+1} = s_n + dt f(t_n, s_n). */
import * as tf from '@tensorflow/tfjs-core';
import { zipTree } from '../tree.js';
import { continuousOnly } from './continuous.js';
import type { Integrator } from './integrator.js';

export const euler: Integrator = Object.freeze({
  name: 'euler',
  accepts: 'continuous',
  order: 1,
  step(system, t, dt, state, input, params) {
    const f = continuousOnly(system, 'euler').vectorField(t, state, input, params);
    return zipTree(state, f, (s, d) => tf.add(s, tf.mul(d, dt)));
  },
} satisfies Integrator);
