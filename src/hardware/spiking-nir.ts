/**
 * The emulation's integrate-and-fire network (quantize.ts) as a NIR graph that runs the same: read in
 * discrete time with dt = 1 (one emulation step per time unit), the graph's primitives compute exactly
 * the step emulate.ts documents, spike for spike (test/export/nir-equivalence.test.ts runs the written
 * file in an interpreter built from NIR's equations and compares). Nothing the graph needs is in metadata;
 * the metadata only documents (NIR: "no backend should rely on this metadata").
 *
 * What carries what:
 * - The input encoder and every population are neurons of r = 1; the input encoder's threshold is the
 *   input's spike value S (so the graph takes the host's input unscaled and the encoding's scale is a
 *   node field); a population's threshold is its quantized θ_p.
 * - Every projection is an Affine (the first into a population, carrying its bias) or a Linear (the
 *   others), weight transposed to NIR's [out, in]; quantized weights are the integers the chip stores.
 * - The emulation hands every projection the spikes of the step before: each spiking source has one
 *   Delay node (delay 1) between its spikes and its projections, so the graph also has no cycle without
 *   a Delay (EP's feedback, LCA's lateral inhibition).
 * - Reset, as the network was built (toSpikingNetwork's `reset`):
 *   `zero`: NIR's IF (v_reset = 0, fires on v > v_threshold) is the emulation's neuron exactly;
 *   `subtract`: NIR has no subtractive reset, so a neuron is an integrator I (r = 1) whose potential
 *   feeds a Threshold θ, and the Threshold's spikes, through the source's Delay and a Scale(−θ), flow back
 *   into the integrator: v(t) = v(t−1) + d(t) − θ·z(t−1), the emulation's form.
 * - Edges into a neuron are listed projections first and the reset last, the order in which the
 *   emulation sums its inputs (it matters only for float weights, whose sums round).
 * - Signed (ternary) populations (Hopfield's tanh), with reset by subtraction only: one integrator, a
 *   Threshold θ on v and one on −v (a Scale(−1) before it); each sign has its Delay and reset (∓θ), and a
 *   projection from a signed source is a pair, W from the positive spikes and −W from the negative ones;
 *   the Output sums the positive spikes and the negated negative ones. A population that starts from its
 *   input (v(0) = f·θ·x) receives f·θ·x once, as Scale(f·θ) minus its own one-step Delay.
 * - The state bits' saturation is not expressible; the graph equals the emulation while it does not bind.
 */
import { UnmappableError } from '../export/nir-mapping.js';
import { float64 } from '../export/hdf5.js';
import { nir, type NirGraph, type NirNode, type NirValue } from '../export/nir.js';
import type { SpikingNetwork } from './quantize.js';

/** What the family's encoding means, for the graph's metadata and the command's output. */
export interface NirDocumentation {
  /** How the inputs the graph takes are made from the data (normalisation, channels, units). */
  readonly input?: string;
  /** How the readout's spikes are read (the value one spike per step stands for). */
  readonly readout?: string;
  /** Which examples calibrated thresholds, spike values and the input scale. */
  readonly calibration?: string;
}

/** The node whose output is population (or encoder) `name`'s spikes. */
export function spikeNode(network: SpikingNetwork, name: string): string {
  return network.reset === 'subtract' ? `${name}_spike` : name;
}

