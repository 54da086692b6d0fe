/**
 * A trained network in family-neutral form, for the hardware fit, the connection sparsity and footprint,
 * the spiking emulation and the spiking NIR export: rate populations joined by dense projections.
 *
 * Semantics (the rate model the emulation approximates): with a_in = x and, for every population p,
 *
 *   a_p = f_p( Σ_{q → p} a_q W_qp + b_p )
 *
 * where W_qp is stored [size_q, size_p] row-major (a row vector times W, the convention of the systems),
 * and f_p is `hard-sigmoid` clip(z, 0, 1), `relu` max(0, z), `tanh` tanh(gain · z), or `linear` z. A
 * `max-pool` population takes no sum: a_p[j] = max over its sources i with W_qp[i, j] ≠ 0 of a_q[i] W_qp[i, j]
 * (weights 1 mark each pooling window). Recurrent, feedback and lateral projections are allowed (EP's
 * symmetric feedback, LCA's inhibition, Hopfield's W): the description is of the fixed point a relaxation
 * reaches, not of a feedforward pass.
 *
 * Convolutions are expanded into dense projections (hardware/dense-conv.ts): what a chip without weight
 * sharing stores and what fan-in and fan-out it must route. `storedWeights` says how many distinct
 * parameters a projection really has (a k×k×C×K kernel, or none for a fixed pooling window), for the
 * footprint. A network whose dynamics these semantics do not capture (EP's feedback routed to each
 * pooling window's maximum, a state-dependent gate) says so in `structureOnly`: it is then a description of
 * neurons and synapses for the fit and the cost, and the spiking emulation refuses it with that reason.
 */
import { SpecError } from '../base/errors.js';

export type RateActivation = 'hard-sigmoid' | 'relu' | 'tanh' | 'linear' | 'max-pool';

export interface Population {
  readonly name: string;
  readonly size: number;
  readonly activation: RateActivation;
  /** Slope of tanh at 0 (only for `tanh`). */
  readonly gain?: number;
  readonly bias?: Float32Array;
  /**
   * The activity one spike per step stands for in the rate code (default 1). Bounded activations use
   * their bound; for `relu` the family adapter calibrates it from the float model's activity.
   */
  readonly maxActivity?: number;
  /**
   * Families whose relaxation starts from the input rather than being driven by it (Hopfield with no cue
   * current): the initial activity is this factor times the input (same size as the population).
   */
  readonly initialFromInput?: number;
}

export interface Projection {
  readonly name: string;
  /** A population name or the input's name. */
  readonly from: string;
  readonly to: string;
  /** [size_from, size_to], row-major. */
  readonly weight: Float32Array;
  /** Informative: how the family uses it. */
  readonly role: 'feedforward' | 'feedback' | 'lateral' | 'recurrent' | 'input';
  /** Distinct parameters behind `weight` (a shared convolution kernel; 0 for a fixed pooling window); default its length. */
  readonly storedWeights?: number;
}

export interface LayeredNetwork {
  readonly family: string;
  /**
   * `spikeValue`: the input value one encoder spike per step stands for (default 1: inputs in [0, 1]); the
   * encoder's threshold, so an input x is rate-coded at x / spikeValue spikes per step (saturating at 1).
   */
  readonly input: { readonly name: string; readonly size: number; readonly spikeValue?: number };
  readonly populations: readonly Population[];
  readonly projections: readonly Projection[];
  /** The population whose activity is the prediction (argmax) or the recalled pattern. */
  readonly readout: string;
  /** Why the rate semantics above do not capture this network's dynamics, if they do not (see the file's comment). */
  readonly structureOnly?: string;
}

/** Size of a population or of the input, by name. */
export function sizeOf(network: LayeredNetwork, name: string): number {
  if (name === network.input.name) return network.input.size;
  const p = network.populations.find((q) => q.name === name);
  if (!p) throw new SpecError(`network.${network.family}`, `no population or input named ${JSON.stringify(name)}`);
  return p.size;
}

