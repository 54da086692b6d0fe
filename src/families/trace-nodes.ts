/**
 * Which node of a system's NIR graph a recorded variable belongs to, for NIRData (NIR's spec keys recorded
 * activity by the graph's node names). The graphs neurodyn writes for these systems are the spiking form
 * (hardware/spiking-nir.ts), whose population nodes take the names of the family's hardware network
 * (equilibrium-prop/hardware.ts, lca/hardware.ts); the float relaxation a probe records is the rate those
 * populations stand for, so a state variable is recorded under its population's node as `rate`, and LCA's
 * membrane u under node `a` as `v`.
 *
 * Quantities of the whole network (the energy, derived scalars) are no node's activity: they have no
 * NIRData key and stay in traces.npz. Systems without a NIR graph (Hopfield's tanh units, the convolutional
 * and max-pool systems, predictive coding, CNN-F) have no node to key anything by.
 */
export interface TraceNode {
  /** Node name in the exported NIR graph. */
  readonly node: string;
  /** Observable name under that node: 'rate' (activity), 'v' (membrane), 'readout'. */
  readonly observable: string;
}

/** Systems whose NIR graph exists (the spiking form), and how their variables map onto its nodes. */
const MAPPINGS: Readonly<Record<string, (variable: string, system: Readonly<Record<string, unknown>>) => TraceNode | string>> = {
  'equilibrium-prop': (variable, system) => {
    const layers = (system.layers as number[] | undefined) ?? [];
    const N = layers.length;
    const free = system.output === 'softmax-ce' ? N - 1 : N;
    const match = /^layers\.(\d+)$/.exec(variable);
    if (match) {
      const i = Number(match[1]);
      if (i < free) return { node: `layer${i + 1}`, observable: 'rate' };
    }
    if (variable === 'readout') return { node: free === N ? `layer${N}` : `readout${N}`, observable: 'readout' };
    return `${variable} is a quantity of the whole network, not the activity of one graph node`;
  },
  lca: (variable) => {
    if (variable === 'a' || variable === 'readout') return { node: 'a', observable: variable === 'a' ? 'rate' : 'readout' };
    if (variable === 'u') return { node: 'a', observable: 'v' };
    return `${variable} is a quantity of the whole network, not the activity of one graph node`;
  },
};

/** Whether `kind` has a NIR graph to key traces by. */
export function hasTraceNodes(kind: string): boolean {
  return MAPPINGS[kind] !== undefined;
}

/** The node of `variable`, or why it has none. */
export function traceNode(system: { readonly kind: string } & Readonly<Record<string, unknown>>, variable: string): TraceNode | string {
  const mapping = MAPPINGS[system.kind];
  if (!mapping) return `${system.kind} has no NIR graph`;
  return mapping(variable, system);
}
