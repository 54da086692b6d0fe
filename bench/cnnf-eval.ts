/**
 * Evaluation of trained CNN-F models from their checkpoints (a `cnnf-train` run's `.<out>.checkpoint/
 * cycles-<C>/epoch-<k>/`) or saved models (`<out>/model-c<C>/`), for when the job's own end-of-run evaluation (accuracy against 0 … testCycles
 * cycles on the whole test set, PGD per surface and ε) costs more than the machine allows: the same
 * functions (families/cnn-f/evaluation.ts, attacks/protocol.ts) on stated subsets.
 *
 *   node dist/bench/cnnf-eval.js --ckpt <epoch dir | model dir> --cycles C [--curve N --curve-cycles T
 *        --curve-corruptions mnist-c/shot_noise,... --curve-severity S]
 *        [--pgd M --eps 0,0.02,... --surfaces first,e2e --steps 40]
 *        [--protocol K --protocol-eps 0.04,0.1 --attacks pgd,apgd-ce,apgd-dlr,square,transfer --queries Q
 *         --apgd-steps S --transfer-ckpt <CNN epoch dir> --step-weighting final|uniform]
 *        [--energy K] [--bpda] [--seed 0] [--out results.json]
 *
 * Every part scores the first N (M, K) test images of Fashion-MNIST; PGD and the protocol attack the
 * defender's own scored output (the average readout after C cycles), with the gradient through the whole
 * loop ('e2e') or through the first pass ('first', classifier.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { makeRng } from '../src/base/rng.js';
import { runProtocol } from '../src/attacks/protocol.js';
import { mcnemarExact, pairedGainInterval } from '../src/base/statistics.js';
import { corruptDataset, getCorruption } from '../src/data/corruptions.js';
import { loadDataset, subset, toTensors } from '../src/data/index.js';
import { decodeNpy } from '../src/export/npy.js';
import '../src/families/index.js';
import { buildTrainedNetwork, estimateOnProfiles } from '../src/hardware/estimate.js';
import { listProfiles } from '../src/hardware/profiles.js';
import { loadModel } from '../src/runs/model-store.js';
import { cnnfClassifier, type AttackSurface } from '../src/families/cnn-f/classifier.js';
import { accuracyByCycle, pgdRobustness, type CycleCurve } from '../src/families/cnn-f/evaluation.js';
import { createCnnf } from '../src/families/cnn-f/options.js';
import type { CnnfSystem } from '../src/families/cnn-f/system.js';
import { useBackend } from '../src/tensor/index.js';
import { setNativeThreads } from '../src/tensor/native/addon.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const list = (text: string | undefined, fallback: string) => (text ?? fallback).split(',').filter((s) => s.length > 0);
const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);

/** The parameters of an epoch checkpoint (record.json) or of a saved model folder (model.json, e.g. `<run>/model-c1`). */
function loadCheckpoint(dir: string): Record<string, tf.Tensor> {
  if (fs.existsSync(path.join(dir, 'model.json'))) return loadModel(path.dirname(dir), path.basename(dir)).params;
  const record = JSON.parse(fs.readFileSync(path.join(dir, 'record.json'), 'utf8')) as { tensors: { name: string; file: string }[] };
  const params: Record<string, tf.Tensor> = {};
  for (const { name, file } of record.tensors) {
    if (!name.startsWith('param/')) continue;
    const npy = decodeNpy(new Uint8Array(fs.readFileSync(path.join(dir, file))));
    params[name.slice('param/'.length)] = tf.tensor(npy.data as Float32Array, npy.shape);
  }
  return params;
}

