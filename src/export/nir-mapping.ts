/**
 * How each family maps onto NIR primitives, and the error for what cannot be mapped.
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
 *   emulation adapter: the input encoder and every population become IF nodes (r = 1, v_threshold = θ,
 *   v_reset = 0, dt = 1 in metadata), every projection a Linear node (weight transposed to [out, in]), the
 *   first projection into a population an Affine carrying its bias, edges source → projection →
 *   population (recurrent and lateral edges included), and an Output after the readout. Two deviations
 *   are stated in the graph's metadata: NIR's IF resets to v_reset while the emulation resets by
 *   subtraction, and signed (ternary) neurons have no NIR primitive, so tanh populations cannot be exported.
 */
import { createRegistry } from '../core/registry.js';
import { NeurodynError } from '../base/errors.js';
import type { SpikingNetwork } from '../hardware/quantize.js';
import { float32 } from './hdf5.js';
import { nir, type NirGraph, type NirNode } from './nir.js';

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

const spikingHint = 'Export the spiking form instead (neurodyn export --format nir --as spiking), which maps the integrate-and-fire emulation of the network onto IF and Affine/Linear nodes.';
nirMappers.register('hopfield', () => {
  throw new UnmappableError(
    'hopfield',
    'the graded output V = tanh(gain·u) has no NIR primitive (NIR neurons are LI, LIF, IF, I, CubaLIF and the Heaviside Threshold)',
    'Its spiking form cannot be exported either: rate-coding a signed tanh needs ternary spikes, which NIR\'s IF does not have.',
  );
});
nirMappers.register('lca', () => {
  throw new UnmappableError('lca', 'the soft threshold a = T_λ(u) has no NIR primitive (NIR\'s Threshold is a Heaviside spike, not a shrinkage)', spikingHint);
});
nirMappers.register('equilibrium-prop', () => {
  throw new UnmappableError('equilibrium-prop', 'the hard sigmoid clip(s, 0, 1) has no NIR primitive, and the nudged phase is not a graph at all', spikingHint);
});

/** The emulation's integrate-and-fire network as a NIR graph (see the module comment). */
export function spikingNetworkToNir(network: SpikingNetwork): NirGraph {
  const signed = network.populations.find((p) => p.signed);
  if (signed) {
    throw new UnmappableError(
      network.family,
      `population ${signed.name} uses signed (ternary) spikes to rate-code tanh, and NIR's IF neuron only spikes upwards`,
      'A pair of IF populations (one per sign) would be needed; this is not implemented.',
    );
  }
  const nodes: Record<string, NirNode> = {};
  const edges: [string, string][] = [];
  nodes.input = nir.input([network.inputSize]);
  const encoder = network.inputName;
  nodes[encoder] = nir.if(network.inputSize, 1);
  edges.push(['input', encoder]);
  for (const p of network.populations) {
    nodes[p.name] = nir.if(p.size, p.threshold);
    let row = 0;
    p.sources.forEach((source, k) => {
      const width = source === network.inputName ? network.inputSize : network.populations.find((q) => q.name === source)!.size;
      // Stored [in, out] row-major; NIR wants [out, in].
      const transposed = new Float32Array(p.size * width);
      for (let j = 0; j < width; j++) for (let i = 0; i < p.size; i++) transposed[i * width + j] = p.weight[(row + j) * p.size + i]!;
      row += width;
      const name = `${source}_to_${p.name}`;
      nodes[name] = k === 0 ? nir.affine(transposed, p.size, width, Float32Array.from(p.bias)) : nir.linear(transposed, p.size, width);
      edges.push([source, name], [name, p.name]);
    });
  }
  const readout = network.populations.find((p) => p.name === network.readout)!;
  nodes.output = nir.output([readout.size]);
  edges.push([readout.name, 'output']);
  return {
    nodes,
    edges,
    metadata: {
      producer: 'neurodyn',
      family: network.family,
      form: 'spiking integrate-and-fire emulation',
      dt: float32([1], []),
      weight_bits: float32([network.precision.weightBits ?? 0], []),
      state_bits: float32([network.precision.stateBits ?? 0], []),
      reset: 'the emulation resets by subtracting the threshold; NIR IF resets to v_reset = 0',
    },
  };
}
