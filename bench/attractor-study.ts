/**
 * The attractor study of issue 18: does a deep equilibrium-propagation network, whose free phase is a real
 * relaxation to a fixed point of a symmetric energy, resist attacks that go through that relaxation better
 * than (a) the same network and dynamics trained by BPTT and (b) a feed-forward net of the same widths?
 * (Dibbo et al., seed 004: symmetric feedback gives global attractors, so a budget-limited attack may fail
 * to leave the attractor.)
 *
 *   npx vite-node bench/attractor-study.ts <stage> --ep <run> --bptt <run> --out <dir> [options]
 *
 * Stages (each writes <out>/<stage>.json, so a stopped session keeps what finished):
 * - `ff`     trains the feed-forward baseline (ReLU, the EP net's widths, backprop with Adam) epoch by
 *            epoch on the same data and keeps the epoch whose test accuracy is closest to the EP net's
 *            (equal clean accuracy); saved to <out>/ff/model.
 * - `clean`  clean test accuracy of every model on the whole test split, and the steps each relaxation
 *            takes to the tolerance (the steps are measured, not assumed).
 * - `modes`  robust accuracy at one ε for every way of taking the attacker's gradient through the dynamics:
 *            unrolled (BPTT through the defender's own relaxation), truncated(K), implicit (the implicit
 *            function theorem at the fixed point), each with the exact clip derivative and with BPDA
 *            (straight-through clips); the attacker's horizon T = 1 … beyond convergence (unrolled, the
 *            defender keeps its own relaxation); transfer from the net cut short. PGD with the margin loss.
 * - `curve`  robust accuracy against ε under the strongest attacks found (per-example worst case over
 *            PGD-margin with the strongest gradient, PGD-CE and transfer), cascaded over ε (a point broken
 *            at ε is inside every larger ball), and the smallest broken ε per example (the minimal
 *            perturbation on the grid, an upper bound), with its median and a 95% interval.
 * - `attractor` per-step diagnostics of clean and adversarial relaxations (energy, residual, readout,
 *            distance to the clean fixed point), the basin the adversarial state lies in (relaxing under
 *            the clean input from the adversarial fixed point), the uniqueness of the clean attractor from
 *            random starts, and the energy at the fixed point reached from x + tδ, t ∈ [0, 1]; SVG plots.
 *
 * Every adversarial point is checked to lie in its threat model (L∞ ball ∩ [0, 1]) before it is counted.
 *
 * `--ep` may name a fully connected or a convolutional (P_CNN) EP run; `--data` another dataset
 * (fashion-mnist); `--seed` the FF twin's; `--threads` the native kernels'. The curve's attacks
 * (`--curve-attacks`): pgd-margin, pgd-ce, apgd-dlr (`--apgd-steps`), square (`--square-queries`, only at
 * `--square-at` ε), transfer (from the net cut to `--cut-steps`) and transfer-ff (from the FF twin in
 * <out>/ff); each runs on the images the earlier ones left. `--strongest` names the white-box gradient: a
 * mode label ('truncated(15)+BPDA') or 'horizon T'. `modes` takes `--horizons none` and `--no-transfer`.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { makeRng, uniformArray } from '../src/base/rng.js';
import type { GradientMode } from '../src/core/gradient-mode.js';
import { formatGradientMode } from '../src/core/gradient-mode.js';
import { toTensors, subset, loadDataset, type Dataset } from '../src/data/index.js';
import type { Attack } from '../src/attacks/attack.js';
import { attackModel, type AttackModel, type GradientSettings } from '../src/attacks/attack-model.js';
import type { DynamicsClassifier } from '../src/attacks/classifier.js';
import { attractorUniqueness, energyAlongPath, relaxationTrace, returnsToClean, type EnergyRelaxation } from '../src/attacks/attractor.js';
import { wilsonInterval } from '../src/base/statistics.js';
import { misclassified } from '../src/attacks/losses.js';
import { feedForwardClassifier, feedForwardLogits, relaxationClassifier } from '../src/attacks/models/index.js';
import { pgd } from '../src/attacks/pgd.js';
import { insideThreat } from '../src/attacks/threat-model.js';
import { transfer } from '../src/attacks/transfer.js';
import { backprop } from '../src/learning/backprop.js';
import { adam, type ParamMap } from '../src/learning/optimizers.js';
import { train } from '../src/learning/train.js';
import { loadModel, saveModel } from '../src/runs/model-store.js';
import { openRunFolder } from '../src/runs/run-folder.js';
import { renderFigureSvg } from '../src/runs/plot/svg.js';
import { equilibriumProp, type EpParams, type EquilibriumNetwork, type EquilibriumPropSystem } from '../src/families/equilibrium-prop/system.js';
import { equilibriumPropConv, type EquilibriumPropConvSystem } from '../src/families/equilibrium-prop/system-conv.js';
import { withSurrogateGradient } from '../src/families/equilibrium-prop/surrogate-variant.js';
import type { SurrogateGradient } from '../src/families/equilibrium-prop/system-straight-through.js';
import { apgd } from '../src/attacks/apgd.js';
import { square } from '../src/attacks/square.js';
import { setNativeThreads, useBackend } from '../src/tensor/index.js';

const args = process.argv.slice(2);
const stage = args[0] ?? '';
const option = (name: string, fallback?: string): string => {
  const i = args.indexOf(name);
  const v = i >= 0 ? args[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
};
const numbers = (s: string) => s.split(',').map(Number);
const out = option('--out');
const examples = Number(option('--examples', '100'));
const tolerance = Number(option('--tolerance', '1e-4'));
const maxSteps = Number(option('--max-steps', '200'));
const pgdSteps = Number(option('--pgd-steps', '20'));
const epsilon = Number(option('--eps', '0.1'));
const cutSteps = Number(option('--cut-steps', '3'));
const apgdSteps = Number(option('--apgd-steps', '50'));
const squareQueries = Number(option('--square-queries', '1000'));
// Square answers each query with a full relaxation: on 2 shared cores it runs only at these ε (all when absent).
const squareAt = args.includes('--square-at') ? numbers(option('--square-at')) : undefined;
const only = option('--models', 'ep,bptt,ff').split(',');
fs.mkdirSync(out, { recursive: true });
const log = (line: string) => {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
};
const writeJson = (name: string, value: unknown) => fs.writeFileSync(path.join(out, name), `${JSON.stringify(value, null, 1)}\n`);

await useBackend(option('--backend', 'wasm'));
if (args.includes('--threads')) setNativeThreads(Number(option('--threads')));
const data = loadDataset(option('--data', 'mnist-embedded'));
const seed = Number(option('--seed', '0'));

interface EpModel {
  readonly name: string;
  readonly system: EquilibriumNetwork<any, any>;
  readonly params: EpParams;
  readonly trainedSteps: number;
  /** The architecture in a few characters: 784-128-128-10, or conv 32-64 fc 10. */
  readonly shape: string;
}

