/**
 * Hardware adapters: how the hardware meter, the spiking emulation and the spiking NIR export see a trained
 * network of one family. A family supplies its adapter in its folder (`hardware` of its Family object,
 * registered by registerFamily): it builds the network (from a run folder's saved model, or from a spec when the network
 * is defined by the data alone, as Hopfield's stored prototypes are), describes it as a LayeredNetwork,
 * measures the float model's activity with the system's own `counts`, and scores readouts.
 */
import { createRegistry } from '../core/registry.js';
import type { Rng } from '../base/rng.js';
import type { ModelSource } from '../runs/model-source.js';
import type { ActivityRecord } from './counts.js';
import type { LayeredNetwork } from './network.js';
import type { NirDocumentation } from './spiking-nir.js';
import type { Settling } from '../core/settling.js';

/**
 * How many test examples (the first ones) calibrate what a spiking network takes from the data (spike
 * values, the input scale), whatever number is then evaluated: `energy` and `export` build the same
 * network from one run folder this way.
 */
export const CALIBRATION_EXAMPLES = 100;

export interface TrainedNetwork {
  readonly family: string;
  readonly network: LayeredNetwork;
  /** Test inputs for the emulation, [count × input size], and their labels. */
  readonly inputs: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  /** Relaxes the float model on the inputs with event counting; returns its counts and accuracy. */
  measure(): { activity: ActivityRecord; accuracy: number; seconds: number; settling?: Settling };
  /** What calibrated the network and what its inputs and readout mean (for the NIR file and the output). */
  readonly documentation: NirDocumentation & { readonly calibration: string };
  /** Accuracy of readout activity ([count × readout size]) against the labels, by the family's rule. */
  score(readout: Float32Array): number;
  dispose(): void;
}

export interface BuildRequest {
  /** The spec's sections, the data and, from a run folder, the trained parameters (the caller keeps them). */
  readonly source: ModelSource;
  readonly rng: Rng;
  /** Test examples to use. */
  readonly count: number;
  /** Test examples (the first ones) that calibrate the network; default CALIBRATION_EXAMPLES. */
  readonly calibration?: number;
}

export interface HardwareAdapter {
  readonly kind: string;
  /** True if the network can be built from a spec alone (no trained model needed). */
  readonly fromSpec: boolean;
  build(request: BuildRequest): TrainedNetwork;
}

export const hardwareAdapters = createRegistry<HardwareAdapter>('hardware adapter (system kind)');

/** argmax of each row against the labels. */
export function argmaxAccuracy(readout: Float32Array, labels: Int32Array, width: number): number {
  let hits = 0;
  labels.forEach((label, i) => {
    let best = 0;
    for (let k = 1; k < width; k++) if (readout[i * width + k]! > readout[i * width + best]!) best = k;
    if (best === label) hits++;
  });
  return hits / labels.length;
}
