/**
 * The activations ρ of equilibrium-propagation networks (Laborieux et al. 2021, model_utils.py; Ernoult et
 * al. 2019, netClasses.py; Scellier & Bengio 2017):
 *
 * - `hard-sigmoid`           ρ(x) = clip(x, 0, 1)                      (Scellier & Bengio; Ernoult P-conv)
 * - `half-hard-sigmoid`      ρ(x) = (1 + hardtanh(x − 1)) / 2 = clip(x/2, 0, 1)   (Laborieux `my_hard_sig`, CIFAR)
 * - `centered-hard-sigmoid`  ρ(x) = hardtanh(2x) / 2 = clip(x, −½, ½)  (Laborieux `ctrd_hard_sig`)
 * - `sigmoid-4`              ρ(x) = sigmoid(4(x − ½))                  (Laborieux `mysig`, Ernoult's default, MNIST)
 *
 * `box` is the interval the state lives in under the energy-descent (projected Euler) dynamics, and
 * `derivative` is ρ' there: for the piecewise-linear ones the slope of the linear part, which is ρ' on the
 * whole box (so a unit sitting on the edge of the box can still be pulled back inside, as in Scellier's
 * code, where the state is clipped rather than ρ'-gated).
 */
import * as tf from '@tensorflow/tfjs-core';

export const ACTIVATION_NAMES = ['hard-sigmoid', 'half-hard-sigmoid', 'centered-hard-sigmoid', 'sigmoid-4'] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export interface Activation {
  readonly name: ActivationName;
  apply(x: tf.Tensor): tf.Tensor;
  /** ρ'(s) for s in `box`. */
  derivative(s: tf.Tensor): tf.Tensor;
  /** [low, high]: where the state of the energy-descent dynamics is clipped to. */
  readonly box: readonly [number, number];
  /** Set where ρ is exactly clip(·, low, high): the primitive-map step can then use the fused layer (tensor/fused-steps.ts). */
  readonly clip?: readonly [number, number];
}

const ACTIVATIONS: Readonly<Record<ActivationName, Activation>> = Object.freeze({
  'hard-sigmoid': {
    name: 'hard-sigmoid',
    apply: (x: tf.Tensor) => tf.clipByValue(x, 0, 1),
    derivative: (s: tf.Tensor) => tf.onesLike(s),
    box: [0, 1] as const,
    clip: [0, 1] as const,
  },
  'half-hard-sigmoid': {
    name: 'half-hard-sigmoid',
    apply: (x: tf.Tensor) => tf.clipByValue(tf.mul(x, 0.5), 0, 1),
    derivative: (s: tf.Tensor) => tf.fill(s.shape, 0.5),
    box: [0, 2] as const,
  },
  'centered-hard-sigmoid': {
    name: 'centered-hard-sigmoid',
    apply: (x: tf.Tensor) => tf.clipByValue(x, -0.5, 0.5),
    derivative: (s: tf.Tensor) => tf.onesLike(s),
    box: [-0.5, 0.5] as const,
    clip: [-0.5, 0.5] as const,
  },
  'sigmoid-4': {
    name: 'sigmoid-4',
    apply: (x: tf.Tensor) => tf.sigmoid(tf.mul(tf.sub(x, 0.5), 4)),
    derivative: (s: tf.Tensor) => {
      const r = tf.sigmoid(tf.mul(tf.sub(s, 0.5), 4));
      return tf.mul(tf.mul(r, tf.sub(1, r)), 4);
    },
    box: [0, 1] as const,
  },
});

export function activation(name: ActivationName): Activation {
  return ACTIVATIONS[name];
}
