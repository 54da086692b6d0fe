/**
 * Implicit differentiation at the fixed point. The forward solve runs with the tape paused; the fixed
 * point is then passed through a `customGrad` whose backward pass solves the adjoint equation
 * w = v + (∂F/∂s)ᵀ w by fixed-point iteration and returns (∂F/∂θ)ᵀ w for every input and parameter leaf.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withIsolatedTape, withTapePaused } from '../../tensor/engine.js';
import type { GradientMode } from '../gradient-mode.js';
import type { Integrator } from '../integrators/integrator.js';
import type { SimulateRequest } from '../simulate.js';
import { runLoop, type StepLoopResult } from '../step-loop.js';
import { disposeTree, fromTensors, keepTree, leaves, tensorsOf, type TensorTree } from '../tree.js';

export function solveImplicit<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  req: SimulateRequest<S, P, U>,
  integrator: Integrator,
  mode: Extract<GradientMode, { kind: 'implicit' }>,
  start: S,
  record: (state: S, step: number, final: boolean) => void,
  countStep: ((previous: S, next: S) => void) | undefined,
): StepLoopResult<S> {
  const needsPrevious = req.converge !== undefined && (req.converge.on ?? 'state') === 'state';
  const ring: S[] | undefined = needsPrevious ? [] : undefined;
  let result: StepLoopResult<S>;
  try {
    result = withTapePaused(() => runLoop(req, integrator, start, record, countStep, ring, 1));
  } finally {
    for (const s of ring ?? []) disposeTree(s);
  }
  if (result.stopped === 'diverged') return result;

  const fixedPoint = result.state;
  const stateLeaves = leaves(fixedPoint);
  const inputLeaves = tensorsOf(req.input);
  const paramLeaves = tensorsOf(req.params);
  const thetas = [...inputLeaves, ...paramLeaves];
  const dt = req.dt ?? 1;
  const t = (req.t0 ?? 0) + result.steps * dt;
  const k = result.steps;
  const tolerance = mode.tolerance ?? req.converge?.tolerance ?? 1e-6;
  const maxIterations = mode.maxIterations ?? req.maxSteps;
  const F = (s: S, theta: readonly tf.Tensor[]): S =>
    integrator.step(
      req.system,
      t,
      dt,
      s,
      fromTensors(req.input, theta.slice(0, inputLeaves.length)),
      fromTensors(req.params, theta.slice(inputLeaves.length)),
      k,
    );
  const dot = (a: S, w: readonly tf.Tensor[]) => tf.addN(leaves(a).map((l, i) => tf.sum(tf.mul(l.tensor, w[i]!))));
  const gradientsOf = (f: () => tf.Scalar, xs: tf.Tensor[]) =>
    (tf.engine().gradients(f, xs, undefined, true).grads as (tf.Tensor | undefined)[]).map((g, i) => g ?? tf.zerosLike(xs[i]!));

  const stateCount = stateLeaves.length;
  const flat = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // The backward pass runs after the enclosing forward scope has ended, so everything it reads (the fixed
    // point and the input and parameter values) is saved through tfjs, which keeps copies until it is done.
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([...stateLeaves.map((l) => l.tensor), ...thetas]);
    const value = tf.concat(stateLeaves.map((l) => tf.reshape(l.tensor, [-1])));
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      withIsolatedTape(() => {
        const sStar = fromTensors(fixedPoint, saved.slice(0, stateCount));
        const thetaStar = saved.slice(stateCount);
        const v = unflatten(dy, stateLeaves);
        let w = v.map((x) => tf.keep(x.clone()));
        for (let it = 0; it < maxIterations; it++) {
          const wPrev = w;
          const next = tf.tidy(() => {
            const sVars = tensorsOf(sStar).map((x) => x.clone());
            const jtw = gradientsOf(() => dot(F(fromTensors(fixedPoint, sVars), thetaStar), wPrev) as tf.Scalar, sVars);
            return v.map((vi, i) => tf.add(vi, jtw[i]!));
          });
          const stats = tf.tidy(() => {
            const c = tf.max(tf.stack(next.map((n, i) => tf.max(tf.abs(tf.sub(n, wPrev[i]!))))));
            const m = tf.max(tf.stack(next.map((n) => tf.max(tf.abs(n)))));
            return tf.stack([c, m]);
          });
          const [change, scale] = stats.dataSync();
          stats.dispose();
          w = next.map((x) => tf.keep(x));
          tf.dispose(wPrev);
          if (change! <= tolerance * Math.max(1, scale!)) break;
        }
        const grads = tf.tidy(() => {
          const thetaVars = thetaStar.map((x) => x.clone());
          return gradientsOf(() => dot(F(sStar, thetaVars), w) as tf.Scalar, thetaVars);
        });
        tf.dispose(w);
        tf.dispose(v);
        return grads;
      });
    return { value, gradFunc };
  });
  const attached = tf.tidy(() => {
    return fromTensors(fixedPoint, unflatten(flat(...thetas), stateLeaves)) as tf.TensorContainer;
  }) as unknown as S;
  keepTree(attached);
  disposeTree(fixedPoint);
  return { ...result, state: attached };
}

/** Cuts a flat vector into tensors shaped like `like` (slices rather than split: tfjs's SplitV gradient fails for one part). */
function unflatten(flat: tf.Tensor, like: readonly { tensor: tf.Tensor }[]): tf.Tensor[] {
  let offset = 0;
  return like.map(({ tensor }) => {
    const part = tf.reshape(tf.slice(flat, [offset], [tensor.size]), tensor.shape);
    offset += tensor.size;
    return part;
  });
}
