/**
 * The CNN-F family (Huang et al., NeurIPS 2020): recurrent generative feedback through the tied-weight
 * transposed network, AdaReLU and AdaPool, iterative inference one cycle per step (system.ts); training by
 * BPTT with the CNN-F loss and optional PGD examples (job.ts); an attack classifier with the 'first' and
 * 'e2e' surfaces (classifier.ts); per-cycle event counts (system.ts `countsOfPass`) and the hardware network `neurodyn energy` prices
 * (hardware.ts); NIR refusal (nir.ts).
 */
import type { Family } from '../family.js';
import { cnnfClassifierAdapter } from './classifier.js';
import { cnnfSystemEntry } from './options.js';
import { cnnfHardware } from './hardware.js';
import { cnnfTrain } from './job.js';
import { cnnfNirMapper } from './nir.js';

export const cnnfFamily: Family = {
  name: 'cnn-f',
  description: 'CNN-F: a CNN with recurrent generative feedback (Huang et al., NeurIPS 2020)',
  systems: [cnnfSystemEntry],
  jobs: [cnnfTrain],
  classifiers: { 'cnn-f': cnnfClassifierAdapter },
  nir: { 'cnn-f': cnnfNirMapper },
  hardware: { 'cnn-f': cnnfHardware },
  support: {
    'cnn-f': {
      simulate: 'yes',
      energy: 'no: CNN-F has no energy function; each cycle records the residual ‖h_t − h_{t−1}‖ and the reconstruction error instead',
      'train-local': 'no: CNN-F is trained by backprop through the unrolled cycles only (the paper has no local rule)',
      'train-bptt': 'yes',
      attack: 'yes',
      corrupt: 'yes',
      hardware: 'yes',
      spiking: 'no: AdaReLU and AdaPool gate units by the sign of a stored feedback signal, which the integrate-and-fire emulation has no form for',
      nir: 'no: AdaReLU and AdaPool have no NIR primitive (nor do ReLU and max-pool); export the weights with --format npz',
      traces: 'yes',
    },
  },
};

export { cnnf, type CnnfSystem, type CnnfState, type CnnfParams, type CnnfOptions } from './system.js';
export { ARCHITECTURES } from './system-architectures.js';
export { cnnfClassifier } from './classifier.js';
export { runCycles } from './run-cycles.js';
