/**
 * What `neurodyn energy` does, as a library call: build a family's trained network from a run folder or
 * a spec, record its activity (the float relaxation's graded counts, or the spiking emulation's real
 * spikes at each profile's weight and state bits), and price it on each profile.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../base/errors.js';
import { makeRng } from '../base/rng.js';
import { loadDataset } from '../data/index.js';
import { loadModel } from '../runs/model-store.js';
import { loadSpecFile } from '../spec/parse.js';
import type { ResolvedSpec } from '../spec/schema.js';
import { useBackend } from '../tensor/index.js';
import { estimateCost, type CostReport } from './cost.js';
import { neuroBenchMetrics, type ActivityRecord, type NeuroBenchMetrics } from './counts.js';
import { emulate, type EngineName } from './emulate.js';
import { gpuJsEngine } from './emulate-gpujs.js';
import { tfjsEngine } from './emulate-tfjs.js';
import { hardwareAdapters } from './families/index.js';
import type { TrainedNetwork } from './adapter.js';
import { structureOf } from './network.js';
import type { Profile } from './profile.js';
import { toSpikingNetwork } from './quantize.js';

/**
 * The faster engine on this machine: tfjs (wasm) ran the 784-100-10 emulation 5 to 8 times faster than
 * gpu.js's synchronous webasm kernels (bench/hardware-estimates.ts prints both timings).
 */
export const DEFAULT_ENGINE: EngineName = 'tfjs';

export function createEngine(name: EngineName) {
  return name === 'gpujs' ? gpuJsEngine() : tfjsEngine();
}

export interface Source {
  readonly spec: ResolvedSpec;
  readonly runDir?: string;
}

/** A run folder (holding spec.json, and model/ if trained) or a spec file. */
export function resolveSource(target: string): Source {
  if (!fs.existsSync(target)) throw new SpecError('<run-folder|spec>', `${target} does not exist`);
  if (fs.statSync(target).isDirectory()) {
    const specFile = path.join(target, 'spec.json');
    if (!fs.existsSync(specFile)) throw new SpecError('<run-folder|spec>', `${target} is not a run folder (no spec.json)`);
    return { spec: loadSpecFile(specFile), runDir: target };
  }
  return { spec: loadSpecFile(target) };
}

export async function buildTrainedNetwork(source: Source, count: number, backend?: string): Promise<TrainedNetwork> {
  const { spec } = source;
  await useBackend(backend ?? spec.backend, backend !== undefined ? '--backend' : 'backend');
  const adapter = hardwareAdapters.get(spec.system.kind, 'system.kind');
  const hasModel = source.runDir !== undefined && fs.existsSync(path.join(source.runDir, 'model', 'model.json'));
  if (!hasModel && !adapter.fromSpec) throw new SpecError('<run-folder|spec>', `${spec.system.kind} needs a trained model: pass a run folder written by a training run`);
  const model = hasModel ? loadModel(source.runDir!) : undefined;
  const data = loadDataset(spec.data.name, spec.data.dataDir !== undefined ? { dataDir: spec.data.dataDir } : {});
  try {
    return adapter.build({ spec, data, rng: makeRng(spec.seed), count, ...(model ? { model } : {}) });
  } finally {
    if (model) for (const t of Object.values(model.params)) t.dispose();
  }
}

export interface ProfileEstimate {
  readonly cost: CostReport;
  readonly metrics: NeuroBenchMetrics;
  readonly accuracy: number;
  readonly emulation?: { readonly steps: number; readonly engine: EngineName; readonly accuracyByStep: Readonly<Record<number, number>>; readonly seconds: number };
}

/** Prices `trained` on every profile: float counts once, or one emulation per profile's precision. */
export function estimateOnProfiles(trained: TrainedNetwork, profiles: readonly Profile[], emulation?: { steps: number; engine: EngineName }): { float: { accuracy: number; activity: ActivityRecord }; perProfile: Record<string, ProfileEstimate> } {
  const structure = structureOf(trained.network);
  const measured = trained.measure();
  const perProfile: Record<string, ProfileEstimate> = {};
  for (const profile of profiles) {
    if (!emulation) {
      perProfile[profile.id] = { cost: estimateCost(measured.activity, structure, profile), metrics: neuroBenchMetrics(measured.activity, structure), accuracy: measured.accuracy };
      continue;
    }
    const spiking = toSpikingNetwork(trained.network, { ...(profile.capacity.weightBits ? { weightBits: profile.capacity.weightBits.si } : {}), ...(profile.capacity.stateBits ? { stateBits: profile.capacity.stateBits.si } : {}) });
    const engine = createEngine(emulation.engine);
    try {
      const result = emulate(spiking, engine, trained.inputs, trained.count, { steps: emulation.steps });
      const accuracyByStep = Object.fromEntries([...result.readout].map(([t, r]) => [t, trained.score(r)]));
      perProfile[profile.id] = {
        cost: estimateCost(result.activity, structure, profile),
        metrics: neuroBenchMetrics(result.activity, structure),
        accuracy: accuracyByStep[emulation.steps]!,
        emulation: { steps: emulation.steps, engine: emulation.engine, accuracyByStep, seconds: result.seconds },
      };
    } finally {
      engine.dispose();
    }
  }
  return { float: { accuracy: measured.accuracy, activity: measured.activity }, perProfile };
}