export function spikingNetworkToNir(network: SpikingNetwork, documentation: NirDocumentation = {}): NirGraph {
  const signed = network.populations.find((p) => p.signed);
  if (signed && network.reset === 'zero') {
    throw new UnmappableError(
      network.family,
      `population ${signed.name} uses signed (ternary) spikes to rate-code tanh, and NIR's IF only spikes upwards`,
      'Export it with --reset subtract, where a signed neuron is one integrator with two Thresholds (one per sign).',
    );
  }
  const subtract = network.reset === 'subtract';
  const isSigned = (name: string) => network.populations.find((p) => p.name === name)?.signed ?? false;
  const nodes: Record<string, NirNode> = {};
  const edges: [string, string][] = [];
  const resets: [string, string][] = [];
  const withMeta = (node: NirNode, metadata: Record<string, NirValue>): NirNode => ({ ...node, metadata });
  const neuron = (name: string, size: number, threshold: number, meta: Record<string, NirValue>, signedNeuron = false) => {
    if (signedNeuron) {
      // z = [v > θ] − [v < −θ]: a Threshold on v and one on −v; each sign resets by ∓θ one step later.
      nodes[name] = withMeta(nir.integrator(size, 1), meta);
      nodes[`${name}_spike`] = nir.threshold(size, threshold);
      nodes[`${name}_negated`] = nir.scale(size, -1);
      nodes[`${name}_spike_neg`] = nir.threshold(size, threshold);
      nodes[`${name}_delay`] = nir.delay(size, 1);
      nodes[`${name}_delay_neg`] = nir.delay(size, 1);
      nodes[`${name}_reset`] = nir.scale(size, -threshold);
      nodes[`${name}_reset_neg`] = nir.scale(size, threshold);
      edges.push([name, `${name}_spike`], [name, `${name}_negated`], [`${name}_negated`, `${name}_spike_neg`]);
      edges.push([`${name}_spike`, `${name}_delay`], [`${name}_spike_neg`, `${name}_delay_neg`], [`${name}_delay`, `${name}_reset`], [`${name}_delay_neg`, `${name}_reset_neg`]);
      resets.push([`${name}_reset`, name], [`${name}_reset_neg`, name]);
    } else if (subtract) {
      nodes[name] = withMeta(nir.integrator(size, 1), meta);
      nodes[`${name}_spike`] = nir.threshold(size, threshold);
      nodes[`${name}_delay`] = nir.delay(size, 1);
      nodes[`${name}_reset`] = nir.scale(size, -threshold);
      edges.push([name, `${name}_spike`], [`${name}_spike`, `${name}_delay`], [`${name}_delay`, `${name}_reset`]);
      resets.push([`${name}_reset`, name]);
    } else {
      nodes[name] = withMeta(nir.if(size, threshold, 1), meta);
      nodes[`${name}_delay`] = nir.delay(size, 1);
      edges.push([name, `${name}_delay`]);
    }
  };
  nodes.input = nir.input([network.inputSize]);
  edges.push(['input', network.inputName]);
  neuron(network.inputName, network.inputSize, network.inputThreshold, { role: 'input encoder', spike_value: float64([network.inputThreshold], []) });
  for (const p of network.populations) {
    neuron(p.name, p.size, p.threshold, { role: 'population', activation: p.activation, spike_value: float64([p.spikeValue], []), weight_scale: float64([p.scale], []) }, p.signed);
  }
  for (const p of network.populations) {
    if (p.initialFromInput !== undefined) {
      // v(0) = f·θ·x as a one-step pulse: f·θ·x(t) − f·θ·x(t−1) is f·θ·x at t = 1 and 0 after (constant input),
      // summed first so that later steps add exactly 0.
      const init = `${p.name}_initial`;
      nodes[init] = nir.scale(p.size, Math.fround(p.initialFromInput * p.threshold));
      nodes[`${init}_delay`] = nir.delay(p.size, 1);
      nodes[`${init}_cancel`] = nir.scale(p.size, -1);
      edges.push(['input', init], [init, p.name], [init, `${init}_delay`], [`${init}_delay`, `${init}_cancel`], [`${init}_cancel`, p.name]);
    }
    let row = 0;
    p.sources.forEach((source, k) => {
      const width = source === network.inputName ? network.inputSize : network.populations.find((q) => q.name === source)!.size;
      // Stored [in, out] row-major; NIR wants [out, in].
      const transposed = new Float32Array(p.size * width);
      for (let j = 0; j < width; j++) for (let i = 0; i < p.size; i++) transposed[i * width + j] = p.weight[(row + j) * p.size + i]!;
      row += width;
      const name = `${source}_to_${p.name}`;
      nodes[name] = k === 0 ? nir.affine(transposed, p.size, width, Float32Array.from(p.bias)) : nir.linear(transposed, p.size, width);
      edges.push([`${source}_delay`, name], [name, p.name]);
      if (isSigned(source)) {
        const negative = `${source}_neg_to_${p.name}`;
        nodes[negative] = nir.linear(transposed.map((w) => -w), p.size, width);
        edges.push([`${source}_delay_neg`, negative], [negative, p.name]);
      }
    });
    if (p.sources.length === 0) {
      // A population driven by its bias alone: an Affine with zero weights from the input carries it.
      const name = `${network.inputName}_to_${p.name}`;
      nodes[name] = nir.affine(new Float32Array(p.size * network.inputSize), p.size, network.inputSize, Float32Array.from(p.bias));
      edges.push([`${network.inputName}_delay`, name], [name, p.name]);
    }
  }
  edges.push(...resets);
  const readout = network.populations.find((p) => p.name === network.readout)!;
  nodes.output = nir.output([readout.size]);
  edges.push([spikeNode(network, readout.name), 'output']);
  if (readout.signed) {
    nodes[`${readout.name}_spike_neg_out`] = nir.scale(readout.size, -1);
    edges.push([`${readout.name}_spike_neg`, `${readout.name}_spike_neg_out`], [`${readout.name}_spike_neg_out`, 'output']);
  }
  const { weightBits, stateBits } = network.precision;
  return {
    nodes,
    edges,
    metadata: {
      producer: 'neurodyn',
      family: network.family,
      form: `spiking integrate-and-fire emulation, reset ${network.reset}`,
      time: 'discrete, dt = 1: one emulation step per time unit; each Delay is one step; neurons integrate v += r·input once per step',
      reset: subtract
        ? 'by subtraction: integrator I + Threshold, and the delayed spikes through Scale(-threshold) back into I'
        : 'to v_reset = 0 (NIR IF)',
      weights: weightBits !== undefined ? `${weightBits}-bit signed integers; a weight times its target population's weight_scale is the float model's weight in units of the source's spike value` : 'float32, unquantized (weight_scale 1)',
      state: stateBits !== undefined ? `${stateBits}-bit membrane state in the emulation: it saturates at ±${2 ** (stateBits - 1) - 1}, which NIR cannot express (the graph equals the emulation while that does not bind)` : 'unbounded',
      input_encoding: documentation.input ?? `inputs are currents added to the input encoder each step; one encoder spike per step stands for ${network.inputThreshold}`,
      readout_encoding: documentation.readout ?? `activity of ${readout.name} = (spikes over T steps / T) × ${readout.spikeValue}`,
      ...(documentation.calibration ? { calibration: documentation.calibration } : {}),
    },
  };
}
