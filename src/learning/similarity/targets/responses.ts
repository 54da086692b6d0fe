/**
 * From a response array to a target similarity matrix, as Li et al. (NeurIPS 2019, §2, Eqs. 1–2) do with
 * their recordings:
 *
 * 1. SNR weight per unit a (Eq. 1), from repeated presentations: w_a = σ_a / η_a with
 *      σ_a² = Var_i(E_t[r_ait])   (signal: variance over stimuli of the trial mean),
 *      η_a² = E_i[Var_t(r_ait)]   (noise: mean over stimuli of the across-trial variance),
 *    both population variances (divide by the count, numpy's default). A unit with σ_a = 0 carries no
 *    stimulus information and gets w_a = 0; a unit with σ_a > 0 and η_a = 0 (noiseless) makes the weight
 *    undefined and is an error (turn `snr` off for noiseless data).
 * 2. Denoising by averaging over repeats: r_ai = w_a · E_t[ρ_ait] (the paper denoises with a predictive
 *    model instead; averaging is what repeats allow without one, its Eq. 3 "oracle" route).
 * 3. Centring by the mean over stimuli, r̄ = E_i[r_i] (optional), normalising each population vector to unit
 *    length, S_ij = e_i · e_j (Eq. 2).
 *
 * Plain float64 arithmetic in JavaScript: targets are computed once, and an independent path from the
 * tensor code of the model side.
 */
import { DataError } from '../../../base/errors.js';

/** Responses of `units` units to `stimuli` stimuli, each shown `repeats` times: index (i · repeats + t) · units + a. */
export interface ResponseArray {
  readonly data: ArrayLike<number>;
  readonly stimuli: number;
  readonly repeats: number;
  readonly units: number;
}

export function responseArray(data: ArrayLike<number>, shape: readonly number[], origin: string): ResponseArray {
  if (shape.length !== 2 && shape.length !== 3) {
    throw new DataError(`${origin}: responses must have shape [stimuli, units] or [stimuli, repeats, units], got [${shape.join(', ')}]`);
  }
  const [stimuli, repeats, units] = shape.length === 2 ? [shape[0]!, 1, shape[1]!] : (shape as [number, number, number]);
  if (data.length !== stimuli * repeats * units) throw new DataError(`${origin}: ${data.length} values for shape [${shape.join(', ')}]`);
  if (stimuli < 2 || units < 1) throw new DataError(`${origin}: need at least 2 stimuli and 1 unit, got ${stimuli} stimuli and ${units} units`);
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k]!)) throw new DataError(`${origin}: response ${k} (stimulus ${Math.floor(k / (repeats * units))}, unit ${k % units}) is ${data[k]}; responses must be finite`);
  }
  return { data, stimuli, repeats, units };
}

/** E_t[r_ait] as a [stimuli × units] float64 array. */
export function trialMeans(r: ResponseArray): Float64Array {
  const { stimuli, repeats, units, data } = r;
  const out = new Float64Array(stimuli * units);
  for (let i = 0; i < stimuli; i++)
    for (let t = 0; t < repeats; t++) for (let a = 0; a < units; a++) out[i * units + a]! += data[(i * repeats + t) * units + a]! / repeats;
  return out;
}

export interface SnrWeights {
  readonly weights: Float64Array;
  /** σ_a, η_a per unit. */
  readonly signal: Float64Array;
  readonly noise: Float64Array;
}

/** Li's Eq. 1: w_a = σ_a / η_a from the repeats (needs at least 2 repeats). */
export function snrWeights(r: ResponseArray, origin = 'responses'): SnrWeights {
  const { stimuli, repeats, units, data } = r;
  if (repeats < 2) throw new DataError(`${origin}: SNR weighting needs repeated presentations (at least 2 repeats), got ${repeats}; set snr to false`);
  const means = trialMeans(r);
  const signal = new Float64Array(units);
  const noise = new Float64Array(units);
  for (let a = 0; a < units; a++) {
    let grand = 0;
    for (let i = 0; i < stimuli; i++) grand += means[i * units + a]! / stimuli;
    let varSignal = 0;
    let varNoise = 0;
    for (let i = 0; i < stimuli; i++) {
      const m = means[i * units + a]!;
      varSignal += (m - grand) ** 2 / stimuli;
      let v = 0;
      for (let t = 0; t < repeats; t++) v += (data[(i * repeats + t) * units + a]! - m) ** 2 / repeats;
      varNoise += v / stimuli;
    }
    signal[a] = Math.sqrt(varSignal);
    noise[a] = Math.sqrt(varNoise);
  }
  const weights = new Float64Array(units);
  for (let a = 0; a < units; a++) {
    if (signal[a] === 0) weights[a] = 0;
    else if (noise[a] === 0) throw new DataError(`${origin}: unit ${a} gives identical responses on every repeat (noise η = 0), so its SNR weight σ/η is undefined; set snr to false for noiseless responses`);
    else weights[a] = signal[a]! / noise[a]!;
  }
  return { weights, signal, noise };
}

/** S = E Eᵀ of the rows of m ([n × d]), centred by their mean over rows when asked, normalised to unit length. */
export function cosineSimilarityMatrix(m: ArrayLike<number>, n: number, d: number, centre: boolean): Float32Array {
  const rows = Float64Array.from(m as ArrayLike<number>);
  if (centre) {
    for (let a = 0; a < d; a++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += rows[i * d + a]! / n;
      for (let i = 0; i < n; i++) rows[i * d + a]! -= mean;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let a = 0; a < d; a++) s += rows[i * d + a]! ** 2;
    const norm = Math.sqrt(s);
    if (norm > 0) for (let a = 0; a < d; a++) rows[i * d + a]! /= norm;
  }
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += rows[i * d + a]! * rows[j * d + a]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  return out;
}

export interface ResponseTargetOptions {
  /** Weight units by σ_a/η_a (default: when there are repeats). */
  readonly snr?: boolean;
  /** Subtract the mean over stimuli before normalising (default true, as the paper). */
  readonly centre?: boolean;
}

/** The target similarity matrix (row-major stimuli × stimuli) of a response array, and the SNR weights used. */
export function responseSimilarity(r: ResponseArray, options: ResponseTargetOptions = {}, origin = 'responses'): { matrix: Float32Array; weights?: SnrWeights } {
  const useSnr = options.snr ?? r.repeats > 1;
  const means = trialMeans(r);
  const weights = useSnr ? snrWeights(r, origin) : undefined;
  if (weights) {
    if (weights.weights.every((w) => w === 0)) throw new DataError(`${origin}: every unit has zero signal variance over stimuli; no similarity structure to learn`);
    for (let i = 0; i < r.stimuli; i++) for (let a = 0; a < r.units; a++) means[i * r.units + a]! *= weights.weights[a]!;
  }
  return { matrix: cosineSimilarityMatrix(means, r.stimuli, r.units, options.centre ?? true), ...(weights ? { weights } : {}) };
}
