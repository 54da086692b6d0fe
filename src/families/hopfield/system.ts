/**
 * Continuous Hopfield network (Hopfield 1984, "Neurons with graded response have collective computational
 * properties like those of two-state neurons", PNAS 81:3088). The reference system that proves the core:
 * it has an energy that provably never increases along its flow.
 *
 * State u (membrane potentials, [batch, n]); output V = g(u) = tanh(gain · u). With R = 1 and C = τ:
 *
 *   τ du/dt = -u + W V + b + I
 *
 * where W is symmetric ([n, n], `params.weights`), b a bias (`params.bias`) and I an external current
 * (`cueCurrent` × the cue). The energy (Hopfield's eq. 7, with a = gain · u):
 *
 *   E = -½ Vᵀ W V - (b + I)ᵀ V + Σ_i ∫₀^{V_i} g⁻¹(v) dv,   ∫₀^{tanh a} g⁻¹(v) dv = (a tanh a - ln cosh a) / gain
 *
 * satisfies dE/dt = -τ Σ_i g'(u_i) (du_i/dt)² ≤ 0 for symmetric W, so every trajectory descends E to a
 * fixed point. (The integral is written in terms of a rather than V so that it stays finite when
 * tanh rounds to ±1 in float32.) The relaxation starts at the cue: V(0) = 0.9 · clip(cue, -1, 1).
 *
 * Patterns ξ ∈ {-1, +1}ⁿ are stored with `storePatterns`: the Hebbian outer-product rule
 * W = (1/n) Σ ξξᵀ (zero diagonal), or the projection (pseudo-inverse) rule W = Ξᵀ (Ξ Ξᵀ)⁻¹ Ξ
 * (Personnaz et al. 1985), which makes every stored pattern an eigenvector of W with eigenvalue 1 even when
 * the patterns are correlated, as MNIST class prototypes are.
 */
import * as tf from '@tensorflow/tfjs-core';
import { countNonzero } from '../../core/count-nonzero.js';
import { SpecError } from '../../base/errors.js';
import type { ContinuousSystem } from '../../core/system.js';

export interface HopfieldOptions {
  /** Number of neurons n. */
  readonly size: number;
  /** Slope of tanh at 0 (β). Stored patterns are stable attractors for gain > 1 under the projection rule. */
  readonly gain?: number;
  /** Time constant τ (in the same unit as dt). */
  readonly tau?: number;
  /** Strength of the external current I = cueCurrent · cue held during the relaxation (0: cue sets only the start). */
  readonly cueCurrent?: number;
}

export type HopfieldState = { readonly u: tf.Tensor2D };
export type HopfieldParams = { readonly weights: tf.Tensor2D; readonly bias: tf.Tensor1D };
export type HopfieldInput = { readonly cue: tf.Tensor2D };

export type HopfieldSystem = ContinuousSystem<HopfieldState, HopfieldParams, HopfieldInput> & { readonly options: Required<HopfieldOptions> };

/** ln cosh a, computed without overflow: |a| + log1p(e^{-2|a|}) - ln 2. */
function logCosh(a: tf.Tensor): tf.Tensor {
  const abs = tf.abs(a);
  return tf.sub(tf.add(abs, tf.log1p(tf.exp(tf.mul(abs, -2)))), Math.LN2);
}

