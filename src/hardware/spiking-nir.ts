/**
 * The emulation's integrate-and-fire network as a NIR graph: the input encoder and every population become
 * IF nodes (r = 1, v_threshold = θ, v_reset = 0, dt = 1 in metadata), every projection a Linear node (weight
 * transposed to [out, in]), the first projection into a population an Affine carrying its bias, edges
 * source → projection → population (recurrent and lateral edges included), and an Output after the
 * readout. Two deviations are stated in the graph's metadata: NIR's IF resets to v_reset while the
 * emulation resets by subtraction, and signed (ternary) neurons have no NIR primitive, so tanh populations
 * cannot be exported.
 */
import { UnmappableError } from '../export/nir-mapping.js';
import { float32 } from '../export/hdf5.js';
import { nir, type NirGraph, type NirNode } from '../export/nir.js';
import type { SpikingNetwork } from './quantize.js';

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
