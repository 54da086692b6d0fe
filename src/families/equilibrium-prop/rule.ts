/**
 * Equilibrium propagation as a learning rule (Scellier & Bengio 2017; Ernoult et al. 2019; Laborieux et al.
 * 2021; equations in reference/peers.md §4).
 *
 * Per batch: the free phase relaxes T1 steps from zeros (or from the example's persistent particle) with
 * β = 0 to s⁰; the nudged phase relaxes T2 steps from s⁰ with β to s^β; with symmetric nudging a third
 * phase relaxes T2 steps from s⁰ with −β to s^{−β}. The directions handed to the optimizer (which moves
 * against them) are Laborieux's `p.grad`, the gradient of (Φ(s₂, β₂) − Φ(s₁, β₁)) / (β₁ − β₂):
 *
 *   one-sided:  d = −(1/β) (∂Φ^β/∂θ(s^β) − ∂Φ⁰/∂θ(s⁰))
 *   symmetric:  d = −(1/(2β)) (∂Φ^β/∂θ(s^β) − ∂Φ^{−β}/∂θ(s^{−β}))
 *
 * Φ is averaged over the batch. For a layered network ∂Φ/∂W_n = u_{n−1}ᵀ u_n and ∂Φ/∂b_n = u_n: the
 * update is local, a difference of pre·post products between the phases. As β → 0, d tends to the gradient
 * of the output cost C at the free fixed point (the GDU property, checked in the tests against BPTT).
 *
 * Options:
 * - `random-sign`: β's sign is drawn per batch (Scellier & Bengio; Laborieux `--random-sign`), which removes
 *   the first-order bias of the one-sided estimate on average;
 * - persistent particles (Scellier & Bengio): each training example's free state is stored and is the
 *   next free phase's starting point;
 * - continual EP (Ernoult et al. 2020, "Continual weight updates and convergence of EP"): the weights move
 *   at every nudged step, θ_{t+1} = θ_t − η (−1/β)(∂Φ/∂θ(s_{t+1}) − ∂Φ/∂θ(s_t)), so the nudged dynamics
 *   see the changing weights. The directions returned are the sum of the per-step ones, so that plain SGD
 *   with the same rates η (no momentum) ends at the same weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchAccuracy } from '../../data/index.js';
import '../../tensor/gradients.js';
import { SpecError } from '../../base/errors.js';
import type { Rng } from '../../base/rng.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import { disposeTree, keepTree, type TensorTree } from '../../core/tree.js';
import { nudged, oneHotTargets, type EpInputBase, type EpOutput, type EpParams, type EpState, type EquilibriumNetwork, type EquilibriumPropSystem } from './system.js';
import type { ParticleStore } from './particles.js';
import type { ParamMap } from '../../learning/optimizers.js';
import type { Batch, LearningRule, RuleOutput } from '../../learning/rule.js';

export type Nudging = 'one-sided' | 'random-sign' | 'symmetric';

export interface EquilibriumPropRuleOptions {
  readonly system: EquilibriumNetwork<any, any>;
  /** T1. */
  readonly freeSteps: number;
  /** T2. */
  readonly nudgedSteps: number;
  /** |β|. */
  readonly beta: number;
  readonly nudging?: Nudging;
  /** Parameters to update (default all of the system's). */
  readonly modifies?: readonly string[];
  /** Reuse each example's last free state as its next starting point. */
  readonly particles?: ParticleStore;
  /** Continual EP with these per-parameter rates η (the optimizer must be plain SGD with the same rates). */
  readonly continual?: { readonly lr: Readonly<Record<string, number>> };
  /** Called after every relaxation step (e.g. to sample memory). */
  readonly onStep?: () => void;
}

/**
 * Batch mean of ∂Φ^β/∂θ at `state`, for the named parameters.
 *
 * A parameter Φ^β does not reach has a zero derivative, and that is not a fault: with the softmax readout
 * (`output: 'softmax-ce'`) the readout weights W_N, b_N enter Φ^β only through β·C, so ∂Φ⁰/∂W_N = 0 in the
 * free phase, and the one-sided direction for them is −(1/β) ∂Φ^β/∂W_N(s^β) = ∂C/∂W_N(s^β) (Laborieux's
 * code gets the same zero from autograd through a 0·C term). In a nudged phase Φ^β must reach every
 * parameter through C or the layer terms; a parameter it misses there is a wiring error and throws.
 */
