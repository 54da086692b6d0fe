import { SpecError } from '../../base/errors.js';
import type { ContinuousSystem, DynamicalSystem } from '../system.js';
import type { TensorTree } from '../tree.js';

export function continuousOnly<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  system: DynamicalSystem<S, P, U>,
  integrator: string,
): ContinuousSystem<S, P, U> {
  if (system.time !== 'continuous') {
    throw new SpecError('integrator', `'${integrator}' needs a continuous system; ${system.kind} is a discrete map (use integrator 'map')`);
  }
  return system;
}