/** A trained fully connected or convolutional EP run folder. */
function loadEp(name: string, runDir: string): EpModel {
  const model = loadModel(runDir);
  const { kind, layers, ...options } = model.system as unknown as { kind: string; layers: number[] } & Record<string, unknown>;
  const params = model.params as EpParams;
  const trainedSteps = Number(model.meta?.freeSteps ?? 0);
  if (kind === 'equilibrium-prop-conv') {
    const system: EquilibriumPropConvSystem = equilibriumPropConv({ ...(options as object), inputSize: 28 });
    return { name, system, params, trainedSteps, shape: `conv ${system.options.channels.join('-')} fc ${system.options.classes}` };
  }
  const system: EquilibriumPropSystem = equilibriumProp({ ...(options as object), sizes: [784, ...layers] });
  return { name, system, params, trainedSteps, shape: system.options.sizes.join('-') };
}

function epVariant(model: EpModel, surrogateGradient: SurrogateGradient): EquilibriumNetwork<any, any> {
  return withSurrogateGradient(model.system, surrogateGradient);
}

/** The clamped input from flat images, in the layout the network expects. */
function epInput(system: EquilibriumNetwork<any, any>, params: EpParams, x: tf.Tensor) {
  const images = system.layout === 'nhwc' ? tf.reshape(x, [x.shape[0]!, 28, 28, 1]) : x;
  return system.prepare({ x: images }, params);
}

/** The defender: relaxes from rest until the largest change per step is below the tolerance. */
function epClassifier(model: EpModel, surrogate: SurrogateGradient = 'exact', relaxation: { maxSteps: number; converge?: { tolerance: number } } = { maxSteps, converge: { tolerance } }): DynamicsClassifier {
  const system = epVariant(model, surrogate);
  const owned = relaxationClassifier({
    name: `${model.name} ${model.shape}${surrogate === 'straight-through' ? ' (BPDA: straight-through clips)' : ''}`,
    family: 'equilibrium-prop',
    system,
    params: model.params,
    classes: system.classes,
    imageShape: [28, 28, 1],
    relaxation,
    toInput: (x) => epInput(system, model.params, x),
    logitsOf: (r) => r as tf.Tensor2D,
  });
  // The parameters belong to the model, not to each view of it.
  return { ...owned, dispose: () => undefined };
}