export function primitiveGradient<S extends TensorTree, U extends EpInputBase>(
  system: EquilibriumNetwork<S, U>,
  state: S,
  input: U,
  params: EpParams,
  names: readonly string[],
): tf.Tensor[] {
  const xs = names.map((n) => params[n]!);
  const { value, grads } = tf.engine().gradients(
    () => {
      const p = { ...params, ...Object.fromEntries(names.map((n, i) => [n, xs[i]!])) };
      return tf.mean(system.primitive(state, input, p)) as tf.Scalar;
    },
    xs,
    undefined,
    true,
  );
  value.dispose();
  const nudgedPhase = input.beta !== undefined && input.target !== undefined;
  return (grads as (tf.Tensor | undefined)[]).map((g, i) => {
    if (g) return g;
    if (nudgedPhase) throw new Error(`internal error: Φ^β of ${system.kind} does not depend on ${names[i]} in a nudged phase`);
    return tf.zerosLike(xs[i]!);
  });
}

/** One phase's end state and its β (0 for the free phase). */
export interface ContrastPhase {
  readonly state: TensorTree;
  readonly beta: number;
}

/**
 * The EP directions −(∂Φ^{β₁}/∂θ(s₁) − ∂Φ^{β₂}/∂θ(s₂)) / (β₁ − β₂) for the named parameters: the
 * contrast of two phases (symmetric: +β and −β; one-sided: β and the free phase's 0).
 *
 * For the fully connected network in the primitive-map dynamics (u_n = s_n) it is computed in closed form,
 * each weight's contrast as ONE product. With B the batch, ∂Φ^β/∂W_n = u_{n-1}ᵀ u_n / B and
 * ∂Φ^β/∂b_n = Σ_rows u_n / B for the relaxing layers, so
 *
 *   W_1:  xᵀ (u₁⁽¹⁾ − u₁⁽²⁾) · c                      (x is the same in both phases)
 *   W_n:  [u_{n−1}⁽¹⁾; u_{n−1}⁽²⁾]ᵀ [u_n⁽¹⁾; −u_n⁽²⁾] · c  (the two phases stacked along the batch)
 *   b_n:  Σ_rows (u_n⁽¹⁾ − u_n⁽²⁾) · c
 *
 * with c = −1 / ((β₁ − β₂) B). With the softmax readout, W_N and b_N enter Φ^β only through −β C, whose
 * derivative is −β u_{N−1}ᵀ (softmax(z) − y) / B (z = u_{N−1} W_N + b_N), so their contrast is
 * [u_{N−1}⁽¹⁾; u_{N−1}⁽²⁾]ᵀ [−β₁ (p⁽¹⁾ − y); β₂ (p⁽²⁾ − y)] · c. Autodiff through Φ (primitiveGradient, the
 * oracle in the tests and the path every other network takes) recomputes x W₁ in each phase's forward pass
 * and takes xᵀ g in each backward pass: four products of W₁'s size per batch where this takes one.
 */
