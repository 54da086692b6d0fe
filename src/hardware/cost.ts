/**
 * The cost of one inference on a hardware profile: a pure function of the recorded counts, the network's
 * structure and the profile. Every term lists the figure it used (value, status, source), and the share
 * of the energy that rests on `estimate` figures is reported beside the total.
 *
 * Energy per inference (counts per inference; e_* are the profile's energies):
 *
 *   event-driven chips:  E_dyn = ACs·e_syn + G·e_graded + N_active·e_nu + N_idle·e_nu,idle
 *                                + (spikes + graded events)·(e_spike,local + h̄·e_hop)
 *   dense devices:       E_dyn = dense MACs·e_mac + neuron updates·e_nu
 *   both:                E_static = P_static,chip · chips · latency
 *
 * with ACs = effective ACs (spikes × nonzero fan-out), G = graded synaptic operations (Eff_MACs, or the
 * family's event-driven form), N_active = neurons that emitted an event in a step (spikes + graded
 * events; an estimate of Loihi's "active" update), N_idle the other updates (none on event-async chips),
 * and h̄ the mean mesh hops of a spike: (2/3)·√C for C cores under random placement, 0 on one core
 * (estimate; a layer-per-core placement gives about 1). A missing figure prices its term at zero and is
 * reported as missing, never silently. Graded events on a chip without graded spikes are priced as
 * binary synaptic operations, with a warning: a rate code needs many spikes per graded value (run the
 * spiking emulation for real spike counts).
 *
 * Latency per inference:
 *   time-stepped chips:  steps · max(t_step, busiest core's work per step), the work per step spread evenly
 *                        over the cores in use: (synaptic ops·t_syn + neuron updates·t_nu) / cores;
 *   event-async chips:   (synaptic ops·t_syn + neuron updates·t_nu) / cores;
 *   dense devices:       dense MACs · t_mac (peak throughput).
 * Synaptic operations per second = synaptic operations per inference / latency.
 *
 * Fit (layer-per-core placement, no two populations sharing a core): cores_p = max(⌈neurons_p /
 * neurons per core⌉, ⌈synapses into p / synapses per core⌉); chips = ⌈Σ cores_p / cores per chip⌉, checked
 * against the largest system; the largest fan-in and fan-out against the profile's; recurrence against
 * the chip's support for it.
 */
import { totalOf, type ActivityRecord, type Counter } from './counts.js';
import type { NetworkStructure } from './network.js';
import type { Profile } from './profile.js';
import type { Quantity } from './quantity.js';

export interface FigureUse {
  /** `energy.synapticOp` */
  readonly field: string;
  readonly value: string;
  readonly status: Quantity['status'];
  readonly source: string;
  readonly citation: string;
  readonly where?: string;
}

export interface EnergyTerm {
  readonly term: string;
  /** Events per inference. */
  readonly events: number;
  readonly field: string;
  /** Joules per inference (0 when the figure is missing). */
  readonly joules: number;
  readonly status: Quantity['status'] | 'missing';
}

export interface FitReport {
  readonly fits: boolean;
  readonly coresNeeded: number;
  readonly chipsNeeded: number;
  /** Why not, or what could not be checked. */
  readonly reasons: readonly string[];
  readonly unchecked: readonly string[];
}

export interface CostReport {
  readonly profile: string;
  readonly origin: string;
  readonly energyModel: Profile['energyModel'];
  readonly energy: {
    readonly dynamicJ: number;
    readonly staticJ: number;
    readonly totalJ: number;
    /** Share of the total that comes from `estimate` figures. */
    readonly estimateShare: number;
    readonly terms: readonly EnergyTerm[];
  };
  /** Seconds per inference, or null with the reason in `latencyNote`. */
  readonly latencyS: number | null;
  readonly latencyNote: string;
  readonly synapticOpsPerInference: number;
  readonly synapticOpsPerSecond: number | null;
  readonly fit: FitReport;
  readonly figures: readonly FigureUse[];
  readonly warnings: readonly string[];
}

export interface CostOptions {
  /** Override the mean hops per spike (default: (2/3)·√cores). */
  readonly meanHops?: number;
}

