/**
 * Hopfield's adapter: the reference network of the quickstart. The stored patterns are the ±1 class
 * prototypes of the training split (class means binarised at 0.4, the hopfield-recall job's default),
 * stored with the projection rule; cues are prototypes with a fraction of pixels flipped (seeded). Recall
 * is scored as in the job: the nearest prototype of sign(V) must be the cue's class.
 *
 * As a LayeredNetwork: one `tanh` population (gain g) with the recurrent projection W and bias b, which
 * starts from the cue (the float model at V(0) = 0.9·cue; the emulation at v(0) = 1.5·θ·cue, see INITIAL_POTENTIAL) and, if the spec has a cue
 * current, is also driven by it through a diagonal input projection.
 */
import * as tf from '@tensorflow/tfjs-core';
import { relaxationSettings } from '../../core/run-settings.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { storePatterns, type HopfieldSystem } from './system.js';
import { hopfieldEntry } from './options.js';
import { settlingOfRelaxation } from '../../core/settling.js';
import { normalizeCounts } from '../../hardware/counts.js';
import { type HardwareAdapter, type BuildRequest, type TrainedNetwork } from '../../hardware/adapter.js';
import { checkNetwork, type LayeredNetwork } from '../../hardware/network.js';

const FLIP_PROBABILITY = 0.2;
const PROTOTYPE_THRESHOLD = 0.4;
/**
 * The emulation's v(0) = INITIAL_POTENTIAL·θ·cue. Above θ, so every neuron's first spike carries its cue's
 * sign and the recurrent projection has something to relay: at 0.9·θ (the float model's V(0) = 0.9·cue,
 * copied) no neuron ever crossed θ, and the emulation priced a silent network at chance accuracy.
 */
const INITIAL_POTENTIAL = 1.5;

function prototypesOf(request: BuildRequest): Float32Array {
  const { train } = request.source.data;
  const n = train.height * train.width;
  const sums = new Float64Array(train.classes * n);
  const counts = new Float64Array(train.classes);
  for (let i = 0; i < train.count; i++) {
    const c = train.labels[i]!;
    counts[c]!++;
    for (let j = 0; j < n; j++) sums[c * n + j]! += train.images[i * n + j]!;
  }
  return Float32Array.from(sums, (s, k) => (s / Math.max(1, counts[Math.floor(k / n)]!) > PROTOTYPE_THRESHOLD ? 1 : -1));
}

function build(request: BuildRequest): TrainedNetwork {
  const { source, count } = request;
  const { data } = source;
  const relaxation = relaxationSettings(source.run);
  const n = data.train.height * data.train.width;
  const classes = data.train.classes;
  const system = hopfieldEntry.create(source.system, { inputSize: n }) as HopfieldSystem;
  const prototypes = prototypesOf(request);
  const params = tf.tidy(() => storePatterns(tf.tensor2d(prototypes, [classes, n]), 'projection'));
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  const rng = request.rng.split('hopfield-cues');
  const cues = new Float32Array(count * n);
  for (let i = 0; i < count; i++) for (let j = 0; j < n; j++) cues[i * n + j] = prototypes[labels[i]! * n + j]! * (rng.uniform() < FLIP_PROBABILITY ? -1 : 1);
  const weight = params.weights.dataSync() as Float32Array;
  const bias = params.bias.dataSync() as Float32Array;
  const { gain, cueCurrent } = system.options;
  const network: LayeredNetwork = checkNetwork({
    family: 'hopfield',
    input: { name: 'cue', size: n },
    populations: [{ name: 'u', size: n, activation: 'tanh', gain, bias: Float32Array.from(bias), initialFromInput: INITIAL_POTENTIAL }],
    projections: [
      { name: 'W', from: 'u', to: 'u', weight: Float32Array.from(weight), role: 'recurrent' },
      ...(cueCurrent > 0 ? [{ name: 'cue_current', from: 'cue', to: 'u', weight: diagonal(n, cueCurrent), role: 'input' as const }] : []),
    ],
    readout: 'u',
  });
  const score = (readout: Float32Array) => {
    let hits = 0;
    for (let i = 0; i < count; i++) {
      let best = -1;
      let bestOverlap = -Infinity;
      for (let c = 0; c < classes; c++) {
        let m = 0;
        for (let j = 0; j < n; j++) m += Math.sign(readout[i * n + j]!) * prototypes[c * n + j]!;
        if (m > bestOverlap) {
          bestOverlap = m;
          best = c;
        }
      }
      if (best === labels[i]) hits++;
    }
    return hits / count;
  };
  return {
    family: 'hopfield',
    network,
    documentation: { calibration: 'none: stored prototypes and cues come from the data and the seed', input: 'cues: ±1 class prototypes (class means binarised at 0.4) with 20% of pixels flipped; v(0) = 1.5·θ·cue', readout: 'u: sign of the spike counts, nearest prototype' },
    inputs: cues,
    labels,
    count,
    measure() {
      const cue = tf.tensor2d(cues, [count, n]);
      const start = performance.now();
      const solution = throwIfDiverged(
        simulate({
          system,
          params,
          input: { cue },
          ...relaxation,
          countEvents: true,
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      const recalled = tf.tidy(() => system.readout!(solution.state, { cue }, params));
      const readout = Float32Array.from(recalled.dataSync() as Float32Array);
      recalled.dispose();
      const activity = { family: 'hopfield', inferences: count, stepsPerInference: solution.steps, layers: normalizeCounts(solution.events!.total, 'hopfield.counts'), origin: `float relaxation, ${solution.steps} steps (graded activity)` };
      const settling = settlingOfRelaxation(system, params, { cue }, relaxation, solution.steps);
      solution.dispose();
      cue.dispose();
      return { activity, accuracy: score(readout), seconds, settling };
    },
    score,
    dispose() {
      tf.dispose([params.weights, params.bias]);
    },
  };
}

function diagonal(n: number, value: number): Float32Array {
  const w = new Float32Array(n * n);
  for (let i = 0; i < n; i++) w[i * n + i] = value;
  return w;
}

export const hopfieldHardware: HardwareAdapter = { kind: 'hopfield', fromSpec: true, build };