export function contrastDirections(
  system: EquilibriumNetwork<any, any>,
  params: EpParams,
  x: tf.Tensor,
  target: tf.Tensor2D,
  first: ContrastPhase,
  second: ContrastPhase,
  names: readonly string[],
): tf.Tensor[] {
  const layered = layeredNetwork(system);
  if (!layered) {
    const g1 = primitiveGradient(system, first.state, phaseInput(x, target, first.beta), params, names);
    const g2 = primitiveGradient(system, second.state, phaseInput(x, target, second.beta), params, names);
    return g1.map((g, i) => tf.mul(tf.sub(g, g2[i]!), -1 / (first.beta - second.beta)));
  }
  const { sizes, output } = layered;
  const N = sizes.length - 1;
  const free = output === 'mse' ? N : N - 1;
  const u1 = (first.state as EpState).layers, u2 = (second.state as EpState).layers;
  const c = -1 / ((first.beta - second.beta) * x.shape[0]!);
  // Per layer n ≤ free: (u_n⁽¹⁾ − u_n⁽²⁾) · c, shared by W_n's and b_n's contrasts.
  const scaledDifference = new Map<number, tf.Tensor>();
  const difference = (n: number) => scaledDifference.get(n) ?? scaledDifference.set(n, tf.mul(tf.sub(u1[n - 1]!, u2[n - 1]!), c)).get(n)!;
  let readoutTerms: { below: tf.Tensor; error: tf.Tensor } | undefined;
  const readout = () => {
    readoutTerms ??= (() => {
      const error = (u: readonly tf.Tensor[], beta: number) =>
        tf.mul(tf.sub(tf.softmax(tf.add(tf.matMul(u[free - 1]!, params[`W${N}`]!), params[`b${N}`]!)), target), -beta * c);
      return { below: tf.concat([u1[free - 1]!, u2[free - 1]!], 0), error: tf.concat([error(u1, first.beta), error(u2, -second.beta)], 0) };
    })();
    return readoutTerms;
  };
  return names.map((name) => {
    const n = Number(name.slice(1));
    const weight = name.startsWith('W');
    if (n > free) {
      const { below, error } = readout();
      return weight ? tf.matMul(below, error, true, false) : tf.sum(error, 0);
    }
    if (!weight) return tf.sum(difference(n), 0);
    if (n === 1) return tf.matMul(x, difference(1), true, false);
    const scale = tf.scalar(c);
    const below = tf.concat([u1[n - 2]!, u2[n - 2]!], 0);
    const above = tf.concat([tf.mul(u1[n - 1]!, scale), tf.mul(u2[n - 1]!, tf.neg(scale))], 0);
    return tf.matMul(below, above, true, false);
  });
}

/** A phase's input for Φ^β: x, and in a nudged phase the target and β. */
function phaseInput(x: tf.Tensor, target: tf.Tensor2D, beta: number): EpInputBase {
  return beta === 0 ? { x } : nudged({ x }, target, beta);
}

/** The fully connected network's options where its Φ^β has the closed-form contrast (primitive-map: u = s), else undefined. */
function layeredNetwork(system: EquilibriumNetwork<any, any>): { sizes: readonly number[]; output: EpOutput } | undefined {
  if (system.kind !== 'equilibrium-prop') return undefined;
  const options = (system as Partial<EquilibriumPropSystem>).options;
  if (!options || options.dynamics !== 'primitive-map') return undefined;
  return { sizes: options.sizes, output: options.output };
}

function checkOptions(o: EquilibriumPropRuleOptions): void {
  const positiveInt = (v: number, path: string) => {
    if (!(Number.isInteger(v) && v >= 1)) throw new SpecError(path, `must be a positive integer, got ${v}`);
  };
  positiveInt(o.freeSteps, 'job.freeSteps');
  positiveInt(o.nudgedSteps, 'job.nudgedSteps');
  if (!(o.beta > 0 && Number.isFinite(o.beta))) throw new SpecError('beta', `must be a positive number (the sign is set by 'nudging'), got ${o.beta}`);
  for (const n of o.modifies ?? []) {
    if (!o.system.paramNames.includes(n)) throw new SpecError('modifies', `${JSON.stringify(n)} is not a parameter of ${o.system.kind}; it has ${o.system.paramNames.join(', ')}`);
  }
  if (o.continual) {
    for (const n of o.modifies ?? o.system.paramNames) {
      if (!(n in o.continual.lr)) throw new SpecError('continual', `continual EP needs a learning rate for ${n}`);
    }
  }
}

