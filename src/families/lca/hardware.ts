/**
 * The fully connected LCA's adapter (Rozell et al. 2008, Neural Comput. 20:2526): a dictionary Φ [n, k]
 * saved by the `lca-dictionary` job (`model/dictionary.npy`). Its activity is measured by the model's own
 * relaxation (run.maxSteps steps of the system's step, in the form the spec chose) on the first `count`
 * test digits, with simulate(countEvents) reading the system's `counts` at every step.
 *
 * As a LayeredNetwork, the relaxation's fixed point: with s the (per-sample normalised) signal,
 * u* = sΦ − a*G and a* = T(u*), G = ΦᵀΦ − I; for the soft non-negative threshold T(u) = relu(u − λ), so
 *
 *   a = relu(s Φ − a G − λ)
 *
 * one `relu` population `a` (bias −λ, spike value calibrated to the largest coefficient the float model
 * reaches), an input projection Φ and a lateral projection −G (zero diagonal: no self-inhibition).
 *
 * What the spiking emulation can and cannot do for LCA:
 * - the emulation's input encoder rate-codes non-negative values, but the normalised signal is signed. The
 *   per-sample normalisation is a host step anyway (a mean and a norm over the whole image), so the adapter
 *   hands the chip s split into two non-negative channels [s⁺, s⁻], and the projection [Φ; −Φ]: the same
 *   drive sΦ, exactly. The input encoder's threshold S (the input's spike value) is the largest |s| over
 *   the calibration examples (the first CALIBRATION_EXAMPLES test images, whatever is evaluated), so one
 *   encoder spike per step stands for S; larger values saturate at one spike per step;
 * - it emulates the fixed point, not LCA's leaky trajectory: integrate-and-fire neurons with Jacobi updates
 *   and one step of delay on the lateral projection approximate the rates at the equilibrium (Shapero et al.
 *   2014 and Tang et al. 2017 show spiking LCA converges to the same sparse code); how close, at each time
 *   step count, is what the emulation's score measures;
 * - only the soft non-negative threshold maps (relu); the signed or hard thresholds are refused with an
 *   error naming the option, and the convolutional `lca-conv` (LCANet) has no adapter yet.
 *
 * LCA has no classes: `score` is the reconstruction quality 1 − mean ‖s − aΦᵀ‖/‖s‖ over the test digits
 * (1 for a perfect code), reported in the `accuracy` column of the estimates.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { relaxationSettings } from '../../core/run-settings.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { toTensors, subset } from '../../data/index.js';
import { normalizeSamples } from './system-common.js';
import type { LcaSystem } from './system.js';
import { lcaEntry } from './options.js';
import { settlingOfRelaxation } from '../../core/settling.js';
import { normalizeCounts } from '../../hardware/counts.js';
import { CALIBRATION_EXAMPLES, type HardwareAdapter, type BuildRequest, type TrainedNetwork } from '../../hardware/adapter.js';
import { checkNetwork } from '../../hardware/network.js';

/** 1 − mean over examples of ‖s − aΦᵀ‖ / ‖s‖; `code` [count, k], `signal` [count, n], `phi` [n, k]. */
export function reconstructionQuality(code: Float32Array, signal: Float32Array, phi: Float32Array, count: number, n: number, k: number): number {
  let sum = 0;
  const reconstruction = new Float64Array(n);
  for (let e = 0; e < count; e++) {
    reconstruction.fill(0);
    for (let j = 0; j < k; j++) {
      const c = code[e * k + j]!;
      if (c === 0) continue;
      for (let i = 0; i < n; i++) reconstruction[i]! += c * phi[i * k + j]!;
    }
    let error = 0;
    let norm = 0;
    for (let i = 0; i < n; i++) {
      const s = signal[e * n + i]!;
      error += (s - reconstruction[i]!) ** 2;
      norm += s * s;
    }
    sum += Math.sqrt(error) / (Math.sqrt(norm) + 1e-12);
  }
  return 1 - sum / count;
}