await useBackend(option('backend') ?? 'wasm');
setNativeThreads(Number(option('threads') ?? 1));
const ckpt = option('ckpt');
if (!ckpt) throw new Error('--ckpt <epoch dir> is required');
const cycles = Number(option('cycles') ?? 0);
const seed = Number(option('seed') ?? 0);
const data = loadDataset('fashion-mnist');
// --bpda: the attacks differentiate the AdaReLU/AdaPool switches through their sigmoid surrogate (the forward, and so every score, is unchanged).
const maskGradient = args.includes('--bpda') ? 'bpda' : 'exact';
const system = createCnnf({ architecture: 'fashion-cpu', eta: 0.1, readout: 'average', maskGradient }, { inputSize: 784 }) as CnnfSystem;
const params = loadCheckpoint(ckpt);
const results: Record<string, unknown> = { ckpt, cycles, seed, maskGradient, backend: tf.getBackend() };
const out = option('out');
const save = () => out && fs.writeFileSync(out, `${JSON.stringify(results, null, 1)}\n`);

if (option('curve')) {
  const n = Number(option('curve'));
  const t = Number(option('curve-cycles') ?? 10);
  const began = performance.now();
  const curve = accuracyByCycle(system, params, subset(data.test, 0, n), t, 250);
  // The average readout's change from t = 0, tested on the same images.
  const changeOf = (c: CycleCurve) => c.averageGained.map((gained, k) => ({ cycles: k, gained, lost: c.averageLost[k]!, interval: pairedGainInterval(gained, c.averageLost[k]!, n), p: mcnemarExact(gained, c.averageLost[k]!) }));
  const change = changeOf(curve);
  results.curve = { examples: n, ...curve, averageChange: change, seconds: (performance.now() - began) / 1000 };
  say(`accuracy against cycles 0..${t} on ${n} test images: average ${curve.average.map((v) => (100 * v).toFixed(1)).join(' ')}; last ${curve.last.map((v) => (100 * v).toFixed(1)).join(' ')}`);
  say(`average readout against t = 0, gained/lost (p): ${change.map((c) => `${c.gained}/${c.lost} (${c.p.toPrecision(2)})`).join(' ')}`);
  // The same curve on corrupted copies of the images ("more iterations are needed for harder images").
  const corrupted: Record<string, unknown> = {};
  for (const name of list(option('curve-corruptions'), '')) {
    const corruption = getCorruption(name, '--curve-corruptions');
    const severity = Math.min(Number(option('curve-severity') ?? 3), corruption.severities);
    const images = corruptDataset(subset(data.test, 0, n), corruption, severity, makeRng(seed).split('curve-corruption'));
    const c = accuracyByCycle(system, params, images, t, 250);
    corrupted[`${name}@${severity}`] = { ...c, averageChange: changeOf(c) };
    say(`${name} severity ${severity}: average ${c.average.map((v) => (100 * v).toFixed(1)).join(' ')}; gained/lost against t = 0: ${c.averageGained.map((g, k) => `${g}/${c.averageLost[k]}`).join(' ')}`);
  }
  if (Object.keys(corrupted).length) (results.curve as Record<string, unknown>).corrupted = corrupted;
  save();
}

if (option('pgd')) {
  const m = Number(option('pgd'));
  const epsilons = list(option('eps'), '0,0.02,0.04,0.06,0.08,0.1,0.12,0.14,0.16,0.18,0.2').map(Number);
  const surfaces = list(option('surfaces'), 'first,e2e') as AttackSurface[];
  const rows = pgdRobustness(system, params, cycles, subset(data.test, 0, m), { epsilons, steps: Number(option('steps') ?? 40), restarts: 1, surfaces, batchSize: Number(option('batch') ?? 100) }, makeRng(seed).split(`pgd-${cycles}`), say);
  // Per example as a string of 0/1 (1: right clean and not broken), for paired tests between models (bench/cnnf-paired.ts).
  results.pgd = { examples: m, rows: rows.map(({ robust, ...row }) => ({ ...row, robust: Array.from(robust).join('') })) };
  save();
}

