import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../../src/base/rng.js';
import { simulate } from '../../../src/core/simulate.js';
import { loadDataset, subset, toTensors } from '../../../src/data/index.js';
import { bpttThroughFreePhase } from '../../../src/families/equilibrium-prop/bptt-rule.js';
import { createParticleStore } from '../../../src/families/equilibrium-prop/particles.js';
import { equilibriumPropagation, primitiveGradient } from '../../../src/families/equilibrium-prop/rule.js';
import { sgd } from '../../../src/learning/optimizers.js';
import { memoryMeter } from '../../../src/learning/memory-meter.js';
import { buildRule } from '../../../src/families/equilibrium-prop/training.js';
import { withSurrogateGradient } from '../../../src/families/equilibrium-prop/surrogate-variant.js';
import { train } from '../../../src/learning/train.js';
import { equilibriumProp, nudged, oneHotTargets, type EpParams, type EpState } from '../../../src/families/equilibrium-prop/system.js';
import { useBackend } from '../../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function mnistBatch(count: number, offset = 0): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const { x, y } = toTensors(subset(loadDataset('mnist-embedded').train, offset, count), { layout: 'flat' });
  return { x: x as tf.Tensor2D, y: y as tf.Tensor1D };
}

/** ‖a − b‖ / ‖b‖ and the fraction of entries where |b| > 10⁻³ max|b| whose signs agree. */
function compare(a: tf.Tensor, b: tf.Tensor): { relative: number; signs: number } {
  return tf.tidy(() => {
    const norm = tf.norm(b).dataSync()[0]!;
    const relative = norm === 0 ? tf.norm(a).dataSync()[0]! : tf.norm(tf.sub(a, b)).dataSync()[0]! / norm;
    const mask = tf.greater(tf.abs(b), tf.mul(tf.max(tf.abs(b)), 1e-3));
    const counted = tf.sum(tf.cast(mask, 'float32')).dataSync()[0]!;
    const agree = tf.sum(tf.cast(tf.logicalAnd(mask, tf.equal(tf.sign(a), tf.sign(b))), 'float32')).dataSync()[0]!;
    return { relative, signs: counted === 0 ? 1 : agree / counted };
  });
}

