/**
 * Equilibrium propagation: layered Hopfield energy networks trained by the contrastive local update of a
 * free and a nudged phase (Scellier & Bengio 2017; Ernoult et al. 2019; Laborieux et al. 2021), next to
 * BPTT through the same free phase.
 */
import type { Family } from '../family.js';
import { equilibriumPropClassifierAdapters } from './classifier.js';
import { equilibriumPropHardware } from './hardware.js';
import { equilibriumPropConvHardware, ROUTED_FEEDBACK } from './hardware-conv.js';
import { equilibriumPropConvNir, equilibriumPropNir } from './nir.js';
import { equilibriumPropConvEntry, equilibriumPropEntry } from './options.js';
import { epAttractorDemo } from './attractor-demo-job.js';
import { epTrain } from './train-job.js';
import { epVsBptt } from './vs-bptt-job.js';


export const equilibriumPropFamily: Family = {
  name: 'equilibrium-prop',
  description: 'energy-based networks trained by equilibrium propagation, compared with BPTT',
  systems: [equilibriumPropEntry, equilibriumPropConvEntry],
  jobs: [epTrain, epVsBptt, epAttractorDemo],
  classifiers: equilibriumPropClassifierAdapters,
  hardware: { 'equilibrium-prop': equilibriumPropHardware, 'equilibrium-prop-conv': equilibriumPropConvHardware },
  nir: { 'equilibrium-prop': equilibriumPropNir, 'equilibrium-prop-conv': equilibriumPropConvNir },
  support: {
    'equilibrium-prop': {
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
    'equilibrium-prop-conv': {
      simulate: 'yes',
      energy: 'yes',
      'train-local': 'yes',
      'train-bptt': 'yes',
      attack: 'yes',
      corrupt: 'yes',
      hardware: 'yes',
      spiking: `no: ${ROUTED_FEEDBACK}`,
      nir: 'no: the hard sigmoid and max-pool routing have no NIR primitive, and there is no spiking emulation of the P_CNN to export',
      traces: 'yes',
    },
  },
};
