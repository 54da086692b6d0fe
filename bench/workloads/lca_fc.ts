/**
 * lca_fc: fully connected LCA, one step: a = relu(u - 0.05); u += (b - u - a G) / 100,
 * with the drive b = xΦ and G = ΦᵀΦ - I computed once. x 64×784, Φ 784×1568 (1568 atoms).
 *
 * Runs the system's own step (src/systems/lca.ts, 'gram' form, input normalisation off so that b = xΦ
 * exactly); b and G are made once by `system.prepare`, outside the timed steps, as the definition says.
 */
import * as tf from '@tensorflow/tfjs-core';
import { lca } from '../../src/families/lca/system.js';
import type { Workload } from '../types.js';
import { systemStepper } from './system-stepper.js';

export const lcaFc: Workload = {
  id: 'lca_fc',
  steps: 50,
  flopsPerStep: 2 * 64 * 1568 * 1568,
  setup(rng) {
    const system = lca({ inputSize: 784, features: 1568, lambda: 0.05, tau: 100, form: 'gram', normalizeInput: false });
    const x = rng.normal([64, 784]);
    const dictionary = rng.normal([784, 1568]);
    const params = { dictionary };
    const input = tf.tidy(() => system.prepare({ x }, params));
    // `prepare` returns the input with b and G added; x itself is freed with it.
    return systemStepper(system, input, params, { output: (state) => state.u, owned: [x] });
  },
};