describe('GDU check (Ernoult et al. 2019) on 784-512-10: EP updates per nudged step against BPTT gradients', () => {
  const sizes = [784, 512, 10];
  const system = equilibriumProp({ sizes, init: 'torch-default' });
  const names = system.paramNames;
  const K = 10;
  let params: EpParams;
  let batch: { x: tf.Tensor2D; y: tf.Tensor1D };
  let target: tf.Tensor2D;
  let fixedPoint: EpState;
  /** bptt[t-1][i]: gradient of the mean cost through the last t steps from the free fixed point. */
  const bptt: tf.Tensor[][] = [];

  beforeAll(() => {
    params = system.initParams(makeRng(0));
    batch = mnistBatch(4);
    target = oneHotTargets(batch.y, 10);
    const free = simulate({ system, params, input: system.prepare({ x: batch.x }, params), maxSteps: 500, converge: { tolerance: 1e-7 } });
    expect(free.stopped, free.message).toBe('converged');
    fixedPoint = free.state;
    const xs = names.map((n) => params[n]!);
    for (let t = 1; t <= K; t++) {
      const { value, grads } = tf.engine().gradients(
        () => {
          const p = Object.fromEntries(names.map((n, i) => [n, xs[i]!]));
          const sol = simulate({ system, params: p, input: system.prepare({ x: batch.x }, p), maxSteps: t, state0: fixedPoint, gradient: { kind: 'unrolled' } });
          const loss = tf.mean(system.cost(sol.state, { x: batch.x, target }, p)) as tf.Scalar;
          sol.dispose();
          return loss;
        },
        xs,
        undefined,
        true,
      );
      value.dispose();
      // No path yet from a parameter to the output in the first steps: its gradient is zero.
      bptt.push((grads as (tf.Tensor | undefined)[]).map((g, i) => g ?? tf.zerosLike(xs[i]!)));
    }
  }, 60_000);

  afterAll(() => {
    tf.dispose([...Object.values(params), batch.x, batch.y, target, ...fixedPoint.layers, ...bptt.flat()]);
  });

  /** Per nudged step t = 1..K, the EP update (cumulative) against BPTT over the last t steps, per parameter. */
  function gdu(beta: number, symmetric: boolean): { relative: number; signs: number }[][] {
    const rows: { relative: number; signs: number }[][] = [];
    let plus: EpState = fixedPoint;
    let minus: EpState = fixedPoint;
    const free = tf.tidy(() => primitiveGradient(system, fixedPoint, { x: batch.x }, params, names));
    const advance = (state: EpState, b: number): EpState => {
      const input = tf.tidy(() => system.prepare(nudged({ x: batch.x }, target, b), params));
      const sol = simulate({ system, params, input, maxSteps: 1, state0: state });
      tf.dispose([input.drive!, input.beta!]);
      if (state !== fixedPoint) tf.dispose(state.layers as tf.Tensor[]);
      return sol.state;
    };
    for (let t = 1; t <= K; t++) {
      plus = advance(plus, beta);
      if (symmetric) minus = advance(minus, -beta);
      rows.push(
        tf.tidy(() => {
          const gPlus = primitiveGradient(system, plus, nudged({ x: batch.x }, target, beta), params, names);
          const ep = symmetric
            ? gPlus.map((g, i) => tf.mul(tf.sub(g, primitiveGradient(system, minus, nudged({ x: batch.x }, target, -beta), params, names)[i]!), -1 / (2 * beta)))
            : gPlus.map((g, i) => tf.mul(tf.sub(g, free[i]!), -1 / beta));
          return ep.map((e, i) => compare(e, bptt[t - 1]![i]!));
        }),
      );
    }
    tf.dispose([...free, ...(plus !== fixedPoint ? plus.layers : []), ...(minus !== fixedPoint ? minus.layers : [])]);
    return rows;
  }

  const worst = (rows: { relative: number; signs: number }[][]) => ({
    relative: Math.max(...rows.flat().map((r) => r.relative)),
    signs: Math.min(...rows.flat().map((r) => r.signs)),
  });

  it('matches step by step for small β (relative RMSE < 2%, signs agree), and the error vanishes as β → 0', () => {
    const before = tf.memory().numTensors;
    const results: Record<string, { relative: number; signs: number }> = {};
    for (const beta of [0.1, 0.01, 0.001]) {
      for (const symmetric of [false, true]) {
        const rows = gdu(beta, symmetric);
        results[`${symmetric ? 'symmetric' : 'one-sided'} β=${beta}`] = worst(rows);
        if (beta === 0.01 && !symmetric) {
          // The table Ernoult et al. plot: per step t, per parameter, relative RMSE and sign agreement.
          console.info(`GDU, one-sided β=0.01:\n${rows.map((r, t) => `  t=${t + 1} ${r.map((c, i) => `${names[i]} ${(100 * c.relative).toFixed(2)}% ${(100 * c.signs).toFixed(1)}%`).join('  ')}`).join('\n')}`);
        }
      }
    }
    console.info(`GDU worst case over steps and parameters (relative RMSE, sign agreement):\n${Object.entries(results).map(([k, v]) => `  ${k}: ${(100 * v.relative).toFixed(3)}%  ${(100 * v.signs).toFixed(2)}%`).join('\n')}`);
    expect(results['one-sided β=0.01']!.relative).toBeLessThan(0.02);
    expect(results['one-sided β=0.01']!.signs).toBeGreaterThan(0.99);
    expect(results['symmetric β=0.01']!.relative).toBeLessThan(results['one-sided β=0.01']!.relative);
    for (const kind of ['one-sided', 'symmetric']) {
      expect(results[`${kind} β=0.01`]!.relative).toBeLessThan(results[`${kind} β=0.1`]!.relative);
      expect(results[`${kind} β=0.001`]!.relative).toBeLessThan(results[`${kind} β=0.01`]!.relative);
    }
    // One-sided EP is first order in β: ten times smaller β, about ten times smaller error.
    expect(results['one-sided β=0.001']!.relative).toBeLessThan(0.25 * results['one-sided β=0.01']!.relative);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});

describe('EP learning rule', () => {
  const sizes = [784, 64, 10];
  const system = equilibriumProp({ sizes, init: 'torch-default' });

  it('one-sided, symmetric and random-sign directions agree with the BPTT gradient for small β; no tensor is left', () => {
    const params = system.initParams(makeRng(1));
    const { x, y } = mnistBatch(8, 100);
    const before = tf.memory().numTensors;
    const rng = makeRng(2);
    const bptt = bpttThroughFreePhase({ system, freeSteps: 60 });
    const reference = tf.tidy(() => bptt.directions(params, { x, y }, rng).directions);
    for (const nudging of ['one-sided', 'symmetric', 'random-sign'] as const) {
      const rule = equilibriumPropagation({ system, freeSteps: 60, nudgedSteps: 30, beta: 0.005, nudging });
      expect(rule.phases).toEqual(nudging === 'symmetric' ? ['free', 'nudged+', 'nudged-'] : ['free', 'nudged']);
      for (let i = 0; i < 3; i++) {
        const fit = tf.tidy(() => {
          const out = rule.directions(params, { x, y }, rng.split(`batch-${i}`));
          return system.paramNames.map((n) => compare(out.directions[n]!, reference[n]!));
        });
        for (const c of fit) {
          expect(c.relative).toBeLessThan(0.05);
          expect(c.signs).toBeGreaterThan(0.98);
        }
      }
    }
    tf.dispose(Object.values(reference));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(params), x, y]);
  }, 30_000);

  it('continual EP: with a vanishing rate its summed updates are the one-sided EP update (the sum telescopes)', () => {
    const params = system.initParams(makeRng(3));
    const { x, y } = mnistBatch(6, 200);
    const lrOf = (lr: number) => Object.fromEntries(system.paramNames.map((n) => [n, lr]));
    const common = { system, freeSteps: 40, nudgedSteps: 8, beta: 0.2 };
    const plain = tf.tidy(() => equilibriumPropagation(common).directions(params, { x, y }, makeRng(0)).directions);
    const tiny = tf.tidy(() => equilibriumPropagation({ ...common, continual: { lr: lrOf(1e-9) } }).directions(params, { x, y }, makeRng(0)).directions);
    const large = tf.tidy(() => equilibriumPropagation({ ...common, continual: { lr: lrOf(0.5) } }).directions(params, { x, y }, makeRng(0)).directions);
    for (const n of system.paramNames) {
      expect(compare(tiny[n]!, plain[n]!).relative).toBeLessThan(1e-3);
      // A real rate changes the nudged trajectory, so the updates differ: the option does something.
      expect(compare(large[n]!, plain[n]!).relative).toBeGreaterThan(1e-3);
    }
    tf.dispose([...Object.values(plain), ...Object.values(tiny), ...Object.values(large), ...Object.values(params), x, y]);
    expect(() => equilibriumPropagation({ ...common, continual: { lr: { W1: 0.1 } } })).toThrow(/^continual: continual EP needs a learning rate for b1/);
  }, 30_000);

  it('persistent particles: the free phase starts where the example last relaxed to', () => {
    const params = system.initParams(makeRng(4));
    const { x, y } = mnistBatch(5, 300);
    const indices = Int32Array.from([7, 3, 0, 9, 4]);
    const store = createParticleStore(10, { layers: [tf.zeros([1, 64]), tf.zeros([1, 10])] });
    const rule = equilibriumPropagation({ system, freeSteps: 3, nudgedSteps: 2, beta: 0.5, particles: store });
    tf.tidy(() => rule.directions(params, { x, y, indices }, makeRng(0)).directions);
    // Three more steps from the stored state equal six steps from zeros.
    tf.tidy(() => rule.directions(params, { x, y, indices }, makeRng(0)).directions);
    const six = simulate({ system, params, input: system.prepare({ x }, params), maxSteps: 6 });
    const stored = store.read(indices) as EpState;
    stored.layers.forEach((s, i) => expect(tf.max(tf.abs(tf.sub(s, six.state.layers[i]!))).dataSync()[0]).toBeLessThan(1e-5));
    // Examples never seen are still at zero.
    expect(store.data[0]!.subarray(64, 128).every((v) => v === 0)).toBe(true);
    six.dispose();
    tf.dispose([...stored.layers, ...Object.values(params), x, y]);
    expect(() => rule.directions(params, { x, y }, makeRng(0))).toThrow(/persistent particles need the example indices/);
  }, 30_000);

  it('EP and BPTT both train 784-64-10: past 60% test accuracy after one epoch on 2000 embedded MNIST digits (chance: 10%)', async () => {
    const { train: trainSet, test } = loadDataset('mnist-embedded');
    const accuracyOf = (p: EpParams) =>
      tf.tidy(() => {
        const { x, y } = toTensors(subset(test, 0, 500), { layout: 'flat' });
        const sol = simulate({ system, params: p, input: system.prepare({ x: x as tf.Tensor2D }, p), maxSteps: 20 });
        const acc = tf.mean(tf.cast(tf.equal(tf.argMax(system.readout!(sol.state, { x: x as tf.Tensor2D }, p), 1), y), 'float32')).dataSync()[0]!;
        sol.dispose();
        return acc;
      });
    for (const rule of [equilibriumPropagation({ system, freeSteps: 20, nudgedSteps: 4, beta: 0.5, nudging: 'random-sign' }), bpttThroughFreePhase({ system, freeSteps: 20 })]) {
      const lr = { W1: 0.02, b1: 0.02, W2: 0.01, b2: 0.01 };
      const result = await train({ params: system.initParams(makeRng(5)), rule, optimizer: sgd({ lr, momentum: 0.9 }), data: trainSet, layout: 'flat', batchSize: 20, epochs: 1, limit: 2000, rng: makeRng(6) });
      expect(accuracyOf(result.params), rule.name).toBeGreaterThan(0.6);
      tf.dispose([...Object.values(result.params), ...Object.values(result.state.slots).flatMap((s) => Object.values(s))]);
    }
  }, 60_000);
});

