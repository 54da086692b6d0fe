/**
 * The Hopfield system as a spec names it: its options (zod, strict) and how it is built.
 */
import { z } from 'zod';
import { withSpecPath } from '../../base/errors.js';
import type { SystemEntry } from '../family.js';
import * as tf from '@tensorflow/tfjs-core';
import { randomUniform } from '../../base/rng.js';
import { hopfield, storePatterns } from './system.js';

export const hopfieldEntry: SystemEntry = {
  kind: 'hopfield',
  description: 'continuous Hopfield network (Hopfield 1984) with tanh units and its Lyapunov energy',
  options: z.strictObject({
    gain: z.number().positive().default(4).describe('slope of tanh at 0'),
    tau: z.number().positive().default(1).describe('time constant, in the unit of dt'),
    cueCurrent: z.number().min(0).default(0).describe('external current I = cueCurrent · cue held during the relaxation'),
  }),
  variables: () => ['u', 'energy', 'readout'],
  create: (options: { gain: number; tau: number; cueCurrent: number }, dims) => withSpecPath('system', () => hopfield({ ...options, size: dims.inputSize })),
  example: {
    options: { gain: 4, cueCurrent: 0.2 },
    inputSize: 16,
    make: (_system, batch, rng) => {
      const patterns = tf.sign(tf.sub(randomUniform(rng.split('patterns'), [3, 16]), 0.5)) as tf.Tensor2D;
      const params = storePatterns(patterns);
      const cue = tf.sign(tf.sub(randomUniform(rng.split('cue'), [batch, 16]), 0.5)) as tf.Tensor2D;
      patterns.dispose();
      return { params, input: { cue } };
    },
  },
};
