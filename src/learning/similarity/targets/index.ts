/**
 * Targets of the similarity regularizer: a set of stimulus images and the similarity matrix S^target over
 * them, from whatever the user has (new-families.md §3, "Substitutes for a user without mouse data"):
 *
 * - `responses`: a response array (stimuli × units, or stimuli × repeats × units) from .npy/.npz/HDF5/CSV,
 *   SNR-weighted and averaged over repeats, centred, normalised (responses.ts, files.ts);
 * - `synthetic-v1`: the synthetic Gabor-energy V1 population (src/data/synthetic-v1.ts) recorded on the
 *   stimuli with Poisson repeats, then the same path as `responses` (the stand-in for mouse recordings);
 * - `frozen-model`: the readout of a trained dynamical system saved in a run folder (the LCA code of a
 *   dictionary learned by `lca-dictionary`: a V1-like sparse code; Li's VGG control is this kind);
 * - `pixels`: the centred cosine of raw pixels, "boosted" by a threshold Th as Attias et al.: |S| > Th → ±1,
 *   everything else 0 (no threshold: the raw pixel similarity);
 * - controls: `shuffledTarget` (mandatory next to every target) and none (α = 0, the baseline).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../../../base/errors.js';
import type { Rng } from '../../../base/rng.js';
import { simulate } from '../../../core/simulate.js';
import { throwIfDiverged } from '../../../core/solution.js';
import { makeDataset, toTensors, type Dataset } from '../../../data/index.js';
import { syntheticV1, type SyntheticV1Options } from '../../../data/synthetic-v1.js';
import { loadModel } from '../../../runs/model-store.js';
import type { DynamicalSystem } from '../../../core/system.js';
import { loadResponseFile, type ResponseFileOptions } from './files.js';
import { cosineSimilarityMatrix, responseArray, responseSimilarity, type ResponseArray, type SnrWeights } from './responses.js';

export interface SimilarityTarget {
  readonly name: string;
  readonly description: string;
  readonly stimuli: Dataset;
  /** S^target, row-major stimuli × stimuli. */
  readonly matrix: Float32Array;
  /** Figures about how it was made (SNR weights, sparsity, threshold), for the run record. */
  readonly details?: Readonly<Record<string, unknown>>;
}

function snrDetails(w: SnrWeights | undefined): Record<string, unknown> {
  if (!w) return {};
  const sorted = Array.from(w.weights).sort((a, b) => a - b);
  return { snr_weight_median: sorted[sorted.length >> 1], snr_weight_min: sorted[0], snr_weight_max: sorted[sorted.length - 1] };
}

export interface ResponseTargetSpec {
  readonly snr?: boolean;
  readonly centre?: boolean;
}

/** A target from a response array recorded on `stimuli`. */
export function responseTarget(name: string, description: string, stimuli: Dataset, responses: ResponseArray, spec: ResponseTargetSpec = {}): SimilarityTarget {
  if (responses.stimuli !== stimuli.count) throw new DataError(`target ${name}: ${responses.stimuli} stimuli in the responses but ${stimuli.count} stimulus images`);
  const { matrix, weights } = responseSimilarity(responses, spec, `target ${name}`);
  return { name, description, stimuli, matrix, details: { stimuli: responses.stimuli, repeats: responses.repeats, units: responses.units, ...snrDetails(weights) } };
}

/** The synthetic V1 population's responses to the stimuli (repeats with Poisson noise), SNR-weighted and averaged. */
export function syntheticV1Target(name: string, stimuli: Dataset, population: SyntheticV1Options, repeats: number, spec: ResponseTargetSpec, rng: Rng): SimilarityTarget {
  const v1 = syntheticV1(population, stimuli.height, stimuli.width, rng);
  const data = v1.responses(stimuli.images, stimuli.count, repeats, rng.split('noise'));
  const target = responseTarget(name, `synthetic V1: ${population.units} Gabor-energy units, ${repeats} Poisson repeats`, stimuli, responseArray(data, [stimuli.count, repeats, population.units], name), spec);
  let mean = 0;
  for (const v of data) mean += v / data.length;
  return { ...target, details: { ...target.details, mean_count: mean } };
}

/** A target from a response file; its own `images` are the stimuli when it has them, else `stimuli`. */
export async function responseFileTarget(name: string, file: string, options: ResponseFileOptions & ResponseTargetSpec, stimuli: Dataset): Promise<SimilarityTarget> {
  const loaded = await loadResponseFile(file, options);
  let set = stimuli;
  if (loaded.images) {
    const im = loaded.images;
    if (im.height !== stimuli.height || im.width !== stimuli.width) {
      throw new DataError(`target ${name}: ${file} holds ${im.height}×${im.width} images but the network takes ${stimuli.height}×${stimuli.width}`);
    }
    set = makeDataset({ ...stimuli, name: `${file}:images`, source: file, images: im.images, labels: new Uint8Array(im.count), count: im.count });
  }
  return responseTarget(name, `responses from ${file}`, set, loaded.responses, options);
}

