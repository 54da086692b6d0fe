/**
 * Equilibrium propagation's adapter: a layered Hopfield net trained by the `ep-train` job (params W<n>,
 * b<n>; sizes and activation in the saved spec). Its activity is measured by the model's own free
 * relaxation (run.maxSteps steps of the system's map from rest, as the job evaluates it) on the first
 * `count` test digits, with simulate(countEvents) reading the system's `counts` at every step.
 *
 * As a LayeredNetwork, the free phase's fixed point (Scellier & Bengio 2017; Laborieux et al. 2021):
 *
 *   s_n = ρ(s_{n-1} W_n + b_n + s_{n+1} W_{n+1}ᵀ)
 *
 * one population per free layer, a feedforward projection W_n and a feedback projection W_{n+1}ᵀ (the
 * symmetric weights EP's energy implies). This holds for both dynamics: `primitive-map` iterates it, and
 * `energy-descent` with a box activation stops where projected gradient descent on E does, i.e. at the same
 * clipped point. With `output: 'softmax-ce'` the output layer is not part of the dynamics: the prediction
 * is argmax(s_{N-1} W_N + b_N), a feedforward readout that the emulation carries as a `relu` population (its
 * spike count ranks the classes whose logit is positive; when every logit of a digit is ≤ 0 the rate code
 * sees a tie at zero — the one loss of the mapping, visible in the emulation's accuracy).
 *
 * Only `hard-sigmoid` (clip(z, 0, 1)) maps onto the emulation's activations; the other EP activations are
 * refused with an error naming the option.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { relaxationSettings } from '../../core/run-settings.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { toTensors, subset } from '../../data/index.js';
import type { EpParams, EquilibriumPropSystem } from './system.js';
import { equilibriumPropEntry } from './options.js';
import { transposeDense } from '../../hardware/dense-conv.js';
import { normalizeCounts } from '../../hardware/counts.js';
import { settlingOfRelaxation } from '../../core/settling.js';
import { argmaxAccuracy, CALIBRATION_EXAMPLES, type HardwareAdapter, type BuildRequest, type TrainedNetwork } from '../../hardware/adapter.js';
import { checkNetwork, type Population, type Projection } from '../../hardware/network.js';

function build(request: BuildRequest): TrainedNetwork {
  const { source } = request;
  const { data } = source;
  const model = source.trained;
  const relaxation = relaxationSettings(source.run);
  if (!model) throw new SpecError('<run-folder|spec>', 'equilibrium-prop needs a trained model: pass a run folder written by the ep-train job');
  const inputSize = data.test.height * data.test.width;
  const system = equilibriumPropEntry.create(source.system, { inputSize }) as EquilibriumPropSystem;
  const o = system.options;
  if (o.activation !== 'hard-sigmoid') throw new SpecError('system.activation', `the spiking emulation maps only 'hard-sigmoid' onto a rate code, got ${JSON.stringify(o.activation)}`);
  const sizes = o.sizes;
  const N = sizes.length - 1;
  const free = o.output === 'mse' ? N : N - 1;
  const params: EpParams = Object.fromEntries(
    system.paramNames.map((name) => {
      const t = model.params[name];
      if (!t) throw new SpecError(`model.params.${name}`, `missing from the saved model (it has ${Object.keys(model.params).join(', ')})`);
      return [name, tf.clone(t)];
    }),
  );
  const count = Math.min(request.count, data.test.count);
  const calibrationCount = Math.min(request.calibration ?? CALIBRATION_EXAMPLES, data.test.count);
  const firstTest = (n: number) => {
    const test = toTensors(subset(data.test, 0, n), { layout: 'flat' });
    const out = { x: Float32Array.from(test.x.dataSync() as Float32Array), y: Int32Array.from(test.y.dataSync() as Int32Array) };
    tf.dispose([test.x, test.y]);
    return out;
  };
  const { x: inputs, y: labels } = firstTest(count);

  const weight = (n: number) => params[`W${n}`]!.dataSync() as Float32Array;
  const name = (n: number) => (n === 0 ? 'x' : n <= free ? `layer${n}` : `readout${n}`);
  const populations: Population[] = [];
  const projections: Projection[] = [];
  for (let n = 1; n <= N; n++) {
    const bias = Float32Array.from(params[`b${n}`]!.dataSync() as Float32Array);
    populations.push({ name: name(n), size: sizes[n]!, activation: n <= free ? 'hard-sigmoid' : 'relu', bias });
    projections.push({ name: `W${n}`, from: name(n - 1), to: name(n), weight: Float32Array.from(weight(n)), role: 'feedforward' });
    if (n < free) projections.push({ name: `W${n + 1}T`, from: name(n + 1), to: name(n), weight: transposeDense(weight(n + 1), sizes[n]!, sizes[n + 1]!), role: 'feedback' });
  }

  const relax = (countEvents: boolean, images = inputs, n = count) => {
    const x = tf.tensor2d(images, [n, inputSize]);
    // In a tidy: withInputDrive leaves its matMul intermediate behind otherwise.
    const input = tf.tidy(() => system.prepare({ x }, params));
    const start = performance.now();
    const solution = throwIfDiverged(simulate({ system, params, input, ...relaxation, countEvents }));
    const seconds = (performance.now() - start) / 1000;
    // Only for the measured run (and outside its timing): how many of the priced steps the relaxation needed.
    const settling = countEvents ? settlingOfRelaxation(system, params, input, relaxation, solution.steps) : undefined;
    const logits = tf.tidy(() => tf.clone(system.readout!(solution.state, input, params)));
    const readout = logits.dataSync() as Float32Array;
    logits.dispose();
    const events = solution.events;
    const steps = solution.steps;
    solution.dispose();
    tf.dispose([x, ...(input.drive ? [input.drive] : [])]);
    return { readout: Float32Array.from(readout), events, steps, seconds, settling };
  };

  // The softmax readout's rate code needs the largest logit the float model reaches as its spike value,
  // taken over the calibration examples (not the evaluated ones), so every command builds one network.
  if (o.output === 'softmax-ce') {
    const { readout } = relax(false, firstTest(calibrationCount).x, calibrationCount);
    const peak = readout.reduce((m, v) => Math.max(m, v), 0);
    populations[N - 1] = { ...populations[N - 1]!, maxActivity: peak > 0 ? peak : 1 };
  }
  const network = checkNetwork({ family: 'equilibrium-prop', input: { name: 'x', size: inputSize }, populations, projections, readout: name(N) });
  const score = (readout: Float32Array) => argmaxAccuracy(readout, labels, sizes[N]!);
  const readoutValue = network.populations[N - 1]!.maxActivity ?? 1;
  return {
    family: 'equilibrium-prop',
    network,
    documentation: {
      calibration: o.output === 'softmax-ce' ? `readout spike value = the largest logit of the float model over the first ${calibrationCount} test images` : 'none: every population is a hard sigmoid with spike value 1',
      input: 'pixels in [0, 1], flattened row-major (28×28 → 784), no normalisation; the encoder fires at the pixel value per step',
      readout: `${name(N)}: class = argmax of spike counts; activity = count / T × ${readoutValue}${o.output === 'softmax-ce' ? ' (a logit, clipped at 0 and at the calibrated peak)' : ''}`,
    },
    inputs,
    labels,
    count,
    measure() {
      const { readout, events, steps, seconds, settling } = relax(true);
      const activity = { family: 'equilibrium-prop', inferences: count, stepsPerInference: steps, layers: normalizeCounts(events!.total, 'equilibrium-prop.counts'), origin: `float free relaxation, ${steps} steps (graded activity)` };
      return { activity, accuracy: score(readout), seconds, ...(settling ? { settling } : {}) };
    },
    score,
    dispose() {
      tf.dispose(Object.values(params));
    },
  };
}

export const equilibriumPropHardware: HardwareAdapter = { kind: 'equilibrium-prop', fromSpec: false, build };