describe('EP with the softmax readout (output: softmax-ce), every nudging mode', () => {
  // Φ⁰ does not reach the readout weights W_N, b_N (they enter Φ^β only through β·C): the free-phase term of
  // the one-sided and random-sign directions is zero for them, not an error.
  const system = equilibriumProp({ sizes: [784, 48, 10], output: 'softmax-ce', init: 'torch-default' });

  it('directions equal the BPTT gradient through the free phase for small β, readout weights included', () => {
    const params = system.initParams(makeRng(11));
    const { x, y } = mnistBatch(8, 400);
    const before = tf.memory().numTensors;
    const rng = makeRng(12);
    const reference = tf.tidy(() => bpttThroughFreePhase({ system, freeSteps: 60 }).directions(params, { x, y }, rng).directions);
    for (const name of ['W2', 'b2']) expect(tf.tidy(() => tf.norm(reference[name]!).dataSync()[0])).toBeGreaterThan(1e-4);
    for (const nudging of ['one-sided', 'random-sign', 'symmetric'] as const) {
      const rule = equilibriumPropagation({ system, freeSteps: 60, nudgedSteps: 30, beta: 0.001, nudging });
      // Random-sign draws β's sign per batch: four batches see both signs (checked below).
      const w1: number[] = [];
      for (let i = 0; i < (nudging === 'random-sign' ? 4 : 1); i++) {
        const fit = tf.tidy(() => {
          const out = rule.directions(params, { x, y }, rng.split(`${nudging}-${i}`));
          w1.push(tf.sum(out.directions.W1!).dataSync()[0]!);
          return system.paramNames.map((n) => compare(out.directions[n]!, reference[n]!));
        });
        console.info(`softmax-ce ${nudging} batch ${i}: ${fit.map((c, k) => `${system.paramNames[k]} ${(100 * c.relative).toFixed(3)}% ${(100 * c.signs).toFixed(1)}%`).join('  ')}`);
        fit.forEach((c, k) => {
          expect(c.relative, `${nudging} ${system.paramNames[k]}`).toBeLessThan(0.01);
          expect(c.signs, `${nudging} ${system.paramNames[k]}`).toBeGreaterThan(0.99);
        });
      }
      // +β and −β give directions that differ at first order in β: two distinct values mean both signs ran.
      if (nudging === 'random-sign') expect(new Set(w1).size).toBe(2);
    }
    tf.dispose(Object.values(reference));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(params), x, y]);
  }, 60_000);

  it('trains a few batches in each nudging mode: the cost on the trained batches falls, no tensor is left', async () => {
    const { train: trainSet } = loadDataset('mnist-embedded');
    const { x, y } = mnistBatch(100, 0);
    const target = oneHotTargets(y, 10);
    const costOf = (p: EpParams) =>
      tf.tidy(() => {
        const sol = simulate({ system, params: p, input: system.prepare({ x }, p), maxSteps: 20 });
        const c = tf.mean(system.cost(sol.state, { x, target }, p)).dataSync()[0]!;
        sol.dispose();
        return c;
      });
    for (const nudging of ['one-sided', 'random-sign', 'symmetric'] as const) {
      const init = system.initParams(makeRng(13));
      const before = tf.memory().numTensors;
      const rule = equilibriumPropagation({ system, freeSteps: 20, nudgedSteps: 6, beta: 0.3, nudging });
      const lr = { W1: 0.05, b1: 0.05, W2: 0.02, b2: 0.02 };
      // train() takes ownership of the parameters it starts from.
      const start = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, t.clone()]));
      const result = await train({ params: start, rule, optimizer: sgd({ lr }), data: trainSet, layout: 'flat', batchSize: 20, epochs: 1, limit: 100, rng: makeRng(14) });
      expect(costOf(result.params), nudging).toBeLessThan(costOf(init));
      // The readout weights moved too (their free-phase term is zero, the nudged one is not).
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(result.params.W2!, init.W2!))).dataSync()[0]), nudging).toBeGreaterThan(0);
      tf.dispose([...Object.values(result.params), ...Object.values(result.state.slots).flatMap((s) => Object.values(s))]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(Object.values(init));
    }
    tf.dispose([x, y, target]);
  }, 60_000);
});

