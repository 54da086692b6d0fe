/**
 * Equilibrium propagation: layered Hopfield energy networks trained by the contrastive local update of a
 * free and a nudged phase (Scellier & Bengio 2017; Ernoult et al. 2019; Laborieux et al. 2021), next to
 * BPTT through the same free phase.
 */
import type { Family } from '../family.js';
import { equilibriumPropClassifierAdapters } from './classifier.js';
import { equilibriumPropHardware } from './hardware.js';
import { equilibriumPropConvNir, equilibriumPropNir } from './nir.js';
import { equilibriumPropConvEntry, equilibriumPropEntry } from './options.js';
import { epTrain } from './train-job.js';
import { epVsBptt } from './vs-bptt-job.js';

const noTraces = 'no: the EP training jobs record no traces (they would be one per batch and phase)';

export const equilibriumPropFamily: Family = {
  name: 'equilibrium-prop',
  description: 'energy-based networks trained by equilibrium propagation, compared with BPTT',
  systems: [equilibriumPropEntry, equilibriumPropConvEntry],
  jobs: [epTrain, epVsBptt],
  classifiers: equilibriumPropClassifierAdapters,
  hardware: { 'equilibrium-prop': equilibriumPropHardware },
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
      traces: noTraces,
    },
    'equilibrium-prop-conv': {
      simulate: 'yes',
      energy: 'yes',
      'train-local': 'yes',
      'train-bptt': 'yes',
      attack: 'yes',
      corrupt: 'yes',
      hardware: 'no: the convolutional P_CNN has no layered hardware network yet',
      spiking: 'no: the convolutional P_CNN has no spiking emulation yet',
      nir: 'no: the hard sigmoid and max-pool routing have no NIR primitive, and there is no spiking emulation of the P_CNN to export',
      traces: noTraces,
    },
  },
};