function energyNet(model: EpModel): EnergyRelaxation<any, EpParams, any> {
  const { system, params } = model;
  return { system: system as never, params, toInput: (x) => epInput(system, params, x), maxSteps, tolerance };
}

function testBatch(count: number, start = 0): { x: tf.Tensor2D; y: tf.Tensor1D; labels: Int32Array } {
  const { x, y } = toTensors(subset(data.test, start, Math.min(count, data.test.count - start)), { layout: 'flat' });
  return { x: x as tf.Tensor2D, y: y as tf.Tensor1D, labels: Int32Array.from(y.dataSync()) };
}

function accuracyOf(classifier: DynamicsClassifier, dataset: Dataset, batch = 500): { accuracy: number; steps: number[] } {
  let hits = 0;
  const steps: number[] = [];
  for (let start = 0; start < dataset.count; start += batch) {
    const { x, y } = toTensors(subset(dataset, start, Math.min(batch, dataset.count - start)), { layout: 'flat' });
    const run = classifier.run(x);
    const wrong = misclassified(run.logits, y as tf.Tensor1D);
    hits += wrong.length - wrong.reduce((s, v) => s + v, 0);
    steps.push(run.steps);
    run.dispose();
    tf.dispose([x, y]);
  }
  return { accuracy: hits / dataset.count, steps };
}

// ---------------------------------------------------------------- feed-forward baseline
const ffDir = path.join(out, 'ff');

function loadFf(): DynamicsClassifier {
  const model = loadModel(ffDir);
  const n = Object.keys(model.params).length / 2;
  const layers = Array.from({ length: n }, (_, i) => ({ weights: model.params[`W${i + 1}`] as tf.Tensor2D, bias: model.params[`b${i + 1}`] as tf.Tensor1D }));
  return feedForwardClassifier({ name: `feed-forward ReLU 784-${layers.map((l) => l.weights.shape[1]).join('-')} (backprop)`, layers, imageShape: [28, 28, 1] });
}

async function trainFf(): Promise<void> {
  const ep = loadEp('EP', option('--ep'));
  const target = accuracyOf(epClassifier(ep), data.test).accuracy;
  if (ep.system.layout !== 'flat') throw new Error('the feed-forward twin is built for fully connected EP nets only');
  const widths = (ep.system as EquilibriumPropSystem).options.sizes;
  const rng = makeRng(seed);
  const initial: Record<string, tf.Tensor> = {};
  for (let n = 1; n < widths.length; n++) {
    const bound = Math.sqrt(6 / (widths[n - 1]! + widths[n]!));
    initial[`W${n}`] = tf.tensor2d(uniformArray(rng.split(`ff-${n}`), widths[n - 1]! * widths[n]!, -bound, bound), [widths[n - 1]!, widths[n]!]);
    initial[`b${n}`] = tf.zeros([widths[n]!]);
  }
  let params: ParamMap = initial;
  const names = Object.keys(params);
  const rule = backprop({
    name: 'backprop',
    modifies: names,
    loss: (p, batch) => {
      const layers = Array.from({ length: names.length / 2 }, (_, i) => ({ weights: p[`W${i + 1}`] as tf.Tensor2D, bias: p[`b${i + 1}`] as tf.Tensor1D }));
      const logits = feedForwardLogits(layers, batch.x);
      return { loss: tf.losses.softmaxCrossEntropy(tf.cast(tf.oneHot(batch.y!, 10), 'float32'), logits) as tf.Scalar };
    },
  });
  const history: { epoch: number; test_accuracy: number }[] = [];
  let best: { gap: number; epoch: number; params: Record<string, Float32Array>; accuracy: number } | undefined;
  const epochs = Number(option('--ff-epochs', '6'));
  const result = await train({
    params,
    rule,
    optimizer: adam({ lr: Object.fromEntries(names.map((n) => [n, Number(option('--ff-lr', '1e-4'))])) }),
    data: data.train,
    layout: 'flat',
    batchSize: 50,
    epochs,
    rng: rng.split('order'),
    onEpoch: (report, current) => {
      const layers = Array.from({ length: names.length / 2 }, (_, i) => ({ weights: current[`W${i + 1}`] as tf.Tensor2D, bias: current[`b${i + 1}`] as tf.Tensor1D }));
      const accuracy = accuracyOf(feedForwardClassifier({ layers, imageShape: [28, 28, 1], ownsParams: false }), data.test).accuracy;
      history.push({ epoch: report.epoch + 1, test_accuracy: accuracy });
      log(`ff epoch ${report.epoch + 1}: test ${(100 * accuracy).toFixed(2)}% (EP ${(100 * target).toFixed(2)}%)`);
      const gap = Math.abs(accuracy - target);
      if (!best || gap < best.gap) best = { gap, epoch: report.epoch + 1, accuracy, params: Object.fromEntries(Object.entries(current).map(([k, t]) => [k, Float32Array.from(t.dataSync())])) };
    },
  });
  params = result.params;
  const folder = openRunFolder(ffDir);
  const kept = Object.fromEntries(Object.entries(best!.params).map(([k, v]) => [k, tf.tensor(v, params[k]!.shape)]));
  saveModel(folder, { system: { kind: 'feed-forward', widths }, trainedBy: 'backprop', meta: { epoch: best!.epoch, testAccuracy: best!.accuracy, epTestAccuracy: target } }, kept);
  folder.commit();
  tf.dispose([...Object.values(kept), ...Object.values(params), ...Object.values(result.state.slots).flatMap((s) => Object.values(s))]);
  writeJson('ff.json', { target_ep_accuracy: target, history, kept_epoch: best!.epoch, kept_accuracy: best!.accuracy, optimizer: `adam lr ${option('--ff-lr', '1e-4')}, batch 50` });
}