export function hopfield(options: HopfieldOptions): HopfieldSystem {
  const o: Required<HopfieldOptions> = Object.freeze({ gain: 4, tau: 1, cueCurrent: 0, ...options });
  if (!(Number.isInteger(o.size) && o.size > 0)) throw new SpecError('size', `must be a positive integer, got ${o.size}`);
  if (!(o.gain > 0)) throw new SpecError('gain', `must be positive, got ${o.gain}`);
  if (!(o.tau > 0)) throw new SpecError('tau', `must be positive, got ${o.tau}`);
  const output = (u: tf.Tensor) => tf.tanh(tf.mul(u, o.gain));
  const drive = (input: HopfieldInput, params: HopfieldParams) => (o.cueCurrent === 0 ? params.bias : tf.add(params.bias, tf.mul(input.cue, o.cueCurrent)));
  return Object.freeze({
    kind: 'hopfield',
    time: 'continuous',
    options: o,
    initState(input: HopfieldInput): HopfieldState {
      const v0 = tf.mul(tf.clipByValue(input.cue, -1, 1), 0.9);
      // u = atanh(v) / gain, with atanh(v) = ½ ln((1 + v) / (1 - v)).
      const u = tf.div(tf.mul(tf.log(tf.div(tf.add(1, v0), tf.sub(1, v0))), 0.5), o.gain) as tf.Tensor2D;
      return { u };
    },
    vectorField(_t: number, state: HopfieldState, input: HopfieldInput, params: HopfieldParams): HopfieldState {
      const v = output(state.u);
      const du = tf.div(tf.add(tf.sub(tf.matMul(v, params.weights), state.u), drive(input, params)), o.tau) as tf.Tensor2D;
      return { u: du };
    },
    decay: () => ({ u: 1 / o.tau }),
    energy(state: HopfieldState, input: HopfieldInput, params: HopfieldParams): tf.Tensor1D {
      const a = tf.mul(state.u, o.gain);
      const v = tf.tanh(a);
      const quadratic = tf.mul(tf.sum(tf.mul(tf.matMul(v, params.weights), v), 1), -0.5);
      const linear = tf.neg(tf.sum(tf.mul(v, drive(input, params)), 1));
      const leak = tf.div(tf.sum(tf.sub(tf.mul(a, v), logCosh(a)), 1), o.gain);
      return tf.add(tf.add(quadratic, linear), leak) as tf.Tensor1D;
    },
    readout: (state: HopfieldState) => output(state.u),
    counts(_previous: HopfieldState, next: HopfieldState) {
      const [batch, n] = next.u.shape;
      // Dense synaptic operations of W V, and the graded events (nonzero outputs) that drive them.
      // tanh(g·u) ≠ 0 exactly when u ≠ 0, so the count reads u and does not recompute the tanh (which
      // cost about a third of a step and put event counting far above its 10% budget).
      const active = countNonzero(next.u);
      return {
        recurrent: {
          macs: tf.scalar(batch * n * n),
          effective_macs: tf.mul(active, n) as tf.Scalar,
          events: active,
          neuron_updates: tf.scalar(batch * n),
        },
      };
    },
  } satisfies HopfieldSystem);
}

/** Stores ±1 patterns ([p, n]) in a weight matrix. */
export function storePatterns(patterns: tf.Tensor2D, rule: 'hebbian' | 'projection' = 'projection'): HopfieldParams {
  const [p, n] = patterns.shape;
  return tf.tidy(() => {
    let weights: tf.Tensor2D;
    if (rule === 'hebbian') {
      const outer = tf.div(tf.matMul(patterns, patterns, true, false), n) as tf.Tensor2D;
      weights = tf.sub(outer, tf.mul(tf.eye(n), outer)) as tf.Tensor2D;
    } else {
      const gram = tf.matMul(patterns, patterns, false, true).arraySync() as number[][];
      const inverse = tf.tensor2d(invertSymmetric(gram, p));
      weights = tf.matMul(tf.matMul(patterns, inverse, true, false), patterns) as tf.Tensor2D;
    }
    return { weights, bias: tf.zeros([n]) as tf.Tensor1D };
  });
}

/** Gauss-Jordan inverse in float64 (p is the number of patterns, small). */
function invertSymmetric(matrix: number[][], p: number): number[][] {
  const a = matrix.map((row, i) => [...row, ...Array.from({ length: p }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    if (Math.abs(a[pivot]![col]!) < 1e-9) throw new SpecError('patterns', 'the stored patterns are linearly dependent; the projection rule needs independent patterns (use hebbian)');
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const div = a[col]![col]!;
    for (let j = 0; j < 2 * p; j++) a[col]![j]! /= div;
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const f = a[r]![col]!;
      if (f !== 0) for (let j = 0; j < 2 * p; j++) a[r]![j]! -= f * a[col]![j]!;
    }
  }
  return a.map((row) => row.slice(p));
}
