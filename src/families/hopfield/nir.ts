/** Hopfield's rate form in NIR: u is an LI node, but the graded output V = tanh(g·u) has no primitive. */
import { UnmappableError, type NirMapper } from '../../export/nir-mapping.js';

export const hopfieldNir: NirMapper = () => {
  throw new UnmappableError(
    'hopfield',
    'the graded output V = tanh(gain·u) has no NIR primitive (NIR neurons are LI, LIF, IF, I, CubaLIF and the Heaviside Threshold)',
    'Export the spiking form instead (neurodyn export --format nir --as spiking, with the default --reset subtract): each signed unit is an integrator with one Threshold per sign.',
  );
};