// ---------------------------------------------------------------- attacks
interface Outcome {
  readonly attack: string;
  readonly epsilon: number;
  readonly examples: number;
  readonly robust_accuracy: number;
  readonly interval95: readonly [number, number];
  readonly seconds: number;
  readonly broken: number[];
}

/** Runs one attack on the batch, checks its points against the threat model, and counts what survives. */
function attackOnce(name: string, defender: AttackModel, attack: Attack, x: tf.Tensor, y: tf.Tensor1D, cleanWrong: Uint8Array, eps: number, seed: string, keep?: (adv: tf.Tensor, fooled: Uint8Array) => void): Outcome {
  const start = performance.now();
  const threat = { norm: 'linf' as const, epsilon: eps, bounds: [0, 1] as const };
  const result = attack.run({ model: defender, x, labels: y, threat, rng: makeRng(7).split(seed) });
  const inside = insideThreat(result.adversarial, x, threat);
  if (inside.some((v) => !v)) throw new Error(`${name}: an adversarial point lies outside the L∞ ball of radius ${eps}`);
  keep?.(result.adversarial, result.fooled);
  result.adversarial.dispose();
  const n = x.shape[0]!;
  const broken: number[] = [];
  let robust = 0;
  for (let i = 0; i < n; i++) {
    if (cleanWrong[i] || result.fooled[i]) broken.push(i);
    else robust++;
  }
  const seconds = (performance.now() - start) / 1000;
  log(`  ${name} ε=${eps}: robust ${robust}/${n} (${(100 * robust / n).toFixed(1)}%) in ${seconds.toFixed(0)} s`);
  return { attack: name, epsilon: eps, examples: n, robust_accuracy: robust / n, interval95: wilsonInterval(robust, n), seconds: Number(seconds.toFixed(1)), broken };
}

function cleanWrongOf(classifier: DynamicsClassifier, x: tf.Tensor, y: tf.Tensor1D): Uint8Array {
  const run = classifier.run(x);
  const wrong = misclassified(run.logits, y);
  run.dispose();
  return wrong;
}

interface Contender {
  readonly name: string;
  readonly defender: DynamicsClassifier;
  /** Gradient settings to try: label → (classifier the attacker differentiates, settings). */
  readonly modes: readonly { label: string; classifier: DynamicsClassifier; settings: GradientSettings }[];
  readonly horizons: readonly number[];
  readonly cut?: DynamicsClassifier;
}

/** The attacker horizons to sweep ('none': no sweep). */
function horizonList(): number[] {
  const given = option('--horizons', '1,2,3,5,10,20,40,80');
  return given === 'none' ? [] : numbers(given);
}

function contenders(): Contender[] {
  const list: Contender[] = [];
  for (const [key, label] of [['ep', 'EP'], ['bptt', 'BPTT']] as const) {
    if (!only.includes(key)) continue;
    const model = loadEp(label, option(`--${key}`));
    const exact = epClassifier(model);
    const st = epClassifier(model, 'straight-through');
    const modes: { label: string; classifier: DynamicsClassifier; settings: GradientSettings }[] = [];
    const gradients: GradientMode[] = [{ kind: 'unrolled' }, { kind: 'truncated', steps: 1 }, { kind: 'truncated', steps: 5 }, { kind: 'truncated', steps: 15 }, { kind: 'implicit' }];
    for (const g of gradients) {
      modes.push({ label: formatGradientMode(g), classifier: exact, settings: { gradient: g } });
      modes.push({ label: `${formatGradientMode(g)}+BPDA`, classifier: st, settings: { gradient: g } });
    }
    list.push({ name: label, defender: exact, modes, horizons: horizonList(), cut: epClassifier(model, 'exact', { maxSteps: cutSteps }) });
  }
  if (only.includes('ff')) {
    const ff = loadFf();
    list.push({ name: 'FF', defender: ff, modes: [{ label: 'exact', classifier: ff, settings: { gradient: { kind: 'unrolled' } } }], horizons: [] });
  }
  return list;
}