export function equilibriumPropagation(options: EquilibriumPropRuleOptions): LearningRule<ParamMap> {
  checkOptions(options);
  const { system, particles } = options;
  const nudging = options.nudging ?? 'one-sided';
  const names = options.modifies ?? system.paramNames;
  const relax = <S extends TensorTree>(params: EpParams, input: EpInputBase, state0: S | undefined, steps: number) =>
    throwIfDiverged(
      simulate({
        system,
        params,
        input,
        maxSteps: steps,
        ...(state0 ? { state0 } : {}),
        // NaN/Inf are checked once, at the end: every check reads back from the backend and stalls it.
        checkEvery: steps,
        ...(options.onStep ? { onStep: () => options.onStep!() } : {}),
      }),
    );

  return Object.freeze({
    name: options.continual ? 'continual-equilibrium-propagation' : 'equilibrium-propagation',
    modifies: names,
    phases: nudging === 'symmetric' ? ['free', 'nudged+', 'nudged-'] : ['free', 'nudged'],
    directions(params: ParamMap, batch: Batch, rng: Rng): RuleOutput {
      if (!batch.y) throw new SpecError('data', 'equilibrium propagation needs class labels');
      if (particles && !batch.indices) throw new SpecError('particles', 'persistent particles need the example indices of each batch');
      const target = oneHotTargets(batch.y, system.classes);
      const input = system.prepare({ x: batch.x }, params);
      const start = particles ? particles.read(batch.indices!) : undefined;
      const free = relax(params, input, start, options.freeSteps);
      disposeTree(start);
      if (particles) particles.write(batch.indices!, free.state);
      const sign = nudging === 'random-sign' && rng.uniform() < 0.5 ? -1 : 1;
      const beta = sign * options.beta;
      const metrics = {
        cost: tf.mean(system.cost(free.state, { ...input, target }, params)) as tf.Scalar,
        accuracy: batchAccuracy(system.readout!(free.state, input, params), batch.y),
      };
      let directions: tf.Tensor[];
      if (options.continual) directions = continualNudgedPhase(options, names, params, input, target, beta, free.state);
      else {
        const plus = relax(params, nudged(input, target, beta), free.state, options.nudgedSteps);
        const other = nudging === 'symmetric' ? relax(params, nudged(input, target, -beta), free.state, options.nudgedSteps) : undefined;
        const first: ContrastPhase = { state: plus.state, beta };
        const second: ContrastPhase = other ? { state: other.state, beta: -beta } : { state: free.state, beta: 0 };
        directions = contrastDirections(system, params, batch.x, target, first, second, names);
        plus.dispose();
        other?.dispose();
      }
      free.dispose();
      return { directions: Object.fromEntries(names.map((n, i) => [n, directions[i]!])), metrics };
    },
  });
}

/**
 * The nudged phase of continual EP: one step at a time, the weights moving by η times the step's EP
 * direction before the next step. Returns the summed directions; the caller's tidy owns the tensors.
 */
function continualNudgedPhase(
  options: EquilibriumPropRuleOptions,
  names: readonly string[],
  params0: EpParams,
  input0: EpInputBase,
  target: tf.Tensor2D,
  beta: number,
  freeState: TensorTree,
): tf.Tensor[] {
  const { system } = options;
  const lr = options.continual!.lr;
  let params: EpParams = params0;
  let state: TensorTree = freeState;
  let total: tf.Tensor[] = names.map((n) => tf.zerosLike(params0[n]!));
  const raw = nudged({ x: input0.x }, target, beta);
  for (let t = 0; t < options.nudgedSteps; t++) {
    const input = system.prepare(raw, params);
    const solution = throwIfDiverged(simulate({ system, params, input, maxSteps: 1, state0: state, checkEvery: 1 }));
    const next = keepTree(solution.state);
    const before = primitiveGradient(system, state, raw, params, names);
    const after = primitiveGradient(system, next, raw, params, names);
    const step = after.map((g, i) => tf.mul(tf.sub(g, before[i]!), -1 / beta));
    total = total.map((s, i) => tf.add(s, step[i]!));
    params = { ...params, ...Object.fromEntries(names.map((n, i) => [n, tf.sub(params[n]!, tf.mul(step[i]!, lr[n]!))])) };
    if (state !== freeState) disposeTree(state);
    state = next;
    options.onStep?.();
  }
  if (state !== freeState) disposeTree(state);
  return total;
}
