/**
 * How gradients are taken through a relaxation (diffrax calls this the adjoint). The same solve can be
 * differentiated in different ways; attacks and learning rules choose.
 *
 * - `none`        the solve is a constant to any enclosing gradient (nothing is recorded).
 * - `unrolled`    backpropagation through every step taken (BPTT); memory grows with the steps.
 * - `truncated`   backpropagation through the last `steps` steps only; earlier steps are constants.
 * - `implicit`    the implicit function theorem at the fixed point s* = F(s*, θ): the adjoint
 *                 w = v + (∂F/∂s)ᵀ w is solved by fixed-point iteration (v = ∂L/∂s*), then
 *                 ∂L/∂θ = (∂F/∂θ)ᵀ w. Memory is constant in the number of steps; exact only at a fixed point.
 */
import { SpecError } from '../base/errors.js';

export type GradientMode =
  | { readonly kind: 'none' }
  | { readonly kind: 'unrolled' }
  | { readonly kind: 'truncated'; readonly steps: number }
  | { readonly kind: 'implicit'; readonly tolerance?: number; readonly maxIterations?: number };

export const GRADIENT_MODE_SYNTAX = "'none', 'unrolled', 'truncated(K)' with K a positive integer, or 'implicit'";

/** Parses the spec/CLI spelling: `none`, `unrolled`, `truncated(5)`, `implicit`. */
export function parseGradientMode(text: string, path = 'gradient'): GradientMode {
  const s = text.trim();
  if (s === 'none' || s === 'unrolled' || s === 'implicit') return { kind: s };
  const m = /^truncated\((\d+)\)$/.exec(s);
  if (m && Number(m[1]) > 0) return { kind: 'truncated', steps: Number(m[1]) };
  throw new SpecError(path, `${JSON.stringify(text)} is not a gradient mode; allowed: ${GRADIENT_MODE_SYNTAX}`);
}

export function formatGradientMode(mode: GradientMode): string {
  return mode.kind === 'truncated' ? `truncated(${mode.steps})` : mode.kind;
}
