/**
 * One CNN-F inference as training, evaluation and attacks need it: the first pass (the system's initial
 * state), then `cycles` steps through simulate(), with the logits of every pass and the reconstruction of
 * every cycle recorded when asked for (differentiable under the `unrolled` gradient, so a loss on every
 * cycle reaches the parameters and the input through the whole loop). Zero cycles is the plain CNN: the
 * first pass alone, without simulate().
 *
 * Pure tensor function: the caller's tidy scope owns what it returns.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientMode } from '../../core/gradient-mode.js';
import { simulate } from '../../core/simulate.js';
import { throwIfDiverged } from '../../core/solution.js';
import type { Probe } from '../../core/probes.js';
import type { CnnfParams, CnnfSystem, CnnfReadout } from './system.js';

export interface CyclesRequest {
  readonly gradient?: GradientMode;
  /** Record the logits of every pass ([cycles + 1, batch, classes]). */
  readonly passes?: boolean;
  /** Record the reconstruction of every cycle ([cycles, batch, ...h]). */
  readonly recons?: boolean;
  /** Record the residual and reconstruction error of every cycle ([cycles, batch]). */
  readonly diagnostics?: boolean;
  /** Override the system's readout. */
  readonly readout?: CnnfReadout;
}

export interface CyclesResult {
  /** The scored class scores: the last pass's logits or the mean of every pass's. */
  readonly scores: tf.Tensor2D;
  /** Logits of the first pass. */
  readonly first: tf.Tensor2D;
  /** Features at `ind` of the first pass. */
  readonly h0: tf.Tensor;
  readonly passes?: tf.Tensor3D;
  readonly recons?: tf.Tensor;
  readonly residual?: tf.Tensor2D;
  readonly reconError?: tf.Tensor2D;
}

const dropFirst = (t: tf.Tensor) => tf.slice(t, [1], [t.shape[0]! - 1]);

export function runCycles(system: CnnfSystem, params: CnnfParams, x: tf.Tensor, cycles: number, request: CyclesRequest = {}): CyclesResult {
  const images = x.rank === 4 ? x : tf.reshape(x, [x.shape[0]!, ...system.options.inputShape]);
  const input = { x: images };
  const start = system.initState(input, params);
  const readout = request.readout ?? system.options.readout;
  if (cycles === 0) {
    return {
      scores: start.logits,
      first: start.logits,
      h0: start.h,
      ...(request.passes ? { passes: tf.expandDims(start.logits, 0) as tf.Tensor3D } : {}),
    };
  }
  const differentiable = request.gradient?.kind === 'unrolled';
  const probes: Probe[] = [];
  if (request.passes) probes.push({ variable: 'logits', differentiable });
  if (request.recons) probes.push({ variable: 'recon', differentiable });
  if (request.diagnostics) probes.push({ variable: 'residual' }, { variable: 'reconError' });
  const solution = throwIfDiverged(simulate({ system, params, input, state0: start, maxSteps: cycles, probes, checkEvery: cycles, gradient: request.gradient ?? { kind: 'none' } }));
  const state = solution.state;
  const scores = (readout === 'last' ? state.logits : state.logitsMean).clone();
  const t = solution.traces;
  const out: CyclesResult = {
    scores,
    first: start.logits,
    h0: start.h,
    ...(t.logits ? { passes: t.logits.values.clone() as tf.Tensor3D } : {}),
    ...(t.recon ? { recons: dropFirst(t.recon.values) } : {}),
    ...(t.residual ? { residual: dropFirst(t.residual.values) as tf.Tensor2D } : {}),
    ...(t.reconError ? { reconError: dropFirst(t.reconError.values) as tf.Tensor2D } : {}),
  };
  solution.dispose();
  return out;
}
