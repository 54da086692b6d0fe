/**
 * Predify's hardware network (system-predify.ts), from a `predify-noise` run folder's model (backbone
 * conv<n>, fc1, fc2 and decoders dec<n>).
 *
 * Form, per PCoder n = 1…N (e_0 = x):
 * - `conv<n>`: relu(conv(e_{n−1}, W_n) + b_n), the pre-pool units ('same' padding), fed by the convolution
 *   expanded into a dense projection (storedWeights: the k×k×C_{n−1}×C_n kernel);
 * - `pool<n>`: the 2×2 max-pool of conv<n>: ff_n;
 * - `pcoder<n>`: e_n, `linear`, fed one-to-one by pool<n> (the β ff_n term), by the decoder D_{n+1} from
 *   pcoder<n+1> (the λ d_{n+1} feedback: a stride-2 transposed convolution, expanded), and by the adjoint of
 *   its own decoder D_nᵀ from pcoder<n−1> (the −α ∇_{e_n} ε_{n−1} term carries the residual D_n(e_n) − e_{n−1}
 *   up through the convolution that is D_n's adjoint);
 * then the head: `fc1` (relu, from pcoder<N>) and `readout` (linear).
 *
 * The dense matrices are read off the system's own operators: row i of a projection is the operator applied
 * to the i-th basis image, so they are the system's convolutions by construction (and checked against the
 * system in the test). The memory term (1 − β − λ) e_n(t−1) is a state of the unit, not a synapse.
 *
 * `structureOnly` (PREDIFY_MIXING): each step mixes a memory of e_n with the feedforward drive, the
 * decoder's prediction and a gradient step on a reconstruction error, none of which is a rate population's
 * φ(Σ a W + b); and max-pool and linear units have no integrate-and-fire form. So the network serves the fit,
 * fan-in and fan-out, sparsity and footprint, and the energy is priced from the float model's counts: the
 * system's `counts` read by simulate(countEvents) over T = run.maxSteps timesteps on the first `count` test
 * images (per PCoder per step: the backbone block, the decoder and its adjoint; nonzero e_n as events).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { relaxationSettings } from '../../core/run-settings.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { subset, toTensors } from '../../data/index.js';
import { argmaxAccuracy, type BuildRequest, type HardwareAdapter, type TrainedNetwork } from '../../hardware/adapter.js';
import { normalizeCounts } from '../../hardware/counts.js';
import { checkDenseSize, poolSelector, transposeDense, tileDense, identityDense } from '../../hardware/dense-conv.js';
import { checkNetwork, type Population, type Projection } from '../../hardware/network.js';
import { predifyEntry } from './options.js';
import type { PredifyParams, PredifySystem } from './system-predify.js';

export const PREDIFY_MIXING =
  "each Predify step mixes a memory of e_n with the feedforward drive, the decoder's prediction and a gradient step on the reconstruction error (e_n ← β ff_n + λ d_{n+1} + (1 − β − λ) e_n − α ∇ε_{n−1}), which no rate population φ(Σ a W + b) expresses, and its max-pool and linear units have no integrate-and-fire form";

/**
 * The dense [inputs, outputs] matrix of a linear operator on images of `shape` (NHWC, flattened in that
 * order): row i is the operator applied to the i-th basis image, in chunks to bound memory.
 */
export function denseOperator(op: (basis: tf.Tensor4D) => tf.Tensor, shape: readonly [number, number, number], outputs: number, what: string): Float32Array {
  const inputs = shape[0] * shape[1] * shape[2];
  checkDenseSize(inputs, outputs, what);
  const out = new Float32Array(inputs * outputs);
  const chunk = Math.max(1, Math.floor(2 ** 22 / Math.max(inputs, outputs)));
  for (let start = 0; start < inputs; start += chunk) {
    const n = Math.min(chunk, inputs - start);
    const rows = tf.tidy(() => {
      const basis = tf.reshape(tf.slice(tf.eye(inputs), [start, 0], [n, inputs]), [n, ...shape]) as tf.Tensor4D;
      const response = op(basis);
      if (response.size !== n * outputs) throw new Error(`${what}: the operator gave ${response.size / n} outputs per image, expected ${outputs}`);
      return tf.reshape(response, [n, outputs]);
    });
    out.set(rows.dataSync() as Float32Array, start * outputs);
    rows.dispose();
  }
  return out;
}

