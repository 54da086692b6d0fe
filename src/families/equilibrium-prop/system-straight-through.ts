/**
 * Straight-through surrogates for clipped activations: BPDA (Athalye, Carlini & Wagner 2018, "Obfuscated
 * gradients give a false sense of security", §4.1) for the hard-sigmoid family of equilibrium-propagation
 * networks.
 *
 * A clip ρ(x) = clip(a·x, lo, hi) has derivative 0 wherever a unit saturates, so an attacker's gradient
 * through a relaxation whose units sit at 0 or 1 reaches x only through the few units in the linear part,
 * and may vanish. BPDA keeps the forward pass exactly (the defender's computation is unchanged) and
 * replaces the backward pass by a differentiable approximation of it: here the slope of the linear part,
 * ∂ρ/∂x ≈ a everywhere (the activation's own `derivative` on its box, which for the piecewise-linear
 * activations is that constant slope and for `sigmoid-4` the true derivative). So
 *
 *   forward  ρ_ST(x) = ρ(x),      backward  ∂ρ_ST/∂x := ρ'(x) with the clip ignored.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from './system-activations.js';

/**
 * 'straight-through' replaces the derivative of every clip; 'straight-through-output' only the output
 * layer's (an MSE output state), where a unit clipped at 0 whose target is 1 otherwise passes no gradient of
 * the cost (the BPTT baseline's stall); the hidden clips keep their exact derivative, so the gradient through
 * time stays the true, contracting one instead of the all-pass product that diverges.
 */
export type SurrogateGradient = 'exact' | 'straight-through' | 'straight-through-output';
export const SURROGATE_GRADIENTS: readonly SurrogateGradient[] = ['exact', 'straight-through', 'straight-through-output'];

export function straightThrough(rho: Activation): Activation {
  const apply = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return { value: rho.apply(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, rho.derivative(saved[0]!)) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
  return Object.freeze({ ...rho, apply });
}