export function fitNetwork(structure: NetworkStructure | undefined, profile: Profile): FitReport {
  const c = profile.capacity;
  const reasons: string[] = [];
  const unchecked: string[] = [];
  if (!structure) return { fits: true, coresNeeded: 0, chipsNeeded: 0, reasons, unchecked: ['no network structure: nothing checked'] };
  if (!c.neuronsPerCore && !c.synapsesPerCore) {
    unchecked.push(`${profile.id} has no per-core capacity figures (a general-purpose device): assumed to fit`);
    return { fits: true, coresNeeded: 0, chipsNeeded: 1, reasons, unchecked };
  }
  let cores = 0;
  for (const p of structure.populations) {
    const byNeurons = c.neuronsPerCore ? Math.ceil(p.neurons / c.neuronsPerCore.si) : 1;
    const bySynapses = c.synapsesPerCore ? Math.ceil(p.synapses / c.synapsesPerCore.si) : 1;
    cores += Math.max(1, byNeurons, bySynapses);
  }
  const chips = c.coresPerChip ? Math.ceil(cores / c.coresPerChip.si) : 1;
  if (c.maxChips && chips > c.maxChips.si) reasons.push(`needs ${chips} chips, more than the largest system (${c.maxChips.si})`);
  if (!c.maxChips) unchecked.push('largest system size unknown');
  const maxFanIn = Math.max(0, ...structure.populations.map((p) => p.maxFanIn));
  if (c.fanIn && maxFanIn > c.fanIn.si) reasons.push(`a neuron has ${maxFanIn} inputs, more than the fan-in limit ${c.fanIn.si}`);
  if (!c.fanIn) unchecked.push('fan-in limit unknown');
  if (c.fanOut && structure.maxFanOut > c.fanOut.si) reasons.push(`a neuron drives ${structure.maxFanOut} synapses, more than the fan-out limit ${c.fanOut.si}`);
  if (!c.fanOut) unchecked.push('fan-out limit unknown');
  if (structure.recurrent && !profile.capabilities.recurrence) reasons.push(`the network is recurrent and ${profile.name} supports no recurrent connections`);
  return { fits: reasons.length === 0, coresNeeded: cores, chipsNeeded: chips, reasons, unchecked };
}