/**
 * The readout of a frozen dynamical system saved in a run folder (`model/model.json`, as `lca-dictionary`
 * writes it), relaxed on every stimulus for the run's own number of steps; the flattened readouts are the
 * "units" (one repeat, centred, no SNR weighting). `createSystem` builds the saved system kind from its options
 * (the family registry's `create`, passed in by the caller so that this generic code names no family).
 */
export type SystemFactory = (kind: string, options: Readonly<Record<string, unknown>>, dims: { readonly inputSize: number }) => DynamicalSystem<any, any, any>;

export function frozenModelTarget(name: string, runDir: string, stimuli: Dataset, createSystem: SystemFactory, batch = 200): SimilarityTarget {
  const model = loadModel(runDir);
  try {
    const { kind, ...options } = model.system;
    const meta = model.meta ?? {};
    const iterations = Number(meta.iterations);
    if (!(Number.isInteger(iterations) && iterations > 0)) throw new DataError(`target ${name}: ${runDir}/model/model.json has no meta.iterations (steps of the relaxation)`);
    const layout = meta.layout === 'nhwc' ? 'nhwc' : 'flat';
    const system = createSystem(kind, options, { inputSize: stimuli.height * stimuli.width }) as DynamicalSystem<any, any, any> & { prepare?: (input: { x: tf.Tensor }, params: unknown) => Record<string, tf.Tensor> };
    if (!system.readout) throw new DataError(`target ${name}: system ${model.system.kind} has no readout to use as a representation`);
    let units = 0;
    let codes: Float32Array | undefined;
    let active = 0;
    for (let start = 0; start < stimuli.count; start += batch) {
      const count = Math.min(batch, stimuli.count - start);
      const { x, y } = toTensors(stimuli, { start, count, layout });
      const input: Record<string, tf.Tensor> = tf.tidy(() => (system.prepare ? system.prepare({ x }, model.params) : { x }));
      const sol = throwIfDiverged(simulate({ system, params: model.params, input, maxSteps: iterations }));
      const out = tf.tidy(() => tf.reshape(system.readout!(sol.state, input, model.params), [count, -1]));
      units = out.shape[1]!;
      codes ??= new Float32Array(stimuli.count * units);
      const values = out.dataSync() as Float32Array;
      codes.set(values, start * units);
      for (const v of values) if (v !== 0) active++;
      sol.dispose();
      tf.dispose([x, y, out, ...Object.values(input).filter((t) => t !== x)]);
    }
    const target = responseTarget(name, `${model.system.kind} readout of ${runDir} (${iterations} steps)`, stimuli, responseArray(codes!, [stimuli.count, units], name), { snr: false });
    return { ...target, details: { ...target.details, fraction_active: active / codes!.length, trained_by: model.trainedBy } };
  } finally {
    tf.dispose(Object.values(model.params));
  }
}

/** Attias et al.'s pixel regularizer target: centred cosine of pixels, then |S| > threshold → sign(S), else 0. */
export function pixelTarget(name: string, stimuli: Dataset, threshold?: number): SimilarityTarget {
  if (threshold !== undefined && !(threshold >= 0 && threshold < 1)) throw new DataError(`target ${name}: threshold must lie in [0, 1), got ${threshold}`);
  const raw = cosineSimilarityMatrix(stimuli.images, stimuli.count, stimuli.height * stimuli.width, true);
  const n = stimuli.count;
  const matrix = threshold === undefined ? raw : Float32Array.from(raw, (s, k) => (k % (n + 1) === 0 ? 1 : Math.abs(s) > threshold ? Math.sign(s) : 0));
  return { name, description: `pixels${threshold !== undefined ? `, boosted at threshold ${threshold}` : ''}`, stimuli, matrix, details: { threshold } };
}

export type ShuffleMode = 'stimuli' | 'entries';

/**
 * The shuffled control: `stimuli` permutes which stimulus each row/column belongs to (S'_ij = S_π(i)π(j), a
 * valid similarity matrix with the same entries, assigned to the wrong images); `entries` permutes the
 * off-diagonal pairs i < j among themselves (kept symmetric, diagonal 1). Both keep the multiset of
 * off-diagonal entries.
 */
export function shuffledTarget(target: SimilarityTarget, mode: ShuffleMode, rng: Rng): SimilarityTarget {
  const n = target.stimuli.count;
  const m = target.matrix;
  const out = new Float32Array(n * n);
  const permute = (count: number) => {
    const p = Array.from({ length: count }, (_, i) => i);
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  };
  if (mode === 'stimuli') {
    const p = permute(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = m[p[i]! * n + p[j]!]!;
  } else {
    const pairs: number[] = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push(m[i * n + j]!);
    const p = permute(pairs.length);
    let k = 0;
    for (let i = 0; i < n; i++) {
      out[i * n + i] = m[i * n + i]!;
      for (let j = i + 1; j < n; j++) {
        out[i * n + j] = out[j * n + i] = pairs[p[k++]!]!;
      }
    }
  }
  return { ...target, name: `${target.name}-shuffled`, description: `${target.description}, shuffled (${mode})`, matrix: out };
}
