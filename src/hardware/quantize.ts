/**
 * From a rate network (network.ts) to the integer integrate-and-fire network the spiking emulation runs,
 * quantized to a profile's weight and state bits.
 *
 * Rate code (the ANN-to-SNN conversion of Diehl et al. 2015 and Rueckauer et al. 2017, "Conversion of
 * continuous-valued deep networks to efficient event-driven networks", Front. Neurosci. 11:682, with reset
 * by subtraction): an integrate-and-fire neuron with threshold θ driven by a constant current z fires at
 * rate r → clip(z/θ, 0, 1) spikes per step, so with θ = A (the activity one spike per step stands for) its
 * activity r·A equals clip(z, 0, A): the hard sigmoid for A = 1, a ReLU capped at A. A spike of
 * population q stands for activity A_q, so the weight it carries is W_qp·A_q; the input encoder's
 * threshold is the input's spike value S (network.input.spikeValue), and the projections out of the input
 * carry S. `tanh` populations use signed neurons (a spike of −1 when v < −θ, reset by adding θ): rate
 * clip(g·z, −1, 1), the piecewise-linear stand-in for tanh(g·z), with the gain g folded into the weights.
 * Neurons fire on v > θ, NIR's convention (nir/ir/neuron.py, IF and LIF).
 *
 * Reset (`reset`): `subtract` (default) keeps the residual v − θ, so the rate converges as 1/T; `zero`
 * is NIR's IF reset to v_reset = 0 (it loses the residual at each spike: rates are biased low, most for
 * thresholds of a few input quanta), and exists so that a graph of plain IF nodes is the network priced.
 *
 * Quantization, per target population p (one weight exponent per core, as Loihi shares one per synapse
 * group): σ_p = max(|w'|, |b'|) / (2^(bits_w − 1) − 1); integer weights round(w'/σ_p), bias round(b'/σ_p),
 * threshold round(θ_p/σ_p); the membrane potential saturates at ±(2^(bits_s − 1) − 1). All arithmetic is
 * on integers held in float32, exact while sums stay below 2^24 (true for ≤ 9-bit weights and fan-ins
 * below about 30,000).
 */
import { SpecError } from '../base/errors.js';
import { sizeOf, type LayeredNetwork, type RateActivation } from './network.js';

export interface Precision {
  /** Weight bits including the sign; undefined: float weights (no quantization). */
  readonly weightBits?: number;
  /** Membrane state bits including the sign; undefined: no saturation. */
  readonly stateBits?: number;
}

export interface SpikingPopulation {
  readonly name: string;
  readonly size: number;
  readonly signed: boolean;
  readonly threshold: number;
  readonly bias: Float32Array;
  /** Saturation of the membrane potential (Infinity: none). */
  readonly stateLimit: number;
  /** Activity one spike stands for (to read rates back as activity). */
  readonly spikeValue: number;
  /** Initial membrane potential as a multiple of the threshold times the input, if the family starts from the input. */
  readonly initialFromInput?: number;
  /** Incoming projections, stacked: sources in order and the [Σ sizes, size] weight matrix. */
  readonly sources: readonly string[];
  readonly weight: Float32Array;
  /** Nonzero weights of each stacked row (a source neuron's fan-out into this population). */
  readonly rowFanOut: Int32Array;
  readonly fanIn: number;
  readonly scale: number;
  readonly activation: RateActivation;
}

/** What a neuron does after a spike: subtract its threshold, or go to 0 (NIR IF/LIF with v_reset = 0). */
export type ResetMode = 'subtract' | 'zero';
export const RESET_MODES: readonly ResetMode[] = ['subtract', 'zero'];

/** The reset a `--reset` option names (default subtract); anything else is a SpecError naming what is allowed. */
export function parseReset(text: string | undefined): ResetMode {
  const reset = text ?? 'subtract';
  if (!(RESET_MODES as readonly string[]).includes(reset)) throw new SpecError('--reset', `must be one of ${RESET_MODES.join(', ')}, got ${JSON.stringify(text)}`);
  return reset as ResetMode;
}

export interface SpikingNetwork {
  readonly family: string;
  readonly inputName: string;
  readonly inputSize: number;
  /** The input encoder's threshold: the input value one spike per step stands for (S). */
  readonly inputThreshold: number;
  readonly reset: ResetMode;
  readonly populations: readonly SpikingPopulation[];
  readonly readout: string;
  readonly precision: Precision;
}

function checkBits(bits: number | undefined, what: string): void {
  if (bits !== undefined && !(Number.isInteger(bits) && bits >= 2 && bits <= 32)) throw new SpecError(what, `must be an integer from 2 to 32, got ${bits}`);
}