function stageModes(): void {
  const { x, y } = testBatch(examples);
  const report: Record<string, unknown> = { epsilon, examples, pgd: `PGD-${pgdSteps} margin loss, 1 random start, α = 2.5ε/${pgdSteps}`, tolerance, maxSteps };
  for (const c of contenders()) {
    log(`${c.name}: gradient modes at ε = ${epsilon}`);
    const cleanWrong = cleanWrongOf(c.defender, x, y);
    const judged = attackModel(c.defender, { gradient: { kind: 'none' } });
    const rows: Outcome[] = [];
    const horizons: Outcome[] = [];
    const transfers: Outcome[] = [];
    // Written after every attack: a stopped session keeps what finished.
    const save = () => {
      report[c.name] = { clean_accuracy: 1 - cleanWrong.reduce((s, v) => s + v, 0) / cleanWrong.length, modes: rows, horizons, transfers };
      writeJson('modes.json', report);
    };
    const wanted = option('--modes', c.modes.map((m) => m.label).join(',')).split(',');
    for (const m of c.modes.filter((mode) => wanted.includes(mode.label) || c.name === 'FF')) {
      const model = attackModel(m.classifier, m.settings);
      rows.push(attackOnce(m.label, model, pgd({ steps: pgdSteps, loss: 'margin' }), x, y, cleanWrong, epsilon, 'modes'));
      save();
    }
    if (c.cut && !args.includes('--no-transfer')) {
      const source = attackModel(c.cut, { gradient: { kind: 'unrolled' } });
      transfers.push(attackOnce(`transfer from the net cut to ${cutSteps} steps`, judged, transfer(source, pgd({ steps: pgdSteps, loss: 'margin' })), x, y, cleanWrong, epsilon, 'modes'));
      save();
    }
    const variants = option('--horizon-variants', 'exact,BPDA').split(',');
    for (const T of c.horizons) {
      for (const [label, classifier] of [['exact', c.defender], ['BPDA', c.modes.find((m) => m.label === 'unrolled+BPDA')?.classifier]] as const) {
        if (!classifier || !variants.includes(label)) continue;
        // The attacker unrolls T steps from rest; the defender's own relaxation judges the points.
        const model = attackModel(classifier, { gradient: { kind: 'unrolled' }, relaxation: { maxSteps: T } });
        horizons.push(attackOnce(`horizon ${T} (${label})`, model, pgd({ steps: pgdSteps, loss: 'margin' }), x, y, cleanWrong, epsilon, 'modes'));
        save();
      }
    }
    save();
  }
  tf.dispose([x, y]);
}