/** Checks names and array lengths; a family adapter calls it on what it builds. */
export function checkNetwork(network: LayeredNetwork): LayeredNetwork {
  const names = new Set([network.input.name]);
  for (const p of network.populations) {
    if (names.has(p.name)) throw new SpecError(`network.populations.${p.name}`, 'duplicate name');
    names.add(p.name);
    if (p.bias && p.bias.length !== p.size) throw new SpecError(`network.populations.${p.name}.bias`, `has ${p.bias.length} values for ${p.size} neurons`);
  }
  for (const j of network.projections) {
    const expected = sizeOf(network, j.from) * sizeOf(network, j.to);
    if (j.weight.length !== expected) throw new SpecError(`network.projections.${j.name}.weight`, `has ${j.weight.length} values, expected ${sizeOf(network, j.from)}x${sizeOf(network, j.to)}`);
    if (j.to === network.input.name) throw new SpecError(`network.projections.${j.name}.to`, 'the input cannot receive a projection');
  }
  if (!network.populations.some((p) => p.name === network.readout)) throw new SpecError('network.readout', `${JSON.stringify(network.readout)} is not a population`);
  return network;
}

/** True if some projection closes a loop (lateral, feedback or recurrent connections). */
export function isRecurrent(network: LayeredNetwork): boolean {
  const next = new Map<string, string[]>();
  for (const j of network.projections) next.set(j.from, [...(next.get(j.from) ?? []), j.to]);
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string): boolean => {
    if (state.get(n) === 'open') return true;
    if (state.get(n) === 'done') return false;
    state.set(n, 'open');
    const cyclic = (next.get(n) ?? []).some(visit);
    state.set(n, 'done');
    return cyclic;
  };
  return [network.input.name, ...network.populations.map((p) => p.name)].some(visit);
}

export interface PopulationStructure {
  readonly name: string;
  readonly neurons: number;
  /** Weight entries of the projections into this population, and how many are zero. */
  readonly synapses: number;
  readonly zeroSynapses: number;
  /** Largest number of nonzero incoming weights of one neuron. */
  readonly maxFanIn: number;
}

export interface NetworkStructure {
  readonly populations: readonly PopulationStructure[];
  readonly neurons: number;
  readonly synapses: number;
  readonly zeroSynapses: number;
  /** Largest number of nonzero outgoing weights of one neuron (input included). */
  readonly maxFanOut: number;
  readonly recurrent: boolean;
  /** NeuroBench footprint: bytes of parameters (stored weights and biases, zeros included) at float32. */
  readonly footprintBytes: number;
}

/** Static structure: what the fit and NeuroBench's connection sparsity and footprint need. */
export function structureOf(network: LayeredNetwork): NetworkStructure {
  const fanOut = new Map<string, Int32Array>();
  for (const name of [network.input.name, ...network.populations.map((p) => p.name)]) fanOut.set(name, new Int32Array(sizeOf(network, name)));
  let parameters = 0;
  const populations = network.populations.map((p) => {
    const fanIn = new Int32Array(p.size);
    let synapses = 0;
    let zeros = 0;
    for (const j of network.projections.filter((q) => q.to === p.name)) {
      const rows = sizeOf(network, j.from);
      const out = fanOut.get(j.from)!;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < p.size; c++) {
          if (j.weight[r * p.size + c] !== 0) {
            fanIn[c]!++;
            out[r]!++;
          } else zeros++;
        }
      }
      synapses += j.weight.length;
      parameters += j.storedWeights ?? j.weight.length;
    }
    parameters += p.bias?.length ?? 0;
    return { name: p.name, neurons: p.size, synapses, zeroSynapses: zeros, maxFanIn: fanIn.reduce((a, b) => Math.max(a, b), 0) };
  });
  let maxFanOut = 0;
  for (const counts of fanOut.values()) maxFanOut = counts.reduce((a, b) => Math.max(a, b), maxFanOut);
  return {
    populations,
    neurons: populations.reduce((a, p) => a + p.neurons, 0),
    synapses: populations.reduce((a, p) => a + p.synapses, 0),
    zeroSynapses: populations.reduce((a, p) => a + p.zeroSynapses, 0),
    maxFanOut,
    recurrent: isRecurrent(network),
    footprintBytes: 4 * parameters,
  };
}
