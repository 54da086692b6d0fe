/**
 * Exponential Euler for ds/dt = -λ s + N(s), exact for the linear part:
 *   s_{n+1} = e^{-λ dt} s_n + (1 - e^{-λ dt}) / λ · N(t_n, s_n),   N = f + λ s.
 * Order 1, but stable for any dt on the leak term, which is why neuron models (LIF, LCA's leaky
 * integrator) use it. The system declares λ per state variable through `decay(params)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { zipTree } from '../tree.js';
import { continuousOnly } from './continuous.js';
import type { Integrator } from './integrator.js';

export const exponentialEuler: Integrator = Object.freeze({
  name: 'exponential-euler',
  accepts: 'continuous',
  order: 1,
  step(system, t, dt, state, input, params) {
    const sys = continuousOnly(system, 'exponential-euler');
    if (!sys.decay) throw new SpecError('integrator', `'exponential-euler' needs the system to declare its decay rates; ${sys.kind} does not (use euler or rk4)`);
    const rates = sys.decay(params);
    const f = sys.vectorField(t, state, input, params);
    return zipTree(state, f, (s, d, path) => {
      const rate = rates[path];
      if (rate === undefined || !(rate > 0)) throw new SpecError('integrator', `${sys.kind} declares no positive decay rate for state '${path}'`);
      const a = Math.exp(-rate * dt);
      const nonlinear = tf.add(d, tf.mul(s, rate));
      return tf.add(tf.mul(s, a), tf.mul(nonlinear, (1 - a) / rate));
    });
  },
} satisfies Integrator);