function stageCurve(): void {
  const { x, y } = testBatch(examples);
  const grid = numbers(option('--grid', '0.01,0.02,0.03,0.05,0.075,0.1,0.15,0.2,0.3'));
  const strongest = option('--strongest', 'unrolled+BPDA');
  const report: Record<string, unknown> = { grid, examples, strongest, attacks: `worst case per example over ${option('--curve-attacks', 'pgd-margin,pgd-ce,transfer')} (PGD-${pgdSteps}, APGD-${apgdSteps}, Square ${squareQueries} queries${squareAt ? ` at ε ${squareAt.join(', ')} only` : ''}; white-box gradient ${strongest} where the model has dynamics; transfer from the net cut to ${cutSteps} steps); cascaded over ε` };
  for (const c of contenders()) {
    log(`${c.name}: robust accuracy against ε`);
    const cleanWrong = cleanWrongOf(c.defender, x, y);
    // 'horizon T': the attacker unrolls T steps from rest with the exact clips (the defender keeps its own relaxation).
    const horizon = /^horizon (\d+)$/.exec(strongest);
    const mode = c.modes.find((m) => m.label === strongest) ?? c.modes[0]!;
    const model = horizon && c.cut ? attackModel(c.defender, { gradient: { kind: 'unrolled' }, relaxation: { maxSteps: Number(horizon[1]) } }) : attackModel(mode.classifier, mode.settings);
    const judged = attackModel(c.defender, { gradient: { kind: 'none' } });
    const chosen = option('--curve-attacks', 'pgd-margin,pgd-ce,transfer').split(',');
    const attacks = ([
      ['pgd-margin', model, pgd({ steps: pgdSteps, loss: 'margin' })],
      ['pgd-ce', model, pgd({ steps: pgdSteps, loss: 'ce' })],
      // AutoAttack's white-box DLR member and its gradient-free member (the defender's own relaxation answers the queries).
      ['apgd-dlr', model, apgd({ loss: 'dlr', steps: apgdSteps })],
      ['square', judged, square({ queries: squareQueries })],
      ...(c.cut ? [['transfer', judged, transfer(attackModel(c.cut, { gradient: { kind: 'unrolled' } }), pgd({ steps: pgdSteps, loss: 'margin' }))] as [string, AttackModel, Attack]] : []),
      // Transfer from the feed-forward twin (same widths, same data): a surrogate with no dynamics to mask anything.
      ...(c.cut && chosen.includes('transfer-ff') ? [['transfer-ff', judged, transfer(attackModel(loadFf(), { gradient: { kind: 'unrolled' } }), pgd({ steps: pgdSteps, loss: 'margin' }))] as [string, AttackModel, Attack]] : []),
    ] as [string, AttackModel, Attack][]).filter(([name]) => chosen.includes(name));
    const n = x.shape[0]!;
    const minimal = Float32Array.from(cleanWrong, (w) => (w ? 0 : Number.POSITIVE_INFINITY));
    const perEpsilon: Record<string, unknown>[] = [];
    for (const eps of grid) {
      const open = Array.from({ length: n }, (_, i) => i).filter((i) => !Number.isFinite(minimal[i]!));
      const perAttack: Record<string, number> = {};
      if (open.length > 0) {
        const idx = tf.tensor1d(open, 'int32');
        const xs = tf.gather(x, idx);
        const ys = tf.gather(y, idx) as tf.Tensor1D;
        idx.dispose();
        let alive = new Uint8Array(open.length).fill(1);
        // Each attack runs on what the earlier ones left (the worst case per example is the same; the
        // expensive late attacks, APGD and Square's queries, see only the survivors).
        for (const [name, m, attack] of attacks) {
          if (name === 'square' && squareAt && !squareAt.includes(eps)) continue;
          const left = Array.from(alive.keys()).filter((k) => alive[k]);
          if (left.length === 0) {
            perAttack[name] = 0;
            continue;
          }
          const pick = tf.tensor1d(left, 'int32');
          const xl = tf.gather(xs, pick);
          const yl = tf.gather(ys, pick) as tf.Tensor1D;
          pick.dispose();
          const result = attackOnce(name, m, attack, xl, yl, new Uint8Array(left.length), eps, `curve-${eps}`);
          tf.dispose([xl, yl]);
          perAttack[name] = result.broken.length;
          for (const k of result.broken) alive[left[k]!] = 0;
        }
        alive.forEach((a, k) => {
          if (!a) minimal[open[k]!] = eps;
        });
        alive = new Uint8Array(0);
        tf.dispose([xs, ys]);
      }
      const robust = minimal.reduce((s, m) => s + (Number.isFinite(m) ? 0 : 1), 0);
      perEpsilon.push({ epsilon: eps, robust_accuracy: robust / n, interval95: wilsonInterval(robust, n), newly_broken_by: perAttack });
      log(`  ε=${eps}: robust ${robust}/${n}`);
    }
    const sorted = Array.from(minimal).sort((a, b) => a - b);
    // Distribution-free 95% interval of the median: order statistics n/2 ± 1.96·√n/2.
    const lo = Math.max(0, Math.floor(n / 2 - 0.98 * Math.sqrt(n)));
    const hi = Math.min(n - 1, Math.ceil(n / 2 + 0.98 * Math.sqrt(n)));
    const med = n % 2 ? sorted[n >> 1]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
    const fin = (v: number) => (Number.isFinite(v) ? v : `> ${grid[grid.length - 1]}`);
    report[c.name] = { clean_accuracy: 1 - cleanWrong.reduce((s, v) => s + v, 0) / n, perEpsilon, median_min_perturbation: fin(med), median_interval95: [fin(sorted[lo]!), fin(sorted[hi]!)], min_perturbation: Array.from(minimal, fin) };
    writeJson('curve.json', report);
  }
  tf.dispose([x, y]);
}

// ---------------------------------------------------------------- attractor diagnostics
function mean(values: ArrayLike<number>, rows?: readonly number[]): number {
  const idx = rows ?? Array.from({ length: values.length }, (_, i) => i);
  return idx.reduce((s, i) => s + values[i]!, 0) / Math.max(1, idx.length);
}