export function toSpikingNetwork(network: LayeredNetwork, precision: Precision = {}, reset: ResetMode = 'subtract'): SpikingNetwork {
  if (!RESET_MODES.includes(reset)) throw new SpecError('reset', `must be one of ${RESET_MODES.join(', ')}, got ${JSON.stringify(reset)}`);
  checkBits(precision.weightBits, 'precision.weightBits');
  checkBits(precision.stateBits, 'precision.stateBits');
  if (network.structureOnly) throw new SpecError(`network.${network.family}`, `has no spiking form: ${network.structureOnly}`);
  for (const p of network.populations) {
    if (p.activation === 'max-pool') throw new SpecError(`network.populations.${p.name}`, 'is a max-pool: an integrate-and-fire neuron sums its weighted input spikes, so the emulation cannot take the maximum of a window');
    if (p.activation === 'linear') throw new SpecError(`network.populations.${p.name}`, 'is linear (unbounded and signed): the rate code represents only clipped activities');
  }
  // Thresholds are float32 numbers, the precision the engines compare in and the NIR file stores exactly.
  const inputThreshold = Math.fround(network.input.spikeValue ?? 1);
  if (!(inputThreshold > 0 && Number.isFinite(inputThreshold))) throw new SpecError(`network.input.spikeValue`, `must be a positive number, got ${inputThreshold}`);
  const spikeValue = new Map<string, number>([[network.input.name, inputThreshold]]);
  for (const p of network.populations) {
    const a = p.maxActivity ?? 1;
    if (!(a > 0)) throw new SpecError(`network.populations.${p.name}.maxActivity`, `must be positive, got ${a}`);
    spikeValue.set(p.name, a);
  }
  const populations = network.populations.map((p): SpikingPopulation => {
    const incoming = network.projections.filter((j) => j.to === p.name);
    const gain = p.activation === 'tanh' ? (p.gain ?? 1) : 1;
    const theta = p.activation === 'tanh' ? 1 : spikeValue.get(p.name)!;
    const fanIn = incoming.reduce((a, j) => a + sizeOf(network, j.from), 0);
    const weight = new Float32Array(fanIn * p.size);
    let offset = 0;
    for (const j of incoming) {
      const factor = spikeValue.get(j.from)! * gain;
      for (let k = 0; k < j.weight.length; k++) weight[offset + k] = j.weight[k]! * factor;
      offset += j.weight.length;
    }
    const bias = new Float32Array(p.size);
    if (p.bias) for (let i = 0; i < p.size; i++) bias[i] = p.bias[i]! * gain;
    let scale = 1;
    let threshold = theta;
    let stateLimit = Number.POSITIVE_INFINITY;
    if (precision.weightBits !== undefined) {
      let largest = 0;
      for (const w of weight) largest = Math.max(largest, Math.abs(w));
      for (const b of bias) largest = Math.max(largest, Math.abs(b));
      scale = largest > 0 ? largest / (2 ** (precision.weightBits - 1) - 1) : 1;
      for (let k = 0; k < weight.length; k++) weight[k] = Math.round(weight[k]! / scale);
      for (let i = 0; i < bias.length; i++) bias[i] = Math.round(bias[i]! / scale);
      threshold = Math.max(1, Math.round(theta / scale));
    }
    if (precision.stateBits !== undefined) {
      stateLimit = 2 ** (precision.stateBits - 1) - 1;
      if (threshold > stateLimit) {
        throw new SpecError('precision.stateBits', `${precision.stateBits} state bits hold at most ${stateLimit}, below the threshold ${threshold} that population ${p.name} needs at ${precision.weightBits} weight bits`);
      }
    }
    const rowFanOut = new Int32Array(fanIn);
    for (let r = 0; r < fanIn; r++) for (let c = 0; c < p.size; c++) if (weight[r * p.size + c] !== 0) rowFanOut[r]!++;
    return {
      name: p.name,
      size: p.size,
      signed: p.activation === 'tanh',
      threshold: Math.fround(threshold),
      bias,
      stateLimit,
      spikeValue: spikeValue.get(p.name)!,
      ...(p.initialFromInput !== undefined ? { initialFromInput: p.initialFromInput } : {}),
      sources: incoming.map((j) => j.from),
      weight,
      rowFanOut,
      fanIn,
      scale,
      activation: p.activation,
    };
  });
  return { family: network.family, inputName: network.input.name, inputSize: network.input.size, inputThreshold, reset, populations, readout: network.readout, precision };
}
