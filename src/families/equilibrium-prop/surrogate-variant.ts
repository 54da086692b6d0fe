/**
 * The same network with another clip derivative: the forward dynamics (every state, energy and readout)
 * is unchanged, only the gradient through ρ's clips differs (system-straight-through.ts). Used by the
 * BPTT baseline's straight-through surrogate and by attacks that need BPDA.
 */
import type { EquilibriumNetwork } from './system.js';
import { equilibriumProp, type EquilibriumPropSystem } from './system.js';
import { equilibriumPropConv, type EquilibriumPropConvSystem } from './system-conv.js';
import type { SurrogateGradient } from './system-straight-through.js';

export function withSurrogateGradient(network: EquilibriumNetwork<any, any>, surrogateGradient: SurrogateGradient): EquilibriumNetwork<any, any> {
  if (network.layout === 'flat') return equilibriumProp({ ...(network as EquilibriumPropSystem).options, surrogateGradient });
  return equilibriumPropConv({ ...(network as EquilibriumPropConvSystem).options, surrogateGradient });
}
