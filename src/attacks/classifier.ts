/**
 * A classifier computed by dynamics: an input x is turned into the system's input, the system relaxes with
 * simulate() using the model's own number of steps, tolerance and readout, and the readout becomes class
 * scores (logits). A feed-forward net is the degenerate case with no relaxation.
 *
 * Attacks never see the system: they see a differentiable function of x (through `run` with a chosen
 * gradient mode, which is simulate()'s `gradient`) plus a threat model. `run` can also record the
 * trajectory: logits after every step (differentiable in the `unrolled` mode, for losses on intermediate
 * states Σ_t w_t L(z_t)), the energy at every step, and the fixed-point residual at the end, which the
 * attractor diagnostics use.
 *
 * One file per family under `src/attacks/models/` adapts a trained model to this interface.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { GradientMode } from '../core/gradient-mode.js';
import type { ConvergeCondition } from '../core/simulate.js';
import type { Rng } from '../base/rng.js';
import type { Probe } from '../core/probes.js';

/** The model's own relaxation settings (what the defender runs). */
export interface Relaxation {
  readonly maxSteps: number;
  /** Stop early on this condition (undefined: always run maxSteps). */
  readonly converge?: ConvergeCondition;
}

export interface ClassifierRunRequest {
  /** How gradients are taken through the relaxation (default none). */
  readonly gradient?: GradientMode;
  /** Override the model's relaxation (an attacker that unrolls a different number of steps). */
  readonly relaxation?: Relaxation;
  /** Record the logits after every step (the initial state is record 0); differentiable when unrolled. */
  readonly stepLogits?: boolean;
  /** Record the per-example energy after every step (constants), for systems that have one. */
  readonly energy?: boolean;
  /** Compute the relative fixed-point residual ‖F(s) − s‖ / ‖s‖ at the final state (one extra step). */
  readonly residual?: boolean;
  /** Randomness of a stochastic model (noise in the dynamics); ignored by deterministic ones. */
  readonly rng?: Rng;
  /** Probes to record along the relaxation (constants), returned in `traces` under their names. */
  readonly probes?: readonly Probe[];
}

export interface StepRecord<T extends tf.Tensor> {
  /** [records, batch, ...]: one record per step index in `steps`. */
  readonly values: T;
  readonly steps: readonly number[];
}

export interface ClassifierRun {
  /** Class scores [batch, classes] at the end of the relaxation. */
  readonly logits: tf.Tensor2D;
  readonly stepLogits?: StepRecord<tf.Tensor3D>;
  readonly energy?: StepRecord<tf.Tensor2D>;
  /** Per-example ‖F(s*) − s*‖ / ‖s*‖ (for continuous systems F is one integrator step). */
  readonly residual?: Float32Array;
  /** The requested probes' records, [records, batch, ...] with their step indices (classifiers that relax through simulate()). */
  readonly traces?: Readonly<Record<string, StepRecord<tf.Tensor>>>;
  /** Steps taken (0 for a feed-forward net). */
  readonly steps: number;
  /** 'converged', 'max-steps', 'diverged', or 'feed-forward'. */
  readonly stopped: string;
  /** Frees every tensor of the run (the logits too). */
  dispose(): void;
}

export interface DynamicsClassifier {
  readonly name: string;
  /** The registry kind of the system (or 'feed-forward'). */
  readonly family: string;
  readonly classes: number;
  /** Shape of one example as the model takes it, e.g. [784]. */
  readonly inputShape: readonly number[];
  /** [height, width, channels] of one example, for attacks that act on image patches (Square). */
  readonly imageShape: readonly [number, number, number];
  /** Valid input range. */
  readonly bounds: readonly [number, number];
  /** The defender's relaxation; undefined for a feed-forward net. */
  readonly relaxation?: Relaxation;
  /** Whether the forward pass is random (then attacks should use EOT). */
  readonly stochastic: boolean;
  readonly hasEnergy: boolean;
  run(x: tf.Tensor, request?: ClassifierRunRequest): ClassifierRun;
  /** Frees the model's parameters. */
  dispose(): void;
}
