/**
 * An integrator says how one step of a system is taken; `simulate` says how many and what to record.
 * Integrators are pure: they return the new state and never keep or dispose tensors.
 */
import type { DynamicalSystem } from '../system.js';
import type { TensorTree } from '../tree.js';

export interface Integrator {
  readonly name: string;
  /** Which systems it accepts. */
  readonly accepts: 'discrete' | 'continuous';
  /** Global order of accuracy, checked by the shared convergence-order test (0 for the discrete map). */
  readonly order: number;
  step<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
    system: DynamicalSystem<S, P, U>,
    t: number,
    dt: number,
    state: S,
    input: U,
    params: P,
    k: number,
  ): S;
}
