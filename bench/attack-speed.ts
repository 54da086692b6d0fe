/**
 * Attack throughput through the dynamics: examples per second for PGD-40 (L∞) through the 20-step free
 * phase of the EP 784-500-10 network (hard-sigmoid, synchronous map), batch 64, unrolled gradient, with
 * the attack machinery of src/attacks (gradient through simulate(), projection, best-iterate tracking).
 * The same computation per PGD step as WORKLOADS.md's bptt_ep_fc (gradient of CE(y_T) w.r.t. x through
 * 20 unrolled steps), so PyTorch's time for PGD-40 on 64 examples is about 40 × its bptt_ep_fc time.
 *
 *   npx vite-node bench/attack-speed.ts [--backend wasm] [--model <ep run folder>] [--recompute-drive]
 *
 * By default the bottom-up drive x W₁ + b₁ is computed once per relaxation (the EP system's
 * `prepare`, differentiable in x), as training and the `attack` command do; `--recompute-drive`
 * recomputes it at every step, which is bptt_ep_fc's definition (and torch_reference.py's), for a
 * like-for-like comparison.
 *
 * Two measurements: `full-work` uses ε = 0 and the network's own predictions as labels, so no example is
 * ever broken and all 64 examples take all 40 steps (the throughput of the inner loop); `as-run` attacks
 * at ε = 0.1, where broken examples leave the batch (what an evaluation costs). Median of 3 repeats after
 * one warm-up.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeRng, randomNormal, randomUniform } from '../src/base/rng.js';
import { attackModel } from '../src/attacks/attack-model.js';
import { relaxationClassifier } from '../src/attacks/models/relaxation-classifier.js';
import { pgd } from '../src/attacks/pgd.js';
import { equilibriumProp } from '../src/families/equilibrium-prop/system.js';
import { loadModel } from '../src/runs/model-store.js';
import { useBackend } from '../src/tensor/index.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const backend = await useBackend(option('--backend') ?? 'wasm');
const modelDir = option('--model');
const recompute = args.includes('--recompute-drive');
const rng = makeRng(0);
const system = equilibriumProp({ sizes: [784, 500, 10], activation: 'hard-sigmoid', output: 'mse', dynamics: 'primitive-map' });
const params = modelDir
  ? (loadModel(modelDir).params as Record<string, tf.Tensor>)
  : { W1: randomNormal(rng, [784, 500], 0.05), b1: randomNormal(rng, [500], 0.01), W2: randomNormal(rng, [500, 10], 0.05), b2: randomNormal(rng, [10], 0.01) };
const classifier = relaxationClassifier({
  name: 'ep 784-500-10',
  family: 'equilibrium-prop',
  system,
  params,
  classes: 10,
  imageShape: [28, 28, 1],
  relaxation: { maxSteps: 20, checkEvery: 20 },
  toInput: (x) => (recompute ? { x: x as tf.Tensor2D } : system.prepare({ x: x as tf.Tensor2D }, params)),
  logitsOf: (r) => r as tf.Tensor2D,
});
const model = attackModel(classifier, { gradient: { kind: 'unrolled' } });
const x = randomUniform(rng, [64, 784]);
const predicted = tf.tidy(() => tf.argMax(model.logits(x), 1)) as tf.Tensor1D;
const attack = pgd({ steps: 40 });
const time = (epsilon: number) => {
  const samples: number[] = [];
  for (let r = 0; r < 4; r++) {
    const began = performance.now();
    const result = attack.run({ model, x, labels: predicted, threat: { norm: 'linf', epsilon, bounds: [0, 1] }, rng: makeRng(r) });
    result.adversarial.dataSync();
    const seconds = (performance.now() - began) / 1000;
    result.adversarial.dispose();
    if (r > 0) samples.push(seconds);
  }
  samples.sort((a, b) => a - b);
  return samples[1]!;
};
const full = time(0);
const asRun = time(0.1);
console.log(
  JSON.stringify({
    workload: 'pgd40_through_ep_fc_T20',
    drive: recompute ? 'recomputed every step (bptt_ep_fc definition)' : 'computed once per relaxation',
    backend,
    model: modelDir ?? 'random weights (bench draws)',
    batch: 64,
    full_work_seconds: Number(full.toFixed(3)),
    full_work_examples_per_second: Number((64 / full).toFixed(2)),
    ms_per_pgd_step: Number(((1000 * full) / 40).toFixed(1)),
    as_run_eps_0_1_seconds: Number(asRun.toFixed(3)),
    as_run_examples_per_second: Number((64 / asRun).toFixed(2)),
  }),
);
tf.dispose([x, predicted]);
classifier.dispose();