if (option('protocol')) {
  const k = Number(option('protocol'));
  const epsilons = list(option('protocol-eps'), '0.04,0.1').map(Number);
  const attacks = list(option('attacks'), 'pgd,apgd-ce,apgd-dlr,square,transfer');
  const transferCkpt = option('transfer-ckpt');
  const owned = Object.fromEntries(Object.entries(params).map(([name, t]) => [name, t.clone()]));
  const classifier = cnnfClassifier({ system, params: owned, cycles, surface: 'e2e' });
  const transferFrom = transferCkpt ? cnnfClassifier({ system, params: loadCheckpoint(transferCkpt), cycles: 0, surface: 'e2e', name: 'the CNN (transfer source)' }) : undefined;
  const { x, y } = toTensors(subset(data.test, 0, k), { layout: 'flat' });
  const labels = tf.cast(y, 'int32') as tf.Tensor1D;
  const weighting = option('step-weighting') ?? 'final';
  const report = runProtocol({
    classifier,
    ...(transferFrom ? { transferFrom } : {}),
    norm: 'linf',
    epsilons,
    attacks,
    gradient: { gradient: { kind: 'unrolled' }, ...(weighting !== 'final' ? { stepWeighting: weighting as 'uniform' } : {}) },
    budget: { pgdSteps: Number(option('steps') ?? 40), apgdSteps: Number(option('apgd-steps') ?? 100), restarts: 1, queries: Number(option('queries') ?? 5000) },
    x,
    labels,
    rng: makeRng(seed).split('protocol'),
    batchSize: Number(option('batch') ?? 100),
    order: 'independent',
    minimalPerturbation: false,
    diagnostics: false,
    say,
  });
  const r = report.robustness;
  results.protocol = {
    examples: k,
    attacks,
    stepWeighting: weighting,
    cleanAccuracy: r.cleanAccuracy,
    perEpsilon: r.perEpsilon.map((e) => ({ epsilon: e.epsilon, worstCase: e.robustAccuracy, interval: e.interval, perAttack: Object.fromEntries(Object.entries(e.attacks).map(([a, o]) => [a, o.accuracy])), robust: Array.from(e.robust).join('') })),
    maskingWarnings: report.maskingWarnings,
    seconds: report.seconds,
  };
  for (const e of (results.protocol as { perEpsilon: { epsilon: number; worstCase: number; interval: readonly number[]; perAttack: Record<string, number> }[] }).perEpsilon) {
    say(`protocol ε = ${e.epsilon}: worst case ${(100 * e.worstCase).toFixed(1)}% [${e.interval.map((v) => (100 * v).toFixed(1)).join(', ')}]; ${Object.entries(e.perAttack).map(([a, v]) => `${a} ${(100 * v).toFixed(1)}%`).join(', ')}`);
  }
  for (const w of report.maskingWarnings) say(`masking check: ${w}`);
  classifier.dispose();
  transferFrom?.dispose();
  tf.dispose([x, y, labels]);
  save();
}
if (option('energy')) {
  // `neurodyn energy` on every built-in profile, from the float model's counts (first pass + cycles).
  const k = Number(option('energy'));
  const spec = { kind: 'cnn-f', architecture: 'fashion-cpu', eta: 0.1, readout: 'average', maskGradient };
  const trained = buildTrainedNetwork({ origin: ckpt, system: spec, run: { maxSteps: Math.max(1, cycles) }, data, trained: { params, trainedBy: 'cnn-f bptt', meta: { cycles } } }, makeRng(seed), k);
  try {
    const estimate = estimateOnProfiles(trained, listProfiles());
    const perInference = (c: string) => Object.values(estimate.float.activity.layers).reduce((a, l) => a + l[c as 'dense_macs'], 0) / k;
    results.energy = {
      examples: k,
      accuracy: estimate.float.accuracy,
      perInference: Object.fromEntries(['dense_macs', 'effective_macs', 'graded_events', 'neuron_updates'].map((c) => [c, perInference(c)])),
      profiles: Object.fromEntries(Object.entries(estimate.perProfile).map(([id, e]) => [id, { joules: e.cost.energy.totalJ, dynamicJ: e.cost.energy.dynamicJ, latencyS: e.cost.latencyS, fits: e.cost.fit.fits, activationSparsity: e.metrics.activation_sparsity }])),
    };
    say(`energy: ${JSON.stringify(results.energy)}`);
  } finally {
    trained.dispose();
  }
  save();
}
tf.dispose(Object.values(params));
