/**
 * LCA: lateral competition for sparse coding (Rozell et al. 2008; lcapt), fully connected and convolutional,
 * with the Hebbian dictionary rule and LCANets (Teti et al. 2022: an LCA front end with a head trained by
 * backprop).
 */
import type { Family } from '../family.js';
import { lcanetClassifierAdapters } from './classifier.js';
import { lcaDictionary } from './dictionary-job.js';
import { lcaHardware } from './hardware.js';
import { lcaConvHardware } from './hardware-conv.js';
import { lcanet } from './lcanet-job.js';
import { lcaConvNir, lcaNir } from './nir.js';
import { lcaConvEntry, lcaEntry } from './options.js';

export const lcaFamily: Family = {
  name: 'lca',
  description: 'locally competitive algorithm: sparse coding by lateral inhibition (Rozell 2008; lcapt; LCANets)',
  systems: [lcaEntry, lcaConvEntry],
  jobs: [lcaDictionary, lcanet],
  classifiers: lcanetClassifierAdapters,
  hardware: { lca: lcaHardware, 'lca-conv': lcaConvHardware },
  nir: { lca: lcaNir, 'lca-conv': lcaConvNir },
  support: {
    lca: {
      simulate: 'yes',
      energy: 'yes',
      'train-local': 'yes',
      'train-bptt': 'yes',
      attack: 'yes',
      corrupt: 'yes',
      hardware: 'yes',
      spiking: 'yes',
      nir: 'yes',
      traces: 'yes',
    },
    'lca-conv': {
      simulate: 'yes',
      energy: 'yes',
      'train-local': 'yes',
      'train-bptt': 'yes',
      attack: 'yes',
      corrupt: 'yes',
      hardware: 'yes',
      spiking: "no: the default cnn head's 2×2 max-pool has no integrate-and-fire form (the emulation sums weighted spikes); an mlp-head LCANet builds a rate network the emulation runs, but no test checks it against the float model yet",
      nir: 'no: the soft threshold has no NIR primitive and there is no spiking emulation of the convolutional form to export',
      traces: 'yes',
    },
  },
};
