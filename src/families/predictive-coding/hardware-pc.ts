/**
 * The PCN's hardware network (system-pc.ts), from a `pc-vs-bp` run folder's model (W<l>, b<l>).
 *
 * Form: one population per value layer z_1 … z_{L−1} and the output prediction u_L:
 * - `layer<l>` holds a_l = φ(z_l), fed by W_l from `layer<l−1>` (the input x for l = 1; u_1 = x W_1 + b_1
 *   takes x without φ) with the bias b_l, and by W_{l+1}ᵀ from `layer<l+1>`: the error feedback
 *   e_{l+1} W_{l+1}ᵀ of the inference step (∂F/∂z_l = e_l − φ'(z_l) ⊙ e_{l+1} W_{l+1}ᵀ), stored again because
 *   a chip without weight sharing holds the transposed synapses separately;
 * - `output<L>`: the prediction u_L = a_{L−1} W_L + b_L, `linear`; its argmax is the class.
 *
 * Without a label the energy's minimum is the feedforward pass, so the feedforward projections alone give
 * the rate semantics a_l = φ(a_{l−1} W_l + b_l) of hardware/network.ts exactly. The feedback projections
 * carry prediction errors gated by φ'(z_l) (error units), which that semantics has no place for, hence
 * `structureOnly`: the network serves the fit, fan-in and fan-out, connection sparsity and footprint, and the
 * energy is priced from the float model's counts; the spiking emulation refuses it with that reason.
 *
 * Activity: the model's own inference, T = run.maxSteps steps of the system's map from the forward
 * initialisation, with simulate(countEvents) reading the system's `counts` (per layer per step: the
 * prediction's MACs n_l·n_{l−1} plus the error feedback's n_l·n_{l+1}; nonzero values as graded events).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { relaxationSettings } from '../../core/run-settings.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { subset, toTensors } from '../../data/index.js';
import { argmaxAccuracy, type BuildRequest, type HardwareAdapter, type TrainedNetwork } from '../../hardware/adapter.js';
import { transposeDense } from '../../hardware/dense-conv.js';
import { normalizeCounts } from '../../hardware/counts.js';
import { checkNetwork, type Population, type Projection, type RateActivation } from '../../hardware/network.js';
import { pcFlowEntry, pcNetworkEntry } from './options.js';
import type { PcActivationName } from './system-activations.js';
import type { PcFlow, PcNetwork, PcParams } from './system-pc.js';

export const PC_ERROR_FEEDBACK =
  'the inference step feeds each value layer the prediction error of the layer above through W_{l+1}ᵀ, gated by φ′(z_l) (error units), which rate populations cannot express; only the label-free fixed point, the feedforward pass, is a rate network';

/** φ as a rate activation of hardware/network.ts, where there is one. */
const RATE: Partial<Record<PcActivationName, RateActivation>> = { relu: 'relu', tanh: 'tanh', identity: 'linear' };

function build(request: BuildRequest): TrainedNetwork {
  const { source } = request;
  const { data } = source;
  const model = source.trained;
  if (!model) throw new SpecError('<run-folder|spec>', `${source.system.kind} needs a trained model: pass a run folder written by the pc-vs-bp job`);
  const inputSize = data.test.height * data.test.width;
  const entry = source.system.kind === 'pc-network-flow' ? pcFlowEntry : pcNetworkEntry;
  const system = entry.create(source.system, { inputSize }) as PcNetwork | PcFlow;
  if (system.time !== 'discrete') throw new SpecError('system.kind', 'the hardware meter counts the discrete inference map; use pc-network (the flow has no fixed step to count)');
  const sizes = system.options.sizes;
  const L = sizes.length - 1;
  const params: PcParams = Object.fromEntries(
    system.paramNames.map((name) => {
      const t = model.params[name];
      if (!t) throw new SpecError(`model.params.${name}`, `missing from the saved model (it has ${Object.keys(model.params).join(', ')})`);
      return [name, tf.clone(t)];
    }),
  );
  const count = Math.min(request.count, data.test.count);
  const test = toTensors(subset(data.test, 0, count), { layout: 'flat' });
  const inputs = Float32Array.from(test.x.dataSync() as Float32Array);
  const labels = Int32Array.from(test.y.dataSync() as Int32Array);
  tf.dispose([test.x, test.y]);

  const weight = (l: number) => Float32Array.from(params[`W${l}`]!.dataSync() as Float32Array);
  const name = (l: number) => (l === 0 ? 'x' : l < L ? `layer${l}` : `output${l}`);
  const hidden = RATE[system.options.activation] ?? 'linear';
  const populations: Population[] = [];
  const projections: Projection[] = [];
  for (let l = 1; l <= L; l++) {
    populations.push({ name: name(l), size: sizes[l]!, activation: l < L ? hidden : 'linear', bias: Float32Array.from(params[`b${l}`]!.dataSync() as Float32Array) });
    projections.push({ name: `W${l}`, from: name(l - 1), to: name(l), weight: weight(l), role: 'feedforward' });
    if (l < L) projections.push({ name: `W${l + 1}T`, from: name(l + 1), to: name(l), weight: transposeDense(weight(l + 1), sizes[l]!, sizes[l + 1]!), role: 'feedback' });
  }
  const rateless = RATE[system.options.activation] ? '' : `; and φ = ${system.options.activation} has no rate activation (relu, tanh and identity do)`;
  const network = checkNetwork({ family: 'predictive-coding', input: { name: 'x', size: inputSize }, populations, projections, readout: name(L), structureOnly: PC_ERROR_FEEDBACK + rateless });
  const score = (readout: Float32Array) => argmaxAccuracy(readout, labels, sizes[L]!);
  const { maxSteps: steps } = relaxationSettings(source.run);

  return {
    family: 'predictive-coding',
    network,
    documentation: { calibration: 'none (structure only: value and error units have no integrate-and-fire form)' },
    inputs,
    labels,
    count,
    measure() {
      const x = tf.tensor2d(inputs, [count, inputSize]);
      const start = performance.now();
      const solution = throwIfDiverged(simulate({ system: system as PcNetwork, params, input: { x }, maxSteps: steps, checkEvery: steps, countEvents: true }));
      const seconds = (performance.now() - start) / 1000;
      const logits = tf.tidy(() => system.readout(solution.state, { x }, params));
      const readout = Float32Array.from(logits.dataSync() as Float32Array);
      const events = solution.events!;
      const taken = solution.steps;
      tf.dispose([logits, x]);
      solution.dispose();
      const activity = { family: 'predictive-coding', inferences: count, stepsPerInference: taken, layers: normalizeCounts(events.total, 'predictive-coding.counts'), origin: `float inference without a label, ${taken} steps of the PCN's map from the forward initialisation (graded activity)` };
      return { activity, accuracy: score(readout), seconds };
    },
    score,
    dispose() {
      tf.dispose(Object.values(params));
    },
  };
}

export const pcNetworkHardware: HardwareAdapter = { kind: 'pc-network', fromSpec: false, build };
