/**
 * Predictive coding as a learning rule (Whittington & Bogacz 2017; PCX's supervised schedule; Torch2PC's
 * fixed-prediction form; Song et al. 2020's zero-divergence inference learning). Per batch:
 *
 * 1. forward initialisation: z_l = ū_l, the feedforward predictions, so every hidden error is 0;
 * 2. the output is clamped by β C(u_L, y) (β = 1: a hard clamp; 0 < β < 1: nudging);
 * 3. T inference steps of the network's own dynamics (z ← z − γ ∂F/∂z, or an integrator on the flow);
 * 4. the direction of θ is the local weight gradient ∂F/∂θ at the final state, averaged over the batch and
 *    divided by β (PCX), handed to the optimizer like any other rule's.
 *
 * Schedules:
 * - `strict`: predictions and slopes follow the relaxing states (the approximate, "prospective" regime);
 * - `fpa`: the fixed-prediction assumption; with γ = 1 and T ≥ L − 1 the directions are backprop's
 *   gradient of the batch-mean C exactly (Millidge et al. 2020; Rosenbaum 2022);
 * - `z-il`: strict dynamics with γ = 1, but W_l, b_l take their gradient at inference step t = L − l (the
 *   moment the error front reaches layer l while layer l − 1 is still at its feedforward value): also exact
 *   backprop (Song et al. 2020, "Can the brain do backpropagation? Exact implementation of backpropagation
 *   in predictive coding networks", NeurIPS). T is then L − 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import type { Integrator } from '../../core/integrators/integrator.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import type { ParamMap } from '../../learning/optimizers.js';
import type { Batch, LearningRule, RuleOutput } from '../../learning/rule.js';
import { clamped, oneHot, type PcFlow, type PcInput, type PcNetwork, type PcState } from './system-pc.js';

export const PC_SCHEDULES = ['strict', 'fpa', 'z-il'] as const;
export type PcSchedule = (typeof PC_SCHEDULES)[number];

export interface PcRuleOptions {
  readonly system: PcNetwork | PcFlow;
  readonly schedule: PcSchedule;
  /** T, inference steps per batch (ignored by z-il, which takes L − 1). */
  readonly steps: number;
  /** β of the output clamp (default 1). */
  readonly beta?: number;
  /** For the flow: the integrator and its dt (default Euler, dt 0.1). */
  readonly integrator?: Integrator;
  readonly dt?: number;
  /** Called after every inference step. */
  readonly onStep?: () => void;
}

function checkOptions(o: PcRuleOptions): void {
  if (!(PC_SCHEDULES as readonly string[]).includes(o.schedule)) throw new SpecError('job.schedule', `unknown schedule ${JSON.stringify(o.schedule)}; allowed: ${PC_SCHEDULES.join(', ')}`);
  if (o.schedule !== 'z-il' && !(Number.isInteger(o.steps) && o.steps >= 1)) throw new SpecError('job.steps', `must be a positive integer, got ${o.steps}`);
  if ((o.beta ?? 1) === 0 || !Number.isFinite(o.beta ?? 1)) throw new SpecError('job.beta', `must be a finite nonzero number (the weight step is divided by it), got ${o.beta}`);
  if (o.schedule === 'z-il' && (o.system.time !== 'discrete' || o.system.options.stateStep !== 1)) {
    throw new SpecError('system.stateStep', `z-il needs the discrete map with state step γ = 1 (Song et al. 2020), got ${o.system.time === 'discrete' ? `γ = ${o.system.options.stateStep}` : 'the continuous flow'}`);
  }
}

export function predictiveCodingRule(options: PcRuleOptions): LearningRule<ParamMap> {
  checkOptions(options);
  const { system } = options;
  const beta = options.beta ?? 1;
  const L = system.depth;
  const relax = (params: ParamMap, input: PcInput, state0: PcState, steps: number) =>
    throwIfDiverged(
      simulate({
        system,
        params,
        input,
        state0,
        maxSteps: steps,
        checkEvery: steps,
        ...(system.time === 'continuous' ? { ...(options.integrator ? { integrator: options.integrator } : {}), dt: options.dt ?? 0.1 } : {}),
        ...(options.onStep ? { onStep: () => options.onStep!() } : {}),
      }),
    );
  const scaled = (grads: Record<string, tf.Tensor>, n: number) => Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.div(g, n * beta)]));

  return Object.freeze({
    name: `predictive-coding-${options.schedule}`,
    modifies: system.paramNames,
    phases: ['clamped'],
    directions(params: ParamMap, batch: Batch): RuleOutput {
      if (!batch.y) throw new SpecError('data', 'supervised predictive coding needs class labels');
      const x = batch.x as tf.Tensor2D;
      const n = x.shape[0];
      const target = oneHot(batch.y, system.classes);
      const forward = system.forward(x, params);
      const logits = forward[L - 1]!;
      const metrics = {
        loss: tf.mean(system.cost(logits, target)) as tf.Scalar,
        accuracy: tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y), 'float32')) as tf.Scalar,
      };
      const input = clamped(x, target, beta, options.schedule === 'fpa' ? forward : undefined);
      const start: PcState = { layers: forward.slice(0, L - 1) };
      if (options.schedule !== 'z-il') {
        const solution = relax(params, input, start, options.steps);
        const directions = scaled(system.weightGradients(solution.state, input, params), n);
        const energy = tf.mean(system.energy!(solution.state, input, params)) as tf.Scalar;
        solution.dispose();
        return { directions, metrics: { ...metrics, energy } };
      }
      // Z-IL: layer l's gradient is read at step L − l; one step at a time, from the output down.
      const directions: Record<string, tf.Tensor> = {};
      let state = start;
      let previous: { dispose(): void } | undefined;
      for (let t = 0; t < L; t++) {
        const l = L - t;
        const grads = system.weightGradients(state, input, params);
        directions[`W${l}`] = tf.div(grads[`W${l}`]!, n * beta);
        directions[`b${l}`] = tf.div(grads[`b${l}`]!, n * beta);
        if (t === L - 1) break;
        const solution = relax(params, input, state, 1);
        previous?.dispose();
        previous = solution;
        state = solution.state;
      }
      const energy = tf.mean(system.energy!(state, input, params)) as tf.Scalar;
      previous?.dispose();
      return { directions, metrics: { ...metrics, energy } };
    },
  });
}
