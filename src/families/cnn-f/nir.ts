/**
 * CNN-F and NIR. NIR's primitives (Affine, Linear, Conv1d/2d, SumPool2d/AvgPool2d, Flatten, Scale, Delay,
 * and the neurons LI, LIF, CubaLIF, IF, I, Threshold) describe static graphs of linear maps and neurons.
 * CNN-F's nonlinearities are neither: AdaReLU passes a unit where its input agrees in sign with a feedback
 * signal stored by the previous cycle, and AdaPool picks max- or min-pooling per unit by that signal's
 * sign. Not even the first pass maps (NIR has no ReLU and no max-pool), so the mapper refuses, naming what
 * to use instead.
 */
import { UnmappableError, type NirMapper } from '../../export/nir-mapping.js';

export const cnnfNirMapper: NirMapper = () => {
  throw new UnmappableError(
    'cnn-f',
    'AdaReLU (a ReLU gated by the sign agreement of its input with the feedback stored by the previous cycle) and AdaPool (max- or min-pooling chosen per unit by that feedback\'s sign) have no NIR primitive, and neither has the first pass\'s ReLU and max-pool',
    'Export the trained tensors instead with `neurodyn export <run-folder> --format npz` (each conv and linear weight is the one tensor used forward and, transposed, for the feedback); price the network on neuromorphic profiles with `neurodyn energy`.',
  );
};