/** The signed signal s [count, n] as two non-negative channels [s⁺, s⁻] per example, [count, 2n]. */
export function splitSigned(signal: Float32Array, count: number, n: number): Float32Array {
  const out = new Float32Array(count * 2 * n);
  for (let e = 0; e < count; e++) {
    for (let i = 0; i < n; i++) {
      const s = signal[e * n + i]!;
      out[e * 2 * n + i] = Math.max(0, s);
      out[e * 2 * n + n + i] = Math.max(0, -s);
    }
  }
  return out;
}

/**
 * The signed (normalised) signal s as two [0, 1] channels, its positive and negative parts divided by the
 * largest |s| over the examples, and the drive weights that undo the split: rows [Φ·scale; −Φ·scale] for
 * Φ [n, k] row-major, so that [s⁺, s⁻]·drive = s·Φ exactly. Shared by the fully connected LCA and the
 * LCANet, whose dense-expanded dictionary D takes Φ's place.
 */
export function twoChannelEncoding(signal: Float32Array, count: number, n: number, phi: Float32Array, k: number): { inputs: Float32Array; drive: Float32Array } {
  const scale = signal.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  const inputs = new Float32Array(count * 2 * n);
  for (let e = 0; e < count; e++) {
    for (let i = 0; i < n; i++) {
      const s = signal[e * n + i]! / scale;
      inputs[e * 2 * n + i] = Math.max(0, s);
      inputs[e * 2 * n + n + i] = Math.max(0, -s);
    }
  }
  const drive = new Float32Array(2 * n * k);
  for (let j = 0; j < n * k; j++) {
    drive[j] = phi[j]! * scale;
    drive[n * k + j] = -phi[j]! * scale;
  }
  return { inputs, drive };
}