export function estimateCost(record: ActivityRecord, structure: NetworkStructure | undefined, profile: Profile, options: CostOptions = {}): CostReport {
  const per = (c: Counter) => totalOf(record, c) / record.inferences;
  const figures = new Map<string, FigureUse>();
  const warnings: string[] = [];
  const use = (field: string, q: Quantity | undefined): Quantity | undefined => {
    if (q) figures.set(field, { field, value: q.text, status: q.status, source: q.source, citation: profile.sources[q.source] ?? q.source, ...(q.where ? { where: q.where } : {}) });
    return q;
  };
  const terms: EnergyTerm[] = [];
  const price = (term: string, events: number, field: string, q: Quantity | undefined) => {
    if (events === 0) return;
    use(field, q);
    terms.push({ term, events, field, joules: q ? events * q.si : 0, status: q ? q.status : 'missing' });
    if (!q) warnings.push(`${term}: ${profile.id} has no ${field} figure, priced at 0`);
  };
  const e = profile.energy;
  const t = profile.timing;
  const fit = fitNetwork(structure, profile);
  const cores = Math.max(1, fit.coresNeeded);
  const spikes = per('spikes');
  const graded = per('graded_events');
  const acs = per('effective_acs');
  const gradedOps = per('graded_synaptic_ops');
  const updates = per('neuron_updates');
  const eventDriven = profile.energyModel !== 'dense';
  const synapticOps = eventDriven ? acs + gradedOps : per('dense_macs');

  if (eventDriven) {
    price('binary synaptic operations (Eff_ACs)', acs, 'energy.synapticOp', e.synapticOp);
    if (gradedOps > 0) {
      if (profile.capabilities.gradedSpikes) price('graded synaptic operations', gradedOps, e.gradedSynapticOp ? 'energy.gradedSynapticOp' : 'energy.synapticOp', e.gradedSynapticOp ?? e.synapticOp);
      else {
        price('graded synaptic operations, priced as binary', gradedOps, 'energy.synapticOp', e.synapticOp);
        warnings.push(`${profile.name} has no graded spikes: ${graded.toExponential(3)} graded events per inference are priced as single binary spikes, which under-estimates a rate-coded version (use the spiking emulation's counts)`);
      }
    }
    const active = Math.min(updates, spikes + graded);
    const idle = profile.energyModel === 'event-driven-step' ? updates - active : 0;
    price('neuron updates, active', active, 'energy.neuronUpdate', e.neuronUpdate);
    if (idle > 0) price('neuron updates, idle', idle, e.neuronUpdateIdle ? 'energy.neuronUpdateIdle' : 'energy.neuronUpdate', e.neuronUpdateIdle ?? e.neuronUpdate);
    const sent = spikes + graded;
    if (e.spikeLocal) price('spikes sent (local)', sent, 'energy.spikeLocal', e.spikeLocal);
    const hops = options.meanHops ?? (cores > 1 ? (2 / 3) * Math.sqrt(cores) : 0);
    if (e.spikeHop && hops > 0) price(`spike hops (${hops.toFixed(2)} per spike, estimate)`, sent * hops, 'energy.spikeHop', e.spikeHop);
  } else {
    price('dense multiply-accumulates', per('dense_macs'), 'energy.mac', e.mac);
    price('neuron updates', updates, 'energy.neuronUpdate', e.neuronUpdate);
  }
  const learning = per('learning_updates');
  if (learning > 0) price('learning updates', learning, 'energy.learningUpdate', e.learningUpdate);

  // Latency.
  let latency: number | null = null;
  let latencyNote: string;
  const steps = record.stepsPerInference;
  const workTime = (t.synapticOp ? synapticOps * t.synapticOp.si : 0) + (t.neuronUpdate ? updates * t.neuronUpdate.si : 0);
  if (profile.energyModel === 'dense') {
    if (t.mac) {
      use('timing.mac', t.mac);
      latency = per('dense_macs') * t.mac.si;
      latencyNote = 'dense MACs at the profile\'s peak throughput';
    } else latencyNote = `${profile.id} gives no timing figure`;
  } else if (profile.energyModel === 'event-driven-step') {
    if (t.timestep || workTime > 0) {
      use('timing.timestep', t.timestep);
      if (t.synapticOp) use('timing.synapticOp', t.synapticOp);
      if (t.neuronUpdate) use('timing.neuronUpdate', t.neuronUpdate);
      const perStep = Math.max(t.timestep?.si ?? 0, workTime / steps / cores);
      latency = steps * perStep;
      latencyNote = `${steps} steps × ${(perStep * 1e6).toPrecision(3)} µs per step (the larger of the step floor and the busiest core's work)`;
    } else latencyNote = `${profile.id} gives no step time`;
  } else if (workTime > 0) {
    use('timing.synapticOp', t.synapticOp);
    use('timing.neuronUpdate', t.neuronUpdate);
    latency = workTime / cores;
    latencyNote = 'event work spread over the cores in use';
  } else latencyNote = `${profile.id} gives no timing figure`;

  let staticJ = 0;
  if (e.staticPowerPerChip) {
    if (latency !== null) {
      use('energy.staticPowerPerChip', e.staticPowerPerChip);
      staticJ = e.staticPowerPerChip.si * Math.max(1, fit.chipsNeeded) * latency;
      terms.push({ term: `static power × ${Math.max(1, fit.chipsNeeded)} chip(s) × latency`, events: latency, field: 'energy.staticPowerPerChip', joules: staticJ, status: e.staticPowerPerChip.status });
    } else warnings.push('static energy not computed: no latency');
  }
  const dynamicJ = terms.filter((x) => x.field !== 'energy.staticPowerPerChip').reduce((a, x) => a + x.joules, 0);
  const totalJ = dynamicJ + staticJ;
  const estimated = terms.filter((x) => x.status === 'estimate').reduce((a, x) => a + x.joules, 0);
  return {
    profile: profile.id,
    origin: record.origin,
    energyModel: profile.energyModel,
    energy: { dynamicJ, staticJ, totalJ, estimateShare: totalJ > 0 ? estimated / totalJ : 0, terms },
    latencyS: latency,
    latencyNote,
    synapticOpsPerInference: synapticOps,
    synapticOpsPerSecond: latency && latency > 0 ? synapticOps / latency : null,
    fit,
    figures: [...figures.values()],
    warnings,
  };
}
