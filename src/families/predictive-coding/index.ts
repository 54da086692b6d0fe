/**
 * The predictive-coding family: predictive coding as a learning algorithm (the PCN, its strict / FPA / Z-IL
 * rule and the `pc-vs-bp` comparison). Predify's recurrent dynamics on a frozen backbone join it in
 * `system-predify.ts`.
 */
import type { Family, SupportRow } from '../family.js';
import { pcFlowEntry, pcNetworkEntry, predifyEntry } from './options.js';
import { predifyNoise } from './job-predify.js';
import { predifyClassifierAdapter } from './classifier-predify.js';
import { pcVsBp } from './job-pc-vs-bp.js';
import { pcNetworkHardware } from './hardware-pc.js';
import { predifyHardware } from './hardware-predify.js';
import { PC_NIR_REASON, PREDIFY_NIR_REASON, pcNetworkNir, predifyNir } from './nir.js';

const pcNetworkSupport: SupportRow = {
  simulate: 'yes',
  energy: 'yes',
  'train-local': 'yes',
  'train-bptt': 'no: its backprop baseline differentiates the feedforward pass (pc-vs-bp), which is the energy minimum without a label; nothing to unroll',
  attack: 'no: a PCN classifies by its feedforward pass (the label-free energy minimum), so an attack on it is an attack on an MLP; use the feed-forward classifier',
  corrupt: 'no: as attack, its prediction is the feedforward pass',
  hardware: 'yes',
  spiking: 'no: graded value and error nodes; no spiking form is defined',
  nir: `no: ${PC_NIR_REASON}`,
  traces: 'yes',
};

const pcFlowSupport: SupportRow = {
  ...pcNetworkSupport,
  hardware: 'no: the hardware meter counts a discrete map; pc-network is the same PCN with a fixed inference step, and has the adapter',
};

const predifySupport: SupportRow = {
  simulate: 'yes',
  energy: 'no: Predify’s update mixes feedforward drive, feedback and memory with a gradient step on the reconstruction error; it descends no energy, and only the reconstruction error is reported (derived: reconstruction_error)',
  'train-local': 'yes',
  'train-bptt': 'no: the backbone is trained feedforward by backprop and the decoders by their local reconstruction loss (Predify); nothing is trained through the timesteps',
  attack: 'yes',
  corrupt: 'yes',
  hardware: 'yes',
  spiking: 'no: graded representations; no spiking form is defined',
  nir: `no: ${PREDIFY_NIR_REASON}`,
  traces: 'yes',
};

export const predictiveCodingFamily: Family = {
  name: 'predictive-coding',
  description: 'predictive coding: the PCN learning algorithm (Whittington & Bogacz 2017; PCX) and Predify dynamics (Choksi et al. 2021)',
  systems: [pcNetworkEntry, pcFlowEntry, predifyEntry],
  jobs: [pcVsBp, predifyNoise],
  classifiers: { predify: predifyClassifierAdapter },
  hardware: { 'pc-network': pcNetworkHardware, predify: predifyHardware },
  nir: { 'pc-network': pcNetworkNir, 'pc-network-flow': pcNetworkNir, predify: predifyNir },
  support: { 'pc-network': pcNetworkSupport, 'pc-network-flow': pcFlowSupport, predify: predifySupport },
};

export { predictiveCodingNetwork, predictiveCodingFlow } from './system-pc.js';
export { predictiveCodingRule } from './rule-pc.js';
export { feedforwardBackprop } from './rule-backprop.js';
export { predify } from './system-predify.js';
export { predifyDecoderRule, predifyBackboneRule } from './rule-predify.js';