function build(request: BuildRequest): TrainedNetwork {
  const { source } = request;
  const { data } = source;
  const model = source.trained;
  const relaxation = relaxationSettings(source.run);
  if (!model) throw new SpecError('<run-folder|spec>', 'lca needs a learned dictionary: pass a run folder written by the lca-dictionary job');
  const n = data.test.height * data.test.width;
  const system = lcaEntry.create(source.system, { inputSize: n }) as LcaSystem;
  const o = system.options;
  if (o.threshold !== 'soft') throw new SpecError('system.threshold', `the spiking form maps only the soft threshold (relu(u − λ)), got ${JSON.stringify(o.threshold)}`);
  if (!o.nonnegative) throw new SpecError('system.nonnegative', 'the spiking form maps only the non-negative code (relu(u − λ)); the signed code has no adapter yet');
  const k = o.features;
  const saved = model.params.dictionary;
  if (!saved) throw new SpecError('model.params.dictionary', `missing from the saved model (it has ${Object.keys(model.params).join(', ')})`);
  if (saved.rank !== 2 || saved.shape[0] !== n || saved.shape[1] !== k) throw new SpecError('model.params.dictionary', `has shape [${saved.shape.join(', ')}], expected [${n}, ${k}] (inputSize, system.features)`);
  const params = { dictionary: tf.clone(saved) };
  const phi = Float32Array.from(params.dictionary.dataSync() as Float32Array);
  const count = Math.min(request.count, data.test.count);
  const calibrationCount = Math.min(request.calibration ?? CALIBRATION_EXAMPLES, data.test.count);
  const test = toTensors(subset(data.test, 0, count), { layout: 'flat' });
  const labels = Int32Array.from(test.y.dataSync() as Int32Array);
  const normalized = tf.tidy(() => (o.normalizeInput ? normalizeSamples(test.x) : tf.clone(test.x)));
  const signal = Float32Array.from(normalized.dataSync() as Float32Array);
  normalized.dispose();
  const raw = test.x;
  tf.dispose(test.y);

  const relax = (countEvents: boolean, x: tf.Tensor = raw) => {
    // In a tidy: the gram form's prepare leaves its intermediates (normalisation, ΦᵀΦ, I) behind otherwise.
    const input = tf.tidy(() => system.prepare({ x }, params));
    const start = performance.now();
    const solution = throwIfDiverged(simulate({ system, params, input, ...relaxation, countEvents }));
    const seconds = (performance.now() - start) / 1000;
    const code = Float32Array.from(solution.state.a.dataSync() as Float32Array);
    const settling = countEvents ? settlingOfRelaxation(system, params, input, relaxation, solution.steps) : undefined;
    const result = { code, events: solution.events, steps: solution.steps, seconds, settling };
    solution.dispose();
    for (const t of Object.values(input)) if (t !== x) (t as tf.Tensor).dispose();
    return result;
  };

  // Host-side encoding of the signed signal into two non-negative channels (see the doc comment); the
  // input scale S and the code's spike value from the calibration examples.
  const inputs = splitSigned(signal, count, n);
  const drive = new Float32Array(2 * n * k);
  for (let j = 0; j < n * k; j++) {
    drive[j] = phi[j]!;
    drive[n * k + j] = -phi[j]!;
  }
  const calibrationImages = toTensors(subset(data.test, 0, calibrationCount), { layout: 'flat' });
  const calibrationSignal = tf.tidy(() => (o.normalizeInput ? normalizeSamples(calibrationImages.x) : tf.clone(calibrationImages.x)));
  const inputScale = (calibrationSignal.dataSync() as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  calibrationSignal.dispose();
  const peak = relax(false, calibrationImages.x).code.reduce((m, v) => Math.max(m, v), 0);
  tf.dispose([calibrationImages.x, calibrationImages.y]);
  const lateral = new Float32Array(k * k);
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      if (p === q) continue;
      let g = 0;
      for (let i = 0; i < n; i++) g += phi[i * k + p]! * phi[i * k + q]!;
      lateral[p * k + q] = -g;
    }
  }
  const network = checkNetwork({
    family: 'lca',
    input: { name: 'signal', size: 2 * n, spikeValue: inputScale },
    populations: [{ name: 'a', size: k, activation: 'relu', bias: new Float32Array(k).fill(-o.lambda), maxActivity: peak > 0 ? peak : 1 }],
    projections: [
      { name: 'Phi', from: 'signal', to: 'a', weight: drive, role: 'input' },
      { name: 'minus_G', from: 'a', to: 'a', weight: lateral, role: 'lateral' },
    ],
    readout: 'a',
  });
  const score = (code: Float32Array) => reconstructionQuality(code, signal, phi, count, n, k);
  const codeValue = peak > 0 ? peak : 1;
  return {
    family: 'lca',
    network,
    documentation: {
      calibration: `input scale S = ${inputScale} (the largest |s| of the normalised signal) and code spike value ${codeValue} (the largest float coefficient) over the first ${calibrationCount} test images`,
      input: `${2 * n} channels [s+, s-] = [max(s, 0), max(-s, 0)] of the signal s = ${o.normalizeInput ? '(x - mean(x)) / (std(x) + 1e-12) per image, std unbiased over the ${n} pixels (normalizeSamples)' : 'x (no normalisation)'}, x the pixels in [0, 1] flattened row-major; unscaled: the encoder's threshold S = ${inputScale} makes one spike per step stand for S`,
      readout: `a: code coefficient = spikes / T × ${codeValue}; reconstruction = code × dictionaryᵀ`,
    },
    inputs,
    labels,
    count,
    measure() {
      const { code, events, steps, seconds, settling } = relax(true);
      const activity = { family: 'lca', inferences: count, stepsPerInference: steps, layers: normalizeCounts(events!.total, 'lca.counts'), origin: `float relaxation (${o.form} form), ${steps} steps (graded activity)` };
      return { activity, accuracy: score(code), seconds, ...(settling ? { settling } : {}) };
    },
    score,
    dispose() {
      tf.dispose([params.dictionary, raw]);
    },
  };
}

export const lcaHardware: HardwareAdapter = { kind: 'lca', fromSpec: false, build };
