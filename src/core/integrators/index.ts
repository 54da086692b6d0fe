/**
 * The integrator registry. Adding one: a file here exporting a frozen `Integrator`, a `register` line
 * below, and nothing else: the shared convergence-order test (test/core/integrators.test.ts) enrols every
 * registered continuous integrator.
 */
import { createRegistry } from '../registry.js';
import { euler } from './euler.js';
import { exponentialEuler } from './exponential-euler.js';
import type { Integrator } from './integrator.js';
import { map } from './map.js';
import { rk4 } from './rk4.js';

export type { Integrator } from './integrator.js';
export const integrators = createRegistry<Integrator>('integrator');
for (const integrator of [map, euler, exponentialEuler, rk4]) integrators.register(integrator.name, integrator);
export { euler, exponentialEuler, map, rk4 };
