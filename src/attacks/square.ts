/**
 * Square attack, L∞ (Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a query-efficient black-box
 * adversarial attack via random search", ECCV 2020, Algorithm 1 with the L∞ proposal distribution): a
 * gradient-free random search that uses only the defender's logits, so it is blind to how (or whether)
 * gradients flow through the dynamics. AutoAttack runs it with 5,000 queries and p_init = 0.8.
 *
 * Loss: the margin m(x) = z_y − max_{i≠y} z_i, minimised; an example is broken when m < 0.
 * Start: vertical stripes, x̂ = clip(x + ε·s_j) with one random sign s_j per column and channel.
 * Iteration i: a square window of side h_i = max(1, round(√(p_i · h · w))) (at most h − 1) at a random
 * position; inside it every channel is moved to x ± ε with one random sign per channel (x̂ + δ with
 * δ = ±2ε projected back onto the L∞ ball), then clipped to the input bounds. The proposal replaces x̂
 * where it lowers the margin. p_i halves on the schedule AutoAttack uses, written for 10,000 queries
 * and rescaled to the budget: p_init until query 10, then /2 up to 50, /4 up to 200, /8 up to 500,
 * /16 up to 1,000, /32 up to 2,000, /64 up to 4,000, /128 up to 6,000, /256 up to 8,000, /512 after.
 *
 * Every query of every still-unbroken example is one forward relaxation; examples leave as soon as they
 * are broken. Images are laid out as [height, width, channels] in the flattened input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';
import type { Attack, AttackRequest, AttackResult } from './attack.js';
import { attackLoss } from './losses.js';
import { checkPositiveInteger } from './pgd.js';

export interface SquareOptions {
  /** Queries per example (AutoAttack: 5,000). */
  readonly queries?: number;
  readonly pInit?: number;
}

const SCHEDULE: readonly [number, number][] = [
  [10, 1],
  [50, 2],
  [200, 4],
  [500, 8],
  [1000, 16],
  [2000, 32],
  [4000, 64],
  [6000, 128],
  [8000, 256],
];

/** Fraction of pixels changed at query `i` of a budget of `queries`. */
export function squareFraction(pInit: number, i: number, queries: number): number {
  const rescaled = Math.floor((i / queries) * 10000);
  for (const [until, divisor] of SCHEDULE) if (rescaled <= until) return pInit / divisor;
  return pInit / 512;
}

export function square(options: SquareOptions = {}): Attack {
  const queries = options.queries ?? 5000;
  const pInit = options.pInit ?? 0.8;
  checkPositiveInteger(queries, 'square.queries');
  if (!(pInit > 0 && pInit <= 1)) throw new SpecError('square.pInit', `must be in (0, 1], got ${pInit}`);
  return {
    name: 'square',
    access: 'gradient-free',
    run({ model, x, labels, threat, rng }: AttackRequest): AttackResult {
      if (threat.norm !== 'linf') throw new SpecError('--attacks', 'square is implemented for the linf threat model only; drop it or use --threat linf');
      const [h, w, c] = model.imageShape;
      const d = h * w * c;
      const n = x.shape[0]!;
      const [lo, hi] = threat.bounds;
      const clean = x.dataSync() as Float32Array;
      const epsOf = (i: number) => (typeof threat.epsilon === 'number' ? threat.epsilon : threat.epsilon[i]!);
      const labelValues = labels.dataSync();
      const margin = (points: Float32Array, rows: readonly number[]): Float32Array => {
        const input = tf.tensor(points, [rows.length, ...model.inputShape]);
        const rowLabels = tf.tensor1d(Int32Array.from(rows, (r) => labelValues[r]!), 'int32');
        const logits = model.logits(input);
        const m = attackLoss('margin', logits, rowLabels);
        const values = Float32Array.from(m.dataSync(), (v) => -v);
        tf.dispose([input, rowLabels, logits, m]);
        return values;
      };
      const clip = (v: number) => (v < lo ? lo : v > hi ? hi : v);
      // Start: vertical stripes.
      const best = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const eps = epsOf(i);
        for (let col = 0; col < w; col++) {
          for (let ch = 0; ch < c; ch++) {
            const sign = rng.uniform() < 0.5 ? -1 : 1;
            for (let row = 0; row < h; row++) {
              const j = i * d + (row * w + col) * c + ch;
              best[j] = clip(clean[j]! + sign * eps);
            }
          }
        }
      }
      const all = Array.from({ length: n }, (_, i) => i);
      const bestMargin = margin(best, all);
      // Examples already misclassified at the clean point keep the clean point.
      const cleanMargin = margin(clean, all);
      for (let i = 0; i < n; i++) {
        if (cleanMargin[i]! < 0 && !(bestMargin[i]! < cleanMargin[i]!)) {
          best.set(clean.subarray(i * d, (i + 1) * d), i * d);
          bestMargin[i] = cleanMargin[i]!;
        }
      }
      for (let q = 1; q < queries; q++) {
        const active = all.filter((i) => bestMargin[i]! >= 0);
        if (active.length === 0) break;
        const side = Math.min(Math.max(Math.round(Math.sqrt(squareFraction(pInit, q, queries) * h * w)), 1), Math.max(1, h - 1));
        const proposal = new Float32Array(active.length * d);
        active.forEach((i, k) => {
          const base = k * d;
          proposal.set(best.subarray(i * d, (i + 1) * d), base);
          const eps = epsOf(i);
          // Redraw until the window actually changes (it may already sit at the drawn corner of the ball).
          for (let attempt = 0; attempt < 10; attempt++) {
            const top = rng.int(h - side + 1);
            const left = rng.int(w - side + 1);
            let changed = false;
            for (let ch = 0; ch < c; ch++) {
              const sign = rng.uniform() < 0.5 ? -1 : 1;
              for (let row = top; row < top + side; row++) {
                for (let col = left; col < left + side; col++) {
                  const j = (row * w + col) * c + ch;
                  const value = clip(clean[i * d + j]! + sign * eps);
                  if (value !== proposal[base + j]) changed = true;
                  proposal[base + j] = value;
                }
              }
            }
            if (changed) break;
          }
        });
        const m = margin(proposal, active);
        active.forEach((i, k) => {
          if (m[k]! < bestMargin[i]!) {
            bestMargin[i] = m[k]!;
            best.set(proposal.subarray(k * d, (k + 1) * d), i * d);
          }
        });
      }
      return {
        adversarial: tf.tensor(best, x.shape),
        fooled: Uint8Array.from(bestMargin, (m) => (m < 0 ? 1 : 0)),
      };
    },
  };
}
