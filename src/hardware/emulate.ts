/**
 * The spiking emulation: runs the integer integrate-and-fire network of quantize.ts for T steps on a set
 * of inputs, counts the real spikes and synaptic events, and reads the readout population's rates back
 * as activity at chosen checkpoints (so one run gives accuracy against emulation time steps).
 *
 * One step t, in float32 (every engine computes exactly this). It is the discrete-time reading, dt = 1, of
 * the NIR graph hardware/spiking-nir.ts writes: every projection carries the spikes of the step before (a
 * NIR Delay of one step), and a neuron integrates, fires on v > θ and resets as NIR's primitives say.
 *   input encoder (threshold S, input x):   d_x(t) = x − S·z_x(t−1)                       (subtract)
 *                                           d_x(t) = x                                    (zero)
 *   population p:  d_p(t) = (b_p + Σ_q z_q(t−1) W_qp) − θ_p z_p(t−1)                     (subtract)
 *                  d_p(t) =  b_p + Σ_q z_q(t−1) W_qp                                      (zero)
 *   every neuron:  v(t) = clip(v(t−1) + d(t), ±L);  z(t) = [v(t) > θ] − [signed and v(t) < −θ];
 *                  then, for `zero` only, v(t) = 0 where z(t) ≠ 0
 * with z(0) = 0 and v(0) = f·θ_p·x where a family starts from its input (Hopfield), else 0. Reset by
 * subtraction is written as an input θ·z(t−1) taken away one step later, which is how the NIR graph
 * expresses it (an integrator I, a Threshold, and a Delay → Scale(−θ) loop back into I); the potential
 * before that subtraction, v(t), is what the Threshold sees, the same value the subtraction-first form
 * v ← v − θz; v ← v + d would hold. The clip at the state bits' limit L has no NIR primitive; where it
 * binds the graph and the emulation part (test/export/nir-equivalence.test.ts checks it does not there).
 *
 * Counts per population and step (NeuroBench): spikes = Σ|s_p(t)|; effective ACs = Σ_q Σ_j |s_qj(t−1)|·
 * (nonzero weights of row j into p); neuron updates = batch·size; dense MACs = batch·fan-in·size. The
 * input's spikes are counted as spikes of the input layer (they travel on the chip) but cost no update.
 */
import { SpecError } from '../base/errors.js';
import type { ActivityRecord, LayerCounts } from './counts.js';
import { normalizeCounts } from './counts.js';
import type { SpikingNetwork } from './quantize.js';

export interface EngineCounts {
  spikes: number;
  effective_acs: number;
  neuron_updates: number;
  dense_macs: number;
}

/** What one engine returns for one batch. */
export interface BatchResult {
  /** Signed spike counts of the readout population summed up to each checkpoint, [batch × size]. */
  readonly readoutCounts: ReadonlyMap<number, Float32Array>;
  readonly counts: Readonly<Record<string, EngineCounts>>;
}

/** Spikes of every population (and the input encoder, under its name) at step t, [batch × size] each. */
export type StepSpikes = (t: number, spikes: ReadonlyMap<string, Float32Array>) => void;

export interface EmulationEngine {
  readonly name: EngineName;
  /**
   * Runs `steps` steps on `batch` inputs (x: [batch × inputSize]), of which the first `valid` are real
   * (the rest pad a fixed batch shape and are left out of the counts); checkpoints ⊆ [1, steps].
   * `onStep`, if given, sees every step's spikes (a raster; slow, for checks and traces).
   */
  runBatch(network: SpikingNetwork, x: Float32Array, batch: number, valid: number, steps: number, checkpoints: readonly number[], onStep?: StepSpikes): BatchResult;
  dispose(): void;
}

export type EngineName = 'gpujs' | 'tfjs';

export interface EmulationOptions {
  readonly steps: number;
  /** Steps at which the readout is read (default: powers of two up to steps, and steps). */
  readonly checkpoints?: readonly number[];
  readonly batchSize?: number;
  /** Every step's spikes of the examples first..first+valid−1 (rows beyond `valid` are padding). */
  readonly onStep?: (first: number, valid: number, t: number, spikes: ReadonlyMap<string, Float32Array>) => void;
}

export interface EmulationResult {
  /** Readout activity estimates (rate × spike value) at each checkpoint, [count × size]. */
  readonly readout: ReadonlyMap<number, Float32Array>;
  readonly activity: ActivityRecord;
  readonly seconds: number;
}

export function defaultCheckpoints(steps: number): number[] {
  const out: number[] = [];
  for (let t = 1; t < steps; t *= 2) out.push(t);
  out.push(steps);
  return out;
}

export function emulate(network: SpikingNetwork, engine: EmulationEngine, x: Float32Array, count: number, options: EmulationOptions): EmulationResult {
  const { steps } = options;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new SpecError('emulation.steps', `must be a positive integer, got ${steps}`);
  if (x.length !== count * network.inputSize) throw new SpecError('emulation.inputs', `expected ${count}×${network.inputSize} values, got ${x.length}`);
  const checkpoints = [...new Set(options.checkpoints ?? defaultCheckpoints(steps))].sort((a, b) => a - b);
  for (const c of checkpoints) if (!(Number.isInteger(c) && c >= 1 && c <= steps)) throw new SpecError('emulation.checkpoints', `each must be an integer in [1, ${steps}], got ${c}`);
  const batchSize = Math.min(options.batchSize ?? 256, count);
  const readoutPopulation = network.populations.find((p) => p.name === network.readout)!;
  const size = readoutPopulation.size;
  const readout = new Map(checkpoints.map((c) => [c, new Float32Array(count * size)]));
  const totals: Record<string, EngineCounts> = {};
  const start = performance.now();
  for (let first = 0; first < count; first += batchSize) {
    const n = Math.min(batchSize, count - first);
    // The last batch is padded to the engine's fixed batch shape; its padded rows are not counted.
    const xb = new Float32Array(batchSize * network.inputSize);
    xb.set(x.subarray(first * network.inputSize, (first + n) * network.inputSize));
    const onStep = options.onStep;
    const result = engine.runBatch(network, xb, batchSize, n, steps, checkpoints, onStep ? (t, spikes) => onStep(first, n, t, spikes) : undefined);
    for (const c of checkpoints) {
      const counts = result.readoutCounts.get(c)!;
      const out = readout.get(c)!;
      for (let k = 0; k < n * size; k++) out[first * size + k] = (counts[k]! / c) * readoutPopulation.spikeValue;
    }
    for (const [layer, c] of Object.entries(result.counts)) {
      const t = (totals[layer] ??= { spikes: 0, effective_acs: 0, neuron_updates: 0, dense_macs: 0 });
      t.spikes += c.spikes;
      t.effective_acs += c.effective_acs;
      t.neuron_updates += c.neuron_updates;
      t.dense_macs += c.dense_macs;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const layers: Record<string, LayerCounts> = normalizeCounts(totals as unknown as Record<string, Record<string, number>>, 'emulation');
  return {
    readout,
    activity: { family: network.family, inferences: count, stepsPerInference: steps, layers, origin: `spiking emulation, ${steps} steps, ${describePrecision(network)}` },
    seconds,
  };
}

export function describePrecision(network: SpikingNetwork): string {
  const { weightBits, stateBits } = network.precision;
  return `${weightBits !== undefined ? `${weightBits}-bit weights` : 'float weights'}, ${stateBits !== undefined ? `${stateBits}-bit state` : 'unbounded state'}`;
}
