import { describe, expect, it } from 'vitest';
import { normalizeCounts, neuroBenchMetrics, type ActivityRecord } from '../../src/hardware/counts.js';
import { estimateCost, fitNetwork } from '../../src/hardware/cost.js';
import { structureOf, type LayeredNetwork } from '../../src/hardware/network.js';
import { parseProfile, type ProfileFile } from '../../src/hardware/profile.js';

/** A made-up chip with round figures, so every expected value below is computed by hand. */
function chip(overrides: Partial<ProfileFile> = {}) {
  const q = (value: string | number, status: 'published' | 'estimate' = 'published') => ({ value, status, source: 's' });
  const file: ProfileFile = {
    id: 'test-chip',
    name: 'Test chip',
    vendor: 'nobody',
    kind: 'neuromorphic-digital',
    energyModel: 'event-driven-step',
    sources: { s: 'made up' },
    energy: {
      synapticOp: q('10 pJ'),
      neuronUpdate: q('100 pJ'),
      neuronUpdateIdle: q('50 pJ', 'estimate'),
      spikeLocal: q('1 pJ'),
      spikeHop: q('2 pJ'),
      staticPowerPerChip: q('1 mW'),
    },
    timing: { timestep: q('1 us'), synapticOp: q('1 ns'), neuronUpdate: q('10 ns') },
    capacity: { coresPerChip: q(4), neuronsPerCore: q(100), synapsesPerCore: q(1000), fanIn: q(64), fanOut: q(64), maxChips: q(2) },
    capabilities: { gradedSpikes: false, onChipLearning: false, recurrence: true, neuronModels: [] },
    ...overrides,
  };
  return parseProfile(file, 'test-chip.json');
}

/** Two inferences, 10 steps each, one layer of 50 neurons: 40 spikes reaching 30 synapses each. */
const record: ActivityRecord = {
  family: 'test',
  inferences: 2,
  stepsPerInference: 10,
  origin: 'hand-made',
  layers: normalizeCounts({ hidden: { spikes: 80, effective_acs: 2400, neuron_updates: 1000, macs: 30000 } }),
};

describe('NeuroBench counts', () => {
  it('maps the systems\' names and fills activations and zero activations', () => {
    const c = normalizeCounts({ l: { macs: 10, events: 3, neuron_updates: 8, effective_macs: 6 } });
    expect(c.l).toMatchObject({ dense_macs: 10, graded_events: 3, neuron_updates: 8, activations: 8, zero_activations: 5, effective_macs: 6, graded_synaptic_ops: 6 });
  });
  it('rejects unknown counters by name', () => {
    expect(() => normalizeCounts({ l: { mac: 1 } })).toThrow(/counts\.l\.mac: unknown counter/);
  });
  it('metrics per inference, activation and connection sparsity, footprint', () => {
    const net: LayeredNetwork = {
      family: 't',
      input: { name: 'x', size: 2 },
      populations: [{ name: 'h', size: 2, activation: 'relu', bias: new Float32Array(2) }],
      projections: [{ name: 'w', from: 'x', to: 'h', weight: new Float32Array([1, 0, 0, 2]), role: 'feedforward' }],
      readout: 'h',
    };
    const m = neuroBenchMetrics(record, structureOf(net));
    expect(m.dense_synops).toBe(15000);
    expect(m.effective_acs).toBe(1200);
    expect(m.activation_sparsity).toBeCloseTo((1000 - 80) / 1000, 12);
    expect(m.connection_sparsity).toBe(0.5);
    expect(m.footprint_bytes).toBe(4 * (4 + 2));
  });
});

