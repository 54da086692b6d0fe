/**
 * What `neurodyn energy` does, as a library call: build a family's trained network (its HardwareAdapter),
 * record its activity (the float relaxation's graded counts, or the spiking emulation's real
 * spikes at each profile's weight and state bits), and price it on each profile.
 */
import { SpecError } from '../base/errors.js';
import type { Rng } from '../base/rng.js';
import type { ModelSource } from '../runs/model-source.js';
import { estimateCost, type CostReport } from './cost.js';
import { neuroBenchMetrics, type ActivityRecord, type NeuroBenchMetrics } from './counts.js';
import { emulate, type EngineName } from './emulate.js';
import { gpuJsEngine } from './emulate-gpujs.js';
import { tfjsEngine } from './emulate-tfjs.js';
import { hardwareAdapters, type TrainedNetwork } from './adapter.js';
import { structureOf } from './network.js';
import type { Profile } from './profile.js';
import type { Settling } from '../core/settling.js';
import { toSpikingNetwork, type Precision, type ResetMode, type SpikingNetwork } from './quantize.js';

/**
 * The faster engine on this machine: tfjs (wasm) ran the 784-100-10 emulation 5 to 8 times faster than
 * gpu.js's synchronous webasm kernels (bench/hardware-estimates.ts prints both timings).
 */
export const DEFAULT_ENGINE: EngineName = 'tfjs';

export function createEngine(name: EngineName) {
  return name === 'gpujs' ? gpuJsEngine() : tfjsEngine();
}

/**
 * A family's hardware network for a model: from a run folder's trained parameters, or from the spec alone
 * where the family builds its network from the data (Hopfield's stored prototypes). The caller keeps
 * `source.trained` and frees it; the network copies what it needs.
 */
export function buildTrainedNetwork(source: ModelSource, rng: Rng, count: number, calibration?: number): TrainedNetwork {
  const adapter = hardwareAdapters.get(source.system.kind, 'system.kind');
  if (!source.trained && !adapter.fromSpec) throw new SpecError('<run-folder|spec>', `${source.origin}: ${source.system.kind} needs a trained model: pass a run folder written by a training run`);
  return adapter.build({ source, rng, count, ...(calibration !== undefined ? { calibration } : {}) });
}

/** A profile's weight and state bits (undefined where it states none: float weights, no saturation). */
export function profilePrecision(profile: Profile | undefined): Precision {
  if (!profile) return {};
  return { ...(profile.capacity.weightBits ? { weightBits: profile.capacity.weightBits.si } : {}), ...(profile.capacity.stateBits ? { stateBits: profile.capacity.stateBits.si } : {}) };
}

/**
 * The one spiking network of a trained network on a profile: what `energy --emulate` prices and what
 * `export --format nir` writes (both call this, from a network built with the same calibration).
 */
export function spikingNetworkOn(trained: TrainedNetwork, profile: Profile | undefined, reset: ResetMode = 'subtract'): SpikingNetwork {
  return toSpikingNetwork(trained.network, profilePrecision(profile), reset);
}

/** Thresholds, spike values, weight scales and a weight checksum: enough to tell two spiking networks apart. */
export function describeSpikingNetwork(network: SpikingNetwork) {
  const checksum = (w: Float32Array) => {
    let sum = 0;
    for (const v of w) sum += Math.abs(v);
    return sum;
  };
  return {
    reset: network.reset,
    inputThreshold: network.inputThreshold,
    precision: network.precision,
    populations: network.populations.map((p) => ({ name: p.name, threshold: p.threshold, spikeValue: p.spikeValue, weightScale: p.scale, sumAbsWeight: checksum(p.weight), sumAbsBias: checksum(p.bias) })),
  };
}

export interface ProfileEstimate {
  readonly cost: CostReport;
  readonly metrics: NeuroBenchMetrics;
  readonly accuracy: number;
  readonly emulation?: { readonly steps: number; readonly engine: EngineName; readonly accuracyByStep: Readonly<Record<number, number>>; readonly seconds: number; readonly network: ReturnType<typeof describeSpikingNetwork> };
}

/** Prices `trained` on every profile: float counts once, or one emulation per profile's precision. */
export function estimateOnProfiles(trained: TrainedNetwork, profiles: readonly Profile[], emulation?: { steps: number; engine: EngineName; reset?: ResetMode }): { float: { accuracy: number; activity: ActivityRecord; settling?: Settling }; perProfile: Record<string, ProfileEstimate> } {
  const structure = structureOf(trained.network);
  const measured = trained.measure();
  const perProfile: Record<string, ProfileEstimate> = {};
  for (const profile of profiles) {
    if (!emulation) {
      perProfile[profile.id] = { cost: estimateCost(measured.activity, structure, profile), metrics: neuroBenchMetrics(measured.activity, structure), accuracy: measured.accuracy };
      continue;
    }
    const spiking = spikingNetworkOn(trained, profile, emulation.reset);
    const engine = createEngine(emulation.engine);
    try {
      const result = emulate(spiking, engine, trained.inputs, trained.count, { steps: emulation.steps });
      const accuracyByStep = Object.fromEntries([...result.readout].map(([t, r]) => [t, trained.score(r)]));
      perProfile[profile.id] = {
        cost: estimateCost(result.activity, structure, profile),
        metrics: neuroBenchMetrics(result.activity, structure),
        accuracy: accuracyByStep[emulation.steps]!,
        emulation: { steps: emulation.steps, engine: emulation.engine, accuracyByStep, seconds: result.seconds, network: describeSpikingNetwork(spiking) },
      };
    } finally {
      engine.dispose();
    }
  }
  return { float: { accuracy: measured.accuracy, activity: measured.activity, ...(measured.settling ? { settling: measured.settling } : {}) }, perProfile };
}
