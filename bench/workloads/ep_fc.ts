/**
 * ep_fc: one synchronous EP relaxation step of a 784-500-10 layered Hopfield net, ρ = clip(·,0,1):
 * h ← ρ(x W1 + y W2ᵀ + b1); y ← ρ(h W2 + b2). Batch 64.
 *
 * The step is the `equilibrium-prop` system's own `step` (src/systems/equilibrium-prop.ts, primitive map,
 * hard-sigmoid, MSE output), with the input given as x alone so that x W1 is recomputed every step as the
 * workload defines it (training caches it: `prepare`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { equilibriumProp } from '../../src/families/equilibrium-prop/system.js';
import type { Workload } from '../types.js';
import { makeEpFcNet } from './ep_shared.js';
import { systemStepper } from './system-stepper.js';

export const epFc: Workload = {
  id: 'ep_fc',
  steps: 100,
  flopsPerStep: 2 * 64 * (784 * 500 + 2 * 500 * 10),
  setup(rng) {
    const net = makeEpFcNet(rng);
    const system = equilibriumProp({ sizes: [784, 500, 10], activation: 'hard-sigmoid', output: 'mse', dynamics: 'primitive-map' });
    const params = { W1: net.W1, b1: net.b1, W2: net.W2, b2: net.b2 };
    const input = { x: net.x };
    // W2ᵀ is part of the shared net but not of the system's params.
    return systemStepper(system, input, params, { output: (state) => state.layers[1]!, owned: Object.values(net) });
  },
};
