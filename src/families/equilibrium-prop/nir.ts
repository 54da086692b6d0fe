/**
 * EP's rate form in NIR: the hard sigmoid clip(s, 0, 1) has no primitive, and the nudged phase
 * (β·∂C/∂s) is no part of a feed-forward graph at all: only the free phase could ever be exported.
 */
import { SPIKING_FORM_HINT, UnmappableError, type NirMapper } from '../../export/nir-mapping.js';

const clip = 'the hard sigmoid clip(s, 0, 1) has no NIR primitive, and the nudged phase is not a graph at all';

export const equilibriumPropNir: NirMapper = () => {
  throw new UnmappableError('equilibrium-prop', clip, SPIKING_FORM_HINT);
};

export const equilibriumPropConvNir: NirMapper = () => {
  throw new UnmappableError(
    'equilibrium-prop-conv',
    `${clip}; the max-pool routing of the P_CNN has no NIR primitive either (NIR has SumPool2d and AvgPool2d only)`,
    'Its spiking emulation is not implemented; the fully connected equilibrium-prop system exports in spiking form.',
  );
};
