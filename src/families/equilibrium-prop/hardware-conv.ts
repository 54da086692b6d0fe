/**
 * The convolutional P_CNN's hardware network (system-conv.ts; Ernoult et al. 2019, Laborieux et al. 2021),
 * from an `ep-train` run folder (W<n>, b<n>). Its activity is the model's own: the free relaxation for the
 * spec's run section (from rest, as the job evaluates it) with simulate(countEvents) reading the system's
 * `counts` every step, on the first `count` test digits.
 *
 * Form, per convolutional layer n (z_n = conv(s_{n−1}, W_n) + b_n, s_n = ρ(P(z_n) + feedback)):
 * - `conv<n>`: the pre-pool units z_n, `linear`, fed by W_n expanded into a dense projection
 *   (hardware/dense-conv.ts; `storedWeights` keeps the kernel's real size for the footprint);
 * - `pool<n>`: P(z_n), a `max-pool` population over 2×2 windows;
 * - `layer<n>`: s_n = clip(P(z_n) + feedback, 0, 1), `hard-sigmoid`, fed one-to-one by `pool<n>` and, for
 *   n < L, by the feedback convᵀ(P'(z_{n+1}) ⊙ s_{n+1}, W_{n+1}): W_{n+1}ᵀ expanded, leaving from the pre-pool
 *   grid of layer n+1 (`conv<n+1>`), which is where the routed activity sits;
 * - the fully connected output: `layer<L+1>` (MSE output, a free layer with feedback W_{L+1}ᵀ into layer L)
 *   or `readout` (softmax-ce, a feedforward readout).
 *
 * What the rate form cannot say, hence `structureOnly`: the feedback does not carry z_{n+1} but s_{n+1}
 * placed at each window's maximum (P'(z) ⊙ s), a gate that depends on the state, and `max-pool` and
 * `linear` units have no integrate-and-fire form. The network therefore serves the fit, fan-in/fan-out,
 * connection sparsity and footprint, and the energy is priced from the float model's counts; the spiking
 * emulation refuses it with that reason. Only `hard-sigmoid` is accepted (the activation the populations
 * name). The dense expansion limits this to small configurations (e.g. channels [4, 8]); larger ones are
 * refused with the size (DENSE_LIMIT).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { relaxationSettings } from '../../core/run-settings.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { subset, toTensors } from '../../data/index.js';
import { argmaxAccuracy, type BuildRequest, type HardwareAdapter, type TrainedNetwork } from '../../hardware/adapter.js';
import { settlingOfRelaxation } from '../../core/settling.js';
import { normalizeCounts } from '../../hardware/counts.js';
import { denseConvolution, poolSelector, transposeDense, tileDense, identityDense } from '../../hardware/dense-conv.js';
import { checkNetwork, type Population, type Projection } from '../../hardware/network.js';
import { equilibriumPropConvEntry } from './options.js';
import type { EpParams } from './system.js';
import type { EquilibriumPropConvSystem } from './system-conv.js';

export const ROUTED_FEEDBACK =
  "the P_CNN's feedback reaches layer n only at each 2×2 window's maximum of layer n+1's convolution (P'(z) ⊙ s, a gate that depends on the state), and its max-pool and pre-pool (linear) units have no integrate-and-fire form";

function build(request: BuildRequest): TrainedNetwork {
  const { source } = request;
  const { data } = source;
  const model = source.trained;
  if (!model) throw new SpecError('<run-folder|spec>', 'equilibrium-prop-conv needs a trained model: pass a run folder written by the ep-train job');
  const relaxation = relaxationSettings(source.run);
  const side = data.test.height;
  const system = equilibriumPropConvEntry.create(source.system, { inputSize: side * data.test.width }) as EquilibriumPropConvSystem;
  const o = system.options;
  if (o.activation !== 'hard-sigmoid') throw new SpecError('system.activation', `the hardware network names the populations' activation hard-sigmoid; got ${JSON.stringify(o.activation)}`);
  const params: EpParams = Object.fromEntries(
    system.paramNames.map((name) => {
      const t = model.params[name];
      if (!t) throw new SpecError(`model.params.${name}`, `missing from the saved model (it has ${Object.keys(model.params).join(', ')})`);
      return [name, tf.clone(t)];
    }),
  );
  const values = (name: string) => Float32Array.from(params[name]!.dataSync() as Float32Array);
  const L = o.channels.length;
  const k = o.kernelSize;
  const size = (n: number) => (n === 0 ? side : system.spatial[n - 1]!);
  const channels = (n: number) => (n === 0 ? o.inputChannels : o.channels[n - 1]!);
  const units = (n: number) => size(n) * size(n) * channels(n);
  const gridSide = (n: number) => size(n - 1) - k + 1;
  const gridUnits = (n: number) => gridSide(n) * gridSide(n) * channels(n);
  const flat = units(L);
  const free = o.output === 'mse' ? L + 1 : L;
  const top = o.output === 'mse' ? `layer${L + 1}` : 'readout';

  const populations: Population[] = [];
  const projections: Projection[] = [];
  const convDense: Float32Array[] = [];
  for (let n = 1; n <= L; n++) {
    const kernel = values(`W${n}`);
    const g = gridSide(n);
    const dense = denseConvolution(kernel, { height: size(n - 1), width: size(n - 1), channels: channels(n - 1), kernelSize: k, features: channels(n), stride: 1, padTop: 0, padLeft: 0, outHeight: g, outWidth: g }, 'system.channels');
    convDense[n] = dense;
    populations.push({ name: `conv${n}`, size: gridUnits(n), activation: 'linear', bias: tileDense(values(`b${n}`), g * g) });
    populations.push({ name: `pool${n}`, size: units(n), activation: 'max-pool' });
    populations.push({ name: `layer${n}`, size: units(n), activation: 'hard-sigmoid' });
    projections.push({ name: `W${n}`, from: n === 1 ? 'x' : `layer${n - 1}`, to: `conv${n}`, weight: dense, role: 'feedforward', storedWeights: kernel.length });
    projections.push({ name: `pool${n}`, from: `conv${n}`, to: `pool${n}`, weight: poolSelector(g, g, channels(n), 2, 'system.channels'), role: 'feedforward', storedWeights: 0 });
    projections.push({ name: `pool${n}_to_layer${n}`, from: `pool${n}`, to: `layer${n}`, weight: identityDense(units(n), 'system.channels'), role: 'feedforward', storedWeights: 0 });
  }
  for (let n = 1; n < L; n++) {
    projections.push({ name: `W${n + 1}T`, from: `conv${n + 1}`, to: `layer${n}`, weight: transposeDense(convDense[n + 1]!, units(n), gridUnits(n + 1)), role: 'feedback', storedWeights: 0 });
  }
  const fc = values(`W${L + 1}`);
  populations.push({ name: top, size: o.classes, activation: o.output === 'mse' ? 'hard-sigmoid' : 'relu', bias: values(`b${L + 1}`) });
  projections.push({ name: `W${L + 1}`, from: `layer${L}`, to: top, weight: fc, role: 'feedforward' });
  if (o.output === 'mse') projections.push({ name: `W${L + 1}T`, from: top, to: `layer${L}`, weight: transposeDense(fc, flat, o.classes), role: 'feedback', storedWeights: 0 });
  const network = checkNetwork({ family: 'equilibrium-prop', input: { name: 'x', size: units(0) }, populations, projections, readout: top, structureOnly: ROUTED_FEEDBACK });

  const count = Math.min(request.count, data.test.count);
  const test = toTensors(subset(data.test, 0, count), { layout: 'nhwc' });
  const inputs = Float32Array.from(test.x.dataSync() as Float32Array);
  const labels = Int32Array.from(test.y.dataSync() as Int32Array);
  tf.dispose([test.x, test.y]);

  const relax = () => {
    const x = tf.tensor4d(inputs, [count, side, side, o.inputChannels]);
    // In a tidy: prepare's pooled drive leaves its intermediates behind otherwise.
    const input = tf.tidy(() => system.prepare({ x }, params));
    const start = performance.now();
    const solution = throwIfDiverged(simulate({ system, params, input, ...relaxation, countEvents: true }));
    const seconds = (performance.now() - start) / 1000;
    const readout = tf.tidy(() => system.readout!(solution.state, input, params).dataSync() as Float32Array);
    const { events, steps } = solution;
    solution.dispose();
    const settling = settlingOfRelaxation(system, params, input, relaxation, steps);
    tf.dispose([x, ...(input.drive ? [input.drive] : [])]);
    return { readout: Float32Array.from(readout), events: events!, steps, seconds, settling };
  };
  const score = (readout: Float32Array) => argmaxAccuracy(readout, labels, o.classes);
  return {
    family: 'equilibrium-prop',
    network,
    documentation: { calibration: 'none (structure only: the P_CNN has no spiking form)' },
    inputs,
    labels,
    count,
    measure() {
      const { readout, events, steps, seconds, settling } = relax();
      const activity = { family: 'equilibrium-prop', inferences: count, stepsPerInference: steps, layers: normalizeCounts(events.total, 'equilibrium-prop-conv.counts'), origin: `float free relaxation of the P_CNN, ${steps} steps (graded activity; ${free} free layers)` };
      return { activity, accuracy: score(readout), seconds, settling };
    },
    score,
    dispose() {
      tf.dispose(Object.values(params));
    },
  };
}

export const equilibriumPropConvHardware: HardwareAdapter = { kind: 'equilibrium-prop-conv', fromSpec: false, build };