describe("the job's surrogateGradient reaches the BPTT rule (buildRule)", () => {
  // An output state whose units start clipped: the exact BPTT gradient of the MSE cost cannot reach b2 through
  // an output unit stuck at 0, the straight-through-output one can. buildRule once ignored every value but
  // 'straight-through', so a spec asking for 'straight-through-output' trained with exact gradients.
  const system = equilibriumProp({ sizes: [784, 32, 10], output: 'mse', init: 'torch-default' });
  const options = { rule: 'bptt', nudgedSteps: 4, beta: 0.5, nudging: 'symmetric', optimizer: { kind: 'sgd', lr: [0.1, 0.05] }, batchSize: 8, epochs: 1 } as const;

  it("'straight-through-output' gives the straight-through network's BPTT gradient, not the exact one; no option gives the exact one", () => {
    const raw = system.initParams(makeRng(21));
    // Biases of −1 at the output push every output pre-activation below 0: all ten units clipped at 0.
    const params = { ...raw, b2: tf.fill([10], -1) } as EpParams;
    const { x, y } = mnistBatch(8, 600);
    const before = tf.memory().numTensors;
    const meter = memoryMeter();
    const directionsOf = (rule: ReturnType<typeof buildRule>) => tf.tidy(() => rule.directions(params, { x, y }, makeRng(3)).directions.b2!.arraySync() as number[]);
    const viaJob = directionsOf(buildRule(system, 'bptt', { ...options, surrogateGradient: 'straight-through-output' } as never, 20, meter, undefined));
    const viaNetwork = directionsOf(bpttThroughFreePhase({ system: withSurrogateGradient(system, 'straight-through-output'), freeSteps: 20 }));
    const exactViaJob = directionsOf(buildRule(system, 'bptt', options as never, 20, meter, undefined));
    const exact = directionsOf(bpttThroughFreePhase({ system, freeSteps: 20 }));
    expect(viaJob).toEqual(viaNetwork);
    expect(exactViaJob).toEqual(exact);
    // Exact: no gradient reaches b2 through the clipped outputs; straight-through: every unit whose class is
    // in the batch (target 1 against a state of 0) gets one.
    expect(Math.max(...exact.map(Math.abs))).toBe(0);
    const present = new Set(Array.from(y.dataSync()));
    expect(present.size).toBeGreaterThan(1);
    for (const k of present) expect(Math.abs(viaJob[k]!), `class ${k}`).toBeGreaterThan(1e-3);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, ...Object.values(params), raw.b2!]);
  });
});
