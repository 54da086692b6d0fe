/**
 * Activity counts with NeuroBench's definitions (Yik et al., Nature Communications 2025, "NeuroBench:
 * a framework for benchmarking neuromorphic computing algorithms and systems"; metric definitions in the
 * NeuroBench/neurobench docs): per layer, summed over the steps of every recorded inference.
 *
 * - `dense_macs`: synaptic operations with every activation and weight counted (Dense SynOps);
 * - `effective_macs`: nonzero graded (multi-bit) activations × their nonzero outgoing weights (Eff_MACs);
 * - `effective_acs`: binary spikes × their nonzero outgoing weights, accumulates only (Eff_ACs);
 * - `graded_events`: nonzero graded activations sent; `spikes`: binary spikes sent;
 * - `graded_synaptic_ops`: what an event-driven chip does for the graded events when the family computes
 *   another form on the host (LCA's lateral form); defaults to `effective_macs`;
 * - `neuron_updates`: neuron state updates; `activations` / `zero_activations`: for activation sparsity.
 *
 * The counts come from what a run did: the systems' `counts(previous, next)` read the activity of each
 * step (see core/system.ts), simulate() sums them, and `normalizeCounts` maps the systems' names onto
 * these (`macs` → `dense_macs`, `events` → `graded_events`, `synaptic_ops` → `graded_synaptic_ops`).
 */
import { SpecError } from '../base/errors.js';
import type { NetworkStructure } from './network.js';

export const COUNTERS = [
  'dense_macs',
  'effective_macs',
  'effective_acs',
  'graded_events',
  'graded_synaptic_ops',
  'spikes',
  'neuron_updates',
  'activations',
  'zero_activations',
  'learning_updates',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type LayerCounts = Readonly<Record<Counter, number>>;

const ALIASES: Readonly<Record<string, Counter>> = { macs: 'dense_macs', events: 'graded_events', synaptic_ops: 'graded_synaptic_ops' };

/** Counts of a set of inferences. Totals are over all of them; divide by `inferences` for per inference. */
export interface ActivityRecord {
  readonly family: string;
  readonly inferences: number;
  /** Algorithmic time steps per inference (mean). */
  readonly stepsPerInference: number;
  readonly layers: Readonly<Record<string, LayerCounts>>;
  /** Where the counts came from, e.g. "float relaxation (graded)" or "spiking emulation, T = 64". */
  readonly origin: string;
}

/**
 * Maps the counters a system reports onto NeuroBench's, per layer, and fills the ones that follow from
 * the others (activations = neuron updates; zero activations = activations − graded events − spikes).
 * Unknown counter names are errors (a typo would otherwise silently cost nothing).
 */
export function normalizeCounts(raw: Readonly<Record<string, Readonly<Record<string, number>>>>, where = 'counts'): Record<string, LayerCounts> {
  const out: Record<string, LayerCounts> = {};
  for (const [layer, counters] of Object.entries(raw)) {
    const c: Record<Counter, number> = Object.fromEntries(COUNTERS.map((k) => [k, 0])) as Record<Counter, number>;
    const seen = new Set<Counter>();
    for (const [name, value] of Object.entries(counters)) {
      const key = (COUNTERS as readonly string[]).includes(name) ? (name as Counter) : ALIASES[name];
      if (!key) throw new SpecError(`${where}.${layer}.${name}`, `unknown counter; known: ${[...COUNTERS, ...Object.keys(ALIASES)].join(', ')}`);
      if (!Number.isFinite(value) || value < 0) throw new SpecError(`${where}.${layer}.${name}`, `must be a finite non-negative count, got ${value}`);
      c[key] += value;
      seen.add(key);
    }
    if (!seen.has('graded_synaptic_ops')) c.graded_synaptic_ops = c.effective_macs;
    if (!seen.has('activations')) c.activations = c.neuron_updates;
    if (!seen.has('zero_activations')) c.zero_activations = Math.max(0, c.activations - c.graded_events - c.spikes);
    out[layer] = c;
  }
  return out;
}

/** Sum of one counter over the layers. */
export function totalOf(record: ActivityRecord, counter: Counter): number {
  return Object.values(record.layers).reduce((a, l) => a + l[counter], 0);
}

/** NeuroBench's summary metrics, per inference. */
export interface NeuroBenchMetrics {
  readonly dense_synops: number;
  readonly effective_macs: number;
  readonly effective_acs: number;
  readonly activation_sparsity: number;
  readonly connection_sparsity?: number;
  readonly footprint_bytes?: number;
  readonly neuron_updates: number;
  readonly spikes: number;
  readonly graded_events: number;
}

export function neuroBenchMetrics(record: ActivityRecord, structure?: NetworkStructure): NeuroBenchMetrics {
  const per = (c: Counter) => totalOf(record, c) / record.inferences;
  const activations = totalOf(record, 'activations');
  return {
    dense_synops: per('dense_macs'),
    effective_macs: per('effective_macs'),
    effective_acs: per('effective_acs'),
    activation_sparsity: activations > 0 ? totalOf(record, 'zero_activations') / activations : 0,
    ...(structure ? { connection_sparsity: structure.synapses > 0 ? structure.zeroSynapses / structure.synapses : 0, footprint_bytes: structure.footprintBytes } : {}),
    neuron_updates: per('neuron_updates'),
    spikes: per('spikes'),
    graded_events: per('graded_events'),
  };
}