function stageAttractor(): void {
  const { x, y, labels } = testBatch(examples);
  const report: Record<string, unknown> = { epsilon, examples, tolerance };
  const strongest = option('--strongest', 'unrolled+BPDA');
  for (const key of ['ep', 'bptt'] as const) {
    if (!only.includes(key)) continue;
    const model = loadEp(key.toUpperCase(), option(`--${key}`));
    const net = energyNet(model);
    log(`${model.name}: attractor diagnostics`);
    const clean = relaxationTrace(net, x);
    const uniqueness = attractorUniqueness(net, x, [0, 1], 3, 1e-2, makeRng(3));
    log(`  clean relaxation ${clean.steps} steps (${clean.stopped}); unique attractor for ${(100 * uniqueness.unique).toFixed(0)}% of ${examples} examples (3 random starts), class changes ${(100 * uniqueness.classChanges).toFixed(0)}%`);
    const classifier = epClassifier(model, strongest.includes('BPDA') ? 'straight-through' : 'exact');
    const gradient: GradientMode = strongest.startsWith('implicit') ? { kind: 'implicit' } : { kind: 'unrolled' };
    let adversarial: tf.Tensor | undefined;
    let fooled = new Uint8Array(0);
    attackOnce(strongest, attackModel(classifier, { gradient }), pgd({ steps: pgdSteps, loss: 'margin' }), x, y, new Uint8Array(examples), epsilon, 'attractor', (adv, f) => {
      adversarial = adv.clone();
      fooled = Uint8Array.from(f);
    });
    const adv = relaxationTrace(net, adversarial!, { reference: clean.state });
    const cleanAgain = relaxationTrace(net, x, { reference: clean.state });
    const basin = returnsToClean(net, x, clean.state, adv.state, 1e-2);
    const finalClean = clean.predicted[clean.predicted.length - 1]!;
    const correct = Array.from(labels.keys()).filter((i) => finalClean[i] === labels[i]);
    const broken = correct.filter((i) => fooled[i]);
    const survived = correct.filter((i) => !fooled[i]);
    const perStep = (trace: typeof clean, field: 'energy' | 'change' | 'distance', rows: number[]) => (trace[field] ?? []).map((r) => mean(r, rows));
    const accuracyPerStep = (trace: typeof clean, rows: number[]) => trace.predicted.map((p) => rows.filter((i) => p[i] === labels[i]).length / Math.max(1, rows.length));
    const pathExamples = broken.slice(0, 6);
    const ts = Array.from({ length: 11 }, (_, i) => i / 10);
    let along: ReturnType<typeof energyAlongPath> = [];
    if (pathExamples.length) {
      const idx = tf.tensor1d(pathExamples, 'int32');
      const xs = tf.gather(x, idx);
      const as = tf.gather(adversarial!, idx);
      idx.dispose();
      along = energyAlongPath(net, xs, as, Int32Array.from(pathExamples, (i) => labels[i]!), ts);
      tf.dispose([xs, as]);
    }
    const summary = {
      clean_steps: clean.steps,
      adversarial_steps: adv.steps,
      uniqueness: { starts: uniqueness.starts, unique_fraction: uniqueness.unique, class_changes: uniqueness.classChanges, median_max_distance: [...uniqueness.maxDistance].sort((a, b) => a - b)[uniqueness.maxDistance.length >> 1] },
      clean_correct: correct.length,
      broken: broken.length,
      basin: {
        broken_returning_to_clean_fixed_point: broken.filter((i) => basin.returned[i]).length,
        survived_returning_to_clean_fixed_point: survived.filter((i) => basin.returned[i]).length,
        survived: survived.length,
      },
      final_distance_to_clean_fixed_point: { broken: mean(adv.distance![adv.distance!.length - 1]!, broken), survived: mean(adv.distance![adv.distance!.length - 1]!, survived) },
      final_energy: { clean: mean(clean.energy[clean.energy.length - 1]!, correct), adversarial_broken: mean(adv.energy[adv.energy.length - 1]!, broken), adversarial_survived: mean(adv.energy[adv.energy.length - 1]!, survived) },
      per_step: {
        clean: { energy: perStep(clean, 'energy', correct), change: perStep(clean, 'change', correct), accuracy: accuracyPerStep(clean, correct), distance: perStep(cleanAgain, 'distance', correct) },
        adversarial_broken: { energy: perStep(adv, 'energy', broken), change: perStep(adv, 'change', broken), accuracy: accuracyPerStep(adv, broken), distance: perStep(adv, 'distance', broken) },
        adversarial_survived: { energy: perStep(adv, 'energy', survived), change: perStep(adv, 'change', survived), accuracy: accuracyPerStep(adv, survived), distance: perStep(adv, 'distance', survived) },
      },
      energy_along_path: along.map((p) => ({ t: p.t, steps: p.steps, energy: Array.from(p.energy), margin: Array.from(p.margin) })),
      path_examples: pathExamples,
    };
    report[model.name] = summary;
    const steps = (n: number) => Array.from({ length: n }, (_, i) => i);
    const pc = summary.per_step;
    const series = (name: string, values: number[]) => ({ name, x: steps(values.length), y: values });
    const dir = out;
    fs.writeFileSync(
      path.join(dir, `${key}-energy-per-step.svg`),
      renderFigureSvg({ kind: 'line', id: 'attractor-study', title: `${model.name} ${model.shape}: energy along the relaxation (ε = ${epsilon}, ${strongest})`, x: { label: 'step', integer: true }, y: { label: 'mean energy E(s_t)' }, series: [series('clean', pc.clean.energy), series('adversarial, broken', pc.adversarial_broken.energy), series('adversarial, survived', pc.adversarial_survived.energy)] }),
    );
    fs.writeFileSync(
      path.join(dir, `${key}-distance-per-step.svg`),
      renderFigureSvg({ kind: 'line', id: 'attractor-study', title: `${model.name}: distance to the clean fixed point s*(x) along the relaxation`, x: { label: 'step', integer: true }, y: { label: '‖s_t − s*(x)‖₂' }, series: [series('clean', pc.clean.distance), series('adversarial, broken', pc.adversarial_broken.distance), series('adversarial, survived', pc.adversarial_survived.distance)] }),
    );
    fs.writeFileSync(
      path.join(dir, `${key}-readout-per-step.svg`),
      renderFigureSvg({ kind: 'line', id: 'attractor-study', title: `${model.name}: readout accuracy at every step (clean-correct examples)`, x: { label: 'step', integer: true }, y: { label: 'accuracy', domain: [0, 1] }, series: [series('clean', pc.clean.accuracy), series('adversarial, broken', pc.adversarial_broken.accuracy), series('adversarial, survived', pc.adversarial_survived.accuracy)] }),
    );
    if (along.length) {
      fs.writeFileSync(
        path.join(dir, `${key}-energy-along-attack-path.svg`),
        renderFigureSvg({ kind: 'line', id: 'attractor-study', title: `${model.name}: energy at the fixed point reached from x + tδ (${pathExamples.length} broken examples)`, x: { label: 't' }, y: { label: 'E(s*(x + tδ))' }, series: pathExamples.map((ex, k) => ({ name: `test #${ex}`, x: ts, y: along.map((p) => p.energy[k]!) })) }),
      );
      fs.writeFileSync(
        path.join(dir, `${key}-margin-along-attack-path.svg`),
        renderFigureSvg({ kind: 'line', id: 'attractor-study', title: `${model.name}: readout margin at the fixed point from x + tδ (< 0: misclassified)`, x: { label: 't' }, y: { label: 'true − best other' }, series: pathExamples.map((ex, k) => ({ name: `test #${ex}`, x: ts, y: along.map((p) => p.margin[k]!) })) }),
      );
    }
    log(`  broken ${broken.length}/${correct.length}; broken returning to s*(x) under x: ${summary.basin.broken_returning_to_clean_fixed_point}; survived returning: ${summary.basin.survived_returning_to_clean_fixed_point}/${survived.length}`);
    tf.dispose([...clean.state, ...adv.state, ...cleanAgain.state, adversarial!]);
    writeJson('attractor.json', report);
  }
  tf.dispose([x, y]);
}

function stageClean(): void {
  const report: Record<string, unknown> = { tolerance, maxSteps, test_examples: data.test.count };
  for (const c of contenders()) {
    const start = performance.now();
    const { accuracy, steps } = accuracyOf(c.defender, data.test);
    report[c.name] = { test_accuracy: accuracy, steps_per_batch_of_500: steps, seconds: Number(((performance.now() - start) / 1000).toFixed(1)) };
    log(`${c.name}: test accuracy ${(100 * accuracy).toFixed(2)}%, steps to tolerance ${tolerance}: ${steps.join(', ')}`);
    if (c.cut) {
      const cut = accuracyOf(c.cut, data.test);
      (report[c.name] as Record<string, unknown>)[`cut_to_${cutSteps}_steps_accuracy`] = cut.accuracy;
    }
  }
  writeJson('clean.json', report);
}

const stages: Record<string, () => void | Promise<void>> = { ff: trainFf, clean: stageClean, modes: stageModes, curve: stageCurve, attractor: stageAttractor };
if (!stages[stage]) throw new Error(`stage must be one of ${Object.keys(stages).join(', ')}`);
await stages[stage]!();
log(`${stage} done`);
