/**
 * The seam between a family and the NIR writer: a family's rate-form mapper (registered through
 * registerFamily) and the error for what NIR cannot express. The spiking form lives in
 * hardware/spiking-nir.ts, beside the emulation it exports.
 *
 * How each family maps onto NIR primitives:
 *
 * Two forms can be exported:
 * - `rate`: the family's own float dynamics. Registered per family in `nirMappers`; a family whose
 *   nonlinearity has no NIR primitive registers a mapper that throws UnmappableError naming it:
 *     hopfield   τ du/dt = −u + W tanh(g·u) + b: u is an LI node, but V = tanh(g·u) has no primitive;
 *     lca        u is an LI node fed by Affine(Φᵀ) and Linear(−(ΦᵀΦ − I)); the soft threshold a = T_λ(u) has
 *                no primitive (NIR's Threshold is a Heaviside spike);
 *     equilibrium-prop  the hard sigmoid clip(s, 0, 1) has no primitive, and the nudged phase (β·∂C/∂s)
 *                is no part of a feedforward graph at all: only the free phase could ever be exported.
 * - `spiking`: the integrate-and-fire network the emulation runs (quantize.ts), for every family with an
 *   emulation adapter, written by hardware/spiking-nir.ts so that NIR's own equations, read in discrete
 *   time with dt = 1, give the emulation's spikes exactly: one Delay per spiking source (the emulation's
 *   one-step synaptic delay), reset by subtraction as an integrator I + Threshold with a Delay → Scale(−θ)
 *   loop (`--reset subtract`, the default) or reset to zero as a plain IF (`--reset zero`), the input scale
 *   as the input encoder's threshold. The README's NIR section lists which tools import which form.
 */
import { createRegistry } from '../core/registry.js';
import { NeurodynError } from '../base/errors.js';
import type { NirGraph } from './nir.js';

/** A part of a network that no NIR primitive expresses; the message names it. */
export class UnmappableError extends NeurodynError {
  override readonly exitCode = 2;
  constructor(
    readonly family: string,
    readonly part: string,
    readonly hint: string,
  ) {
    super(`cannot export ${family} to NIR: ${part}. ${hint}`);
  }
}

/** The rate-form mapper of a family: its trained parameters (as saved by the model store) → a NIR graph. */
export type NirMapper = (params: Readonly<Record<string, { data: Float32Array; shape: readonly number[] }>>, options: Readonly<Record<string, unknown>>) => NirGraph;

export const nirMappers = createRegistry<NirMapper>('NIR mapper');


/** The alternative to name when a family's rate form cannot be exported but its spiking emulation can. */
export const SPIKING_FORM_HINT =
  'Export the spiking form instead (neurodyn export --format nir --as spiking), which maps the integrate-and-fire emulation of the network onto IF and Affine/Linear nodes.';
