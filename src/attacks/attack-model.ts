/**
 * What an attack sees of a model: the defender's logits at any input, and the gradient of a per-example
 * loss with respect to the input *as the attacker computes it*. The two differ only where the evaluation
 * says so:
 *
 * - `gradient`      the core's gradient mode through the relaxation: `unrolled` (BPTT over the steps the
 *                   model actually takes, the exact gradient of the computation that is run), `truncated(k)`,
 *                   `implicit` (the implicit function theorem at the fixed point, exact only there) or `none`
 *                   (a zero gradient: only useful to show what a masked gradient looks like).
 * - `relaxation`    the attacker unrolls a different number of steps or tolerance than the defender runs
 *                   (1 step = "first pass only", the CNN-F `forward_adv` evaluation, a transfer attack in
 *                   effect); success is always judged on the defender's own relaxation.
 * - `stepWeighting` a loss on intermediate states Σ_t w_t L(z_t) over the logits after every step
 *                   t = 1..T (Yang, Pang & Liu, NeurIPS 2022, attack DEQs through their early states):
 *                   `final` (w_T = 1), `uniform` (w_t = 1/T) or `linear` (w_t ∝ t). Needs `unrolled`.
 *
 * Where the attacker's forward pass is the defender's (no relaxation override), the logits that come with
 * the gradient are the defender's logits at that point, so best-iterate tracking costs no extra relaxation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import { formatGradientMode, type GradientMode } from '../core/gradient-mode.js';
import type { Rng } from '../base/rng.js';
import type { DynamicsClassifier, Relaxation } from './classifier.js';
import { attackLoss, type LossKind } from './losses.js';

export type StepWeighting = 'final' | 'uniform' | 'linear';
export const STEP_WEIGHTINGS: readonly StepWeighting[] = ['final', 'uniform', 'linear'];

export interface GradientSettings {
  readonly gradient: GradientMode;
  readonly relaxation?: Relaxation;
  readonly stepWeighting?: StepWeighting;
}

export interface AttackModel {
  readonly description: string;
  readonly classes: number;
  readonly inputShape: readonly number[];
  readonly imageShape: readonly [number, number, number];
  readonly bounds: readonly [number, number];
  /** The defender's logits at x ([batch, classes]), a constant. */
  logits(x: tf.Tensor, rng?: Rng): tf.Tensor2D;
  /** ∂(Σ_examples loss)/∂x as the attacker computes it, and the defender's logits at x. */
  gradient(x: tf.Tensor, labels: tf.Tensor1D, loss: LossKind, rng?: Rng): { gradient: tf.Tensor; logits: tf.Tensor2D };
  /** Examples relaxed so far: forward-only, and with a backward pass. */
  readonly usage: { forward: number; backward: number };
}

function stepWeights(steps: readonly number[], weighting: StepWeighting): number[] {
  const raw = steps.map((t) => (t === 0 ? 0 : weighting === 'uniform' ? 1 : t));
  const total = raw.reduce((a, b) => a + b, 0);
  if (total === 0) return raw.map((_, i) => (i === raw.length - 1 ? 1 : 0));
  return raw.map((w) => w / total);
}

export function attackModel(classifier: DynamicsClassifier, settings: GradientSettings): AttackModel {
  const weighting = settings.stepWeighting ?? 'final';
  if (weighting !== 'final' && settings.gradient.kind !== 'unrolled') {
    throw new SpecError(
      '--step-weighting',
      `a loss on intermediate states (${weighting}) needs the unrolled gradient (intermediate states carry no gradient under ${formatGradientMode(settings.gradient)}); use --gradient unrolled or --step-weighting final`,
    );
  }
  const sameForward = settings.relaxation === undefined && !classifier.stochastic;
  const usage = { forward: 0, backward: 0 };
  const relaxed = settings.relaxation ? `, attacker relaxes ${settings.relaxation.maxSteps} steps` : '';
  const logits = (x: tf.Tensor, rng?: Rng): tf.Tensor2D => {
    usage.forward += x.shape[0]!;
    const run = classifier.run(x, { gradient: { kind: 'none' }, ...(rng ? { rng } : {}) });
    const out = run.logits.clone();
    run.dispose();
    return out;
  };
  return {
    description: `${classifier.name} (gradient ${formatGradientMode(settings.gradient)}${weighting !== 'final' ? `, ${weighting} weights on intermediate states` : ''}${relaxed})`,
    classes: classifier.classes,
    inputShape: classifier.inputShape,
    imageShape: classifier.imageShape,
    bounds: classifier.bounds,
    usage,
    logits,
    gradient(x, labels, loss, rng) {
      usage.backward += x.shape[0]!;
      const result = tf.tidy(() => {
        let captured: tf.Tensor2D | undefined;
        const { value, grads } = tf.engine().gradients(
          () => {
            const run = classifier.run(x, {
              gradient: settings.gradient,
              ...(settings.relaxation ? { relaxation: settings.relaxation } : {}),
              stepLogits: weighting !== 'final',
              ...(rng ? { rng } : {}),
            });
            // tfjs runs the forward function in its own tidy scope: keep the logits out of it.
            captured = tf.keep(run.logits.clone());
            let total: tf.Scalar;
            if (weighting === 'final' || !run.stepLogits) total = tf.sum(attackLoss(loss, run.logits, labels));
            else {
              const { values, steps } = run.stepLogits;
              const w = stepWeights(steps, weighting);
              const perStep = steps.map((_, i) => (w[i]! === 0 ? tf.scalar(0) : tf.mul(tf.sum(attackLoss(loss, tf.squeeze(tf.slice(values, [i, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D, labels)), w[i]!)));
              total = tf.addN(perStep) as tf.Scalar;
            }
            run.dispose();
            return total;
          },
          [x],
          undefined,
          true,
        );
        value.dispose();
        const gradient = grads[0] ?? tf.zerosLike(x);
        return { gradient, logits: captured! };
      });
      if (sameForward) return result;
      result.logits.dispose();
      return { gradient: result.gradient, logits: logits(x, rng) };
    },
  };
}
