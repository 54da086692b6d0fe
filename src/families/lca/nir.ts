/**
 * LCA's rate form in NIR: u is an LI node fed by Affine(Φᵀ) and Linear(−(ΦᵀΦ − I)), but the soft
 * threshold a = T_λ(u) has no primitive (NIR's Threshold is a Heaviside spike, not a shrinkage).
 */
import { SPIKING_FORM_HINT, UnmappableError, type NirMapper } from '../../export/nir-mapping.js';

const shrinkage = "the soft threshold a = T_λ(u) has no NIR primitive (NIR's Threshold is a Heaviside spike, not a shrinkage)";

export const lcaNir: NirMapper = () => {
  throw new UnmappableError('lca', shrinkage, SPIKING_FORM_HINT);
};

export const lcaConvNir: NirMapper = () => {
  throw new UnmappableError(
    'lca-conv',
    `${shrinkage}, and the LCANet's head is a trained CNN outside the relaxation`,
    'Its spiking emulation is not implemented for convolutional dictionaries either; the fully connected lca system exports in spiking form.',
  );
};