function build(request: BuildRequest): TrainedNetwork {
  const { source } = request;
  const { data } = source;
  const model = source.trained;
  if (!model) throw new SpecError('<run-folder|spec>', 'predify needs a trained model: pass a run folder written by the predify-noise job');
  const inputSize = data.test.height * data.test.width;
  const system = predifyEntry.create(source.system, { inputSize }) as PredifySystem;
  const names = [...system.backboneNames, ...system.decoderNames];
  const params: PredifyParams = Object.fromEntries(
    names.map((name) => {
      const t = model.params[name];
      if (!t) throw new SpecError(`model.params.${name}`, `missing from the saved model (it has ${Object.keys(model.params).join(', ')}); a predify-noise run folder holds the backbone and the decoders`);
      return [name, tf.clone(t)];
    }),
  );
  const o = system.options;
  const N = o.channels.length;
  const shapes = system.shapes;
  const units = (n: number) => shapes[n]![0] * shapes[n]![1] * shapes[n]![2];
  const name = (n: number) => (n === 0 ? 'x' : `pcoder${n}`);
  const values = (key: string) => Float32Array.from(params[key]!.dataSync() as Float32Array);
  const populations: Population[] = [];
  const projections: Projection[] = [];
  try {
    for (let n = 1; n <= N; n++) {
      const [h, w, cin] = shapes[n - 1]!;
      const cout = shapes[n]![2];
      const pre = h * w * cout;
      const kernel = o.kernelSize ** 2 * cin * cout;
      populations.push({ name: `conv${n}`, size: pre, activation: 'relu', bias: tileDense(values(`conv${n}.b`), h * w) });
      projections.push({ name: `conv${n}.w`, from: name(n - 1), to: `conv${n}`, role: 'feedforward', storedWeights: kernel, weight: denseOperator((b) => tf.conv2d(b, params[`conv${n}.w`] as tf.Tensor4D, 1, 'same'), shapes[n - 1]!, pre, `system.channels[${n - 1}]`) });
      populations.push({ name: `pool${n}`, size: units(n), activation: 'max-pool' });
      projections.push({ name: `pool${n}`, from: `conv${n}`, to: `pool${n}`, role: 'feedforward', storedWeights: 0, weight: poolSelector(h, w, cout, 2, `system.channels[${n - 1}]`) });
      populations.push({ name: name(n), size: units(n), activation: 'linear' });
      projections.push({ name: `ff${n}`, from: `pool${n}`, to: name(n), role: 'feedforward', storedWeights: 0, weight: identityDense(units(n), `system.channels[${n - 1}]`) });
    }
    for (let n = 1; n <= N; n++) {
      // D_n's transposed convolution, e_n → the layer below (its bias and, for n ≥ 2, ReLU are outside the rate form).
      const decoder = denseOperator((b) => system.decodeLinear(n, b, params), shapes[n]!, units(n - 1), `decoder ${n}`);
      const stored = (params[`dec${n}.w`] as tf.Tensor).size;
      if (n >= 2) projections.push({ name: `dec${n}`, from: name(n), to: name(n - 1), role: 'feedback', storedWeights: stored, weight: decoder });
      projections.push({ name: `dec${n}T`, from: name(n - 1), to: name(n), role: 'feedforward', storedWeights: stored, weight: transposeDense(decoder, units(n), units(n - 1)) });
    }
    populations.push({ name: 'fc1', size: o.hidden, activation: 'relu', bias: values('fc1.b') });
    projections.push({ name: 'fc1.w', from: name(N), to: 'fc1', role: 'feedforward', weight: values('fc1.w') });
    populations.push({ name: 'readout', size: o.classes, activation: 'linear', bias: values('fc2.b') });
    projections.push({ name: 'fc2.w', from: 'fc1', to: 'readout', role: 'feedforward', weight: values('fc2.w') });
  } catch (error) {
    tf.dispose(Object.values(params));
    throw error;
  }
  const network = checkNetwork({ family: 'predictive-coding', input: { name: 'x', size: inputSize }, populations, projections, readout: 'readout', structureOnly: PREDIFY_MIXING });

  const count = Math.min(request.count, data.test.count);
  const test = toTensors(subset(data.test, 0, count), { layout: 'flat' });
  const inputs = Float32Array.from(test.x.dataSync() as Float32Array);
  const labels = Int32Array.from(test.y.dataSync() as Int32Array);
  tf.dispose([test.x, test.y]);
  const score = (readout: Float32Array) => argmaxAccuracy(readout, labels, o.classes);
  const { maxSteps: steps } = relaxationSettings(source.run);

  return {
    family: 'predictive-coding',
    network,
    documentation: { calibration: 'none (structure only: ReLU, max-pool and the reconstruction-error gradient have no integrate-and-fire form)' },
    inputs,
    labels,
    count,
    measure() {
      const x = tf.tensor4d(inputs, [count, ...shapes[0]!]);
      const start = performance.now();
      const solution = throwIfDiverged(simulate({ system, params, input: { x }, maxSteps: steps, checkEvery: steps, countEvents: true }));
      const seconds = (performance.now() - start) / 1000;
      const logits = tf.tidy(() => system.readout!(solution.state, { x }, params));
      const readout = Float32Array.from(logits.dataSync() as Float32Array);
      const events = solution.events!;
      const taken = solution.steps;
      tf.dispose([logits, x]);
      solution.dispose();
      const activity = { family: 'predictive-coding', inferences: count, stepsPerInference: taken, layers: normalizeCounts(events.total, 'predify.counts'), origin: `float Predify dynamics, ${taken} timesteps from the feedforward pass (graded activity)` };
      return { activity, accuracy: score(readout), seconds };
    },
    score,
    dispose() {
      tf.dispose(Object.values(params));
    },
  };
}

export const predifyHardware: HardwareAdapter = { kind: 'predify', fromSpec: false, build };
