/**
 * Hopfield: the continuous Hopfield network (Hopfield 1984), the framework's reference system. Patterns are
 * stored by a Hebbian or projection rule; recall relaxes a corrupted cue to the nearest stored attractor.
 */
import type { Family } from '../family.js';
import { hopfieldClassifierAdapter } from './classifier.js';
import { hopfieldHardware } from './hardware.js';
import { hopfieldNir } from './nir.js';
import { hopfieldEntry } from './options.js';
import { hopfieldRecall } from './recall-job.js';

export const hopfieldFamily: Family = {
  name: 'hopfield',
  description: 'continuous Hopfield network with tanh units and its Lyapunov energy (Hopfield 1984)',
  systems: [hopfieldEntry],
  jobs: [hopfieldRecall],
  classifiers: { hopfield: hopfieldClassifierAdapter },
  hardware: { hopfield: hopfieldHardware },
  nir: { hopfield: hopfieldNir },
  support: {
    hopfield: {
      simulate: 'yes',
      energy: 'yes',
      'train-local': 'yes',
      'train-bptt': 'no: patterns are stored in closed form (Hebbian or projection rule); there is no loss to backpropagate',
      attack: 'yes',
      corrupt: 'yes',
      hardware: 'yes',
      spiking: 'yes',
      nir: 'yes',
      traces: 'yes',
    },
  },
};