describe('cost of one inference', () => {
  const structure = { populations: [{ name: 'hidden', neurons: 250, synapses: 1500, zeroSynapses: 0, maxFanIn: 30 }], neurons: 250, synapses: 1500, zeroSynapses: 0, maxFanOut: 30, recurrent: false, footprintBytes: 0 };

  it('event-driven, time-stepped chip: every term by hand', () => {
    const r = estimateCost(record, structure, chip());
    // Per inference: 1200 ACs, 40 spikes, 500 updates of which 40 active and 460 idle.
    // Cores: max(ceil(250/100), ceil(1500/1000)) = 3; chips = 1; hops = (2/3)·√3.
    const hops = (2 / 3) * Math.sqrt(3);
    const dynamic = 1200 * 10e-12 + 40 * 100e-12 + 460 * 50e-12 + 40 * 1e-12 + 40 * hops * 2e-12;
    expect(r.energy.dynamicJ).toBeCloseTo(dynamic, 18);
    // Latency: work per step per core = (1200·1 ns + 500·10 ns) / 10 / 3 = 206.7 ns < 1 µs floor → 10 µs.
    expect(r.latencyS).toBeCloseTo(10e-6, 15);
    expect(r.energy.staticJ).toBeCloseTo(1e-3 * 1 * 10e-6, 18);
    expect(r.synapticOpsPerSecond).toBeCloseTo(1200 / 10e-6, 3);
    expect(r.fit).toMatchObject({ fits: true, coresNeeded: 3, chipsNeeded: 1 });
    expect(r.energy.estimateShare).toBeCloseTo((460 * 50e-12) / r.energy.totalJ, 12);
    expect(r.figures.map((f) => f.field)).toEqual(expect.arrayContaining(['energy.synapticOp', 'energy.neuronUpdate', 'energy.neuronUpdateIdle', 'timing.timestep', 'energy.staticPowerPerChip']));
  });

  it('the busiest core sets the step time when its work exceeds the floor', () => {
    const r = estimateCost(record, structure, chip({ timing: { timestep: { value: '10 ns', status: 'published', source: 's' }, synapticOp: { value: '1 ns', status: 'published', source: 's' }, neuronUpdate: { value: '10 ns', status: 'published', source: 's' } } }));
    expect(r.latencyS).toBeCloseTo(10 * ((1200 * 1e-9 + 500 * 10e-9) / 10 / 3), 15);
  });

  it('dense device: MACs and neuron updates, latency from the MAC time', () => {
    const r = estimateCost(record, structure, chip({ energyModel: 'dense', kind: 'gpu', energy: { mac: { value: '2 pJ', status: 'derived', source: 's' }, neuronUpdate: { value: '2 pJ', status: 'derived', source: 's' } }, timing: { mac: { value: '1 ps', status: 'derived', source: 's' } }, capacity: {} }));
    expect(r.energy.dynamicJ).toBeCloseTo(15000 * 2e-12 + 500 * 2e-12, 18);
    expect(r.latencyS).toBeCloseTo(15000 * 1e-12, 20);
    expect(r.synapticOpsPerInference).toBe(15000);
  });

  it('graded events on a chip without graded spikes are priced as binary and flagged', () => {
    const graded: ActivityRecord = { ...record, layers: normalizeCounts({ hidden: { events: 100, effective_macs: 3000, neuron_updates: 1000, macs: 30000 } }) };
    const r = estimateCost(graded, structure, chip());
    expect(r.energy.terms.find((t) => t.term.startsWith('graded'))!.joules).toBeCloseTo(1500 * 10e-12, 18);
    expect(r.warnings.join(' ')).toMatch(/no graded spikes/);
  });

  it('a missing figure is reported, not silently zero', () => {
    const r = estimateCost(record, structure, chip({ energy: { synapticOp: { value: '10 pJ', status: 'published', source: 's' } } }));
    expect(r.warnings.join(' ')).toMatch(/no energy\.neuronUpdate figure/);
    expect(r.energy.terms.some((t) => t.status === 'missing')).toBe(true);
  });

  it('fit: too many chips, fan-in, fan-out and recurrence are named', () => {
    const big = { ...structure, populations: [{ name: 'h', neurons: 1000, synapses: 100, zeroSynapses: 0, maxFanIn: 100 }], maxFanOut: 100, recurrent: true };
    const f = fitNetwork(big, chip({ capabilities: { gradedSpikes: false, onChipLearning: false, recurrence: false, neuronModels: [] } }));
    expect(f.fits).toBe(false);
    expect(f.coresNeeded).toBe(10);
    expect(f.chipsNeeded).toBe(3);
    expect(f.reasons.join('\n')).toMatch(/3 chips, more than the largest system \(2\)/);
    expect(f.reasons.join('\n')).toMatch(/100 inputs, more than the fan-in limit 64/);
    expect(f.reasons.join('\n')).toMatch(/drives 100 synapses/);
    expect(f.reasons.join('\n')).toMatch(/recurrent/);
  });
});
