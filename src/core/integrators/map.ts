/** The discrete map s_{k+1} = F(s_k): the system's own step (LCA, EP's synchronous updates, Predify). */
import { SpecError } from '../../base/errors.js';
import type { Integrator } from './integrator.js';

export const map: Integrator = Object.freeze({
  name: 'map',
  accepts: 'discrete',
  order: 0,
  step(system, _t, _dt, state, input, params, k) {
    if (system.time !== 'discrete') throw new SpecError('integrator', `'map' needs a discrete system; ${system.kind} is continuous (use euler, exponential-euler or rk4)`);
    return system.step(state, input, params, k);
  },
} satisfies Integrator);
