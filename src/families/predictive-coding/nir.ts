/**
 * Predictive coding in NIR: nothing is expressible, for reasons that differ by system.
 *
 * - pc-network / pc-network-flow: the label-free prediction is the feedforward pass u_l = φ(u_{l−1}) W_l + b_l,
 *   which would be an Affine chain with φ between its nodes; but NIR 1.0 has no rate activation node (tanh,
 *   sigmoid, ReLU, GELU: its only nonlinearity is the Heaviside Threshold of a spike), and the inference
 *   dynamics need error units e_l = z_l − u_l gated by φ′(z_l), which no NIR node is either. The spiking
 *   form is refused as well (hardware-pc.ts, structureOnly).
 * - predify: its step needs ReLU, max-pool (NIR has SumPool2d only), transposed convolutions and the
 *   gradient of a reconstruction error; its hardware network is structure-only too.
 */
import { UnmappableError, type NirMapper } from '../../export/nir-mapping.js';

const WEIGHTS_HINT = 'Export the trained weights with --format npz (or hdf5) and rebuild the network from them.';

export const PC_NIR_REASON =
  "NIR 1.0 has no rate activation node for φ (tanh, sigmoid, ReLU, GELU; its only nonlinearity is the spike's Heaviside Threshold), so even the label-free feedforward pass, an Affine chain with φ between, is not expressible; and the inference step's error units e_l = z_l − u_l, gated by φ′(z_l), have no NIR node";

export const PREDIFY_NIR_REASON =
  'NIR 1.0 has Conv2d and SumPool2d but no ReLU, no max-pool, no transposed convolution and no node for the gradient of a reconstruction error, all of which each Predify step needs';

export const pcNetworkNir: NirMapper = () => {
  throw new UnmappableError('pc-network', PC_NIR_REASON, WEIGHTS_HINT);
};

export const predifyNir: NirMapper = () => {
  throw new UnmappableError('predify', PREDIFY_NIR_REASON, WEIGHTS_HINT);
};
