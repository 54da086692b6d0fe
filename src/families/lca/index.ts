/**
 * LCA: lateral competition for sparse coding (Rozell et al. 2008; lcapt), fully connected and convolutional,
 * with the Hebbian dictionary rule and LCANets (Teti et al. 2022: an LCA front end with a head trained by
 * backprop).
 */
import type { Family } from '../family.js';
import { lcanetClassifierAdapter } from './classifier.js';
import { lcaDictionary } from './dictionary-job.js';
import { lcaHardware } from './hardware.js';
import { lcanet } from './lcanet-job.js';
import { lcaConvNir, lcaNir } from './nir.js';
import { lcaConvEntry, lcaEntry } from './options.js';

export const lcaFamily: Family = {
  name: 'lca',
  description: 'locally competitive algorithm: sparse coding by lateral inhibition (Rozell 2008; lcapt; LCANets)',
  systems: [lcaEntry, lcaConvEntry],
  jobs: [lcaDictionary, lcanet],
  classifiers: { 'lca-conv': lcanetClassifierAdapter },
  hardware: { lca: lcaHardware },
  nir: { lca: lcaNir, 'lca-conv': lcaConvNir },
  support: {
    lca: {
      simulate: 'yes',
      energy: 'yes',
      'train-local': 'yes',
      'train-bptt': 'no: the dictionary is learned by the Hebbian or energy-gradient rule; backprop through the relaxation is offered by the LCANet job (lca-conv)',
      attack: 'no: a fully connected LCA has no classifier head yet (the lcanet job trains heads on lca-conv only)',
      corrupt: 'no: a fully connected LCA has no classifier head yet (the lcanet job trains heads on lca-conv only)',
      hardware: 'yes',
      spiking: 'yes',
      nir: 'yes',
      traces: 'no: the lca-dictionary job does not record the spec’s probes yet',
    },
    'lca-conv': {
      simulate: 'yes',
      energy: 'yes',
      'train-local': 'yes',
      'train-bptt': 'yes',
      attack: 'yes',
      corrupt: 'yes',
      hardware: 'no: the convolutional LCANet has no layered hardware network yet',
      spiking: 'no: the convolutional LCANet has no spiking emulation yet',
      nir: 'no: the soft threshold has no NIR primitive and there is no spiking emulation of the convolutional form to export',
      traces: 'no: the lca-dictionary and lcanet jobs do not record the spec’s probes yet',
    },
  },
};
